"""PostgreSQL and Redis servers that a test owns, so that it may stop, kill and restart
them: never the shared servers other test runs use.

`ThrowawayPostgres` is a cluster of its own (`initdb`) in a temporary folder, on a free
port, run as the `postgres` system user when the tests run as root (initdb refuses root).
`ThrowawayRedis` is a `redis-server` on a free port that keeps nothing on disk, so a
restart comes back empty, as a Redis that lost its data does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import redis
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from tablebook.database import open_pool

__all__ = [
    "ThrowawayPostgres",
    "ThrowawayRedis",
    "clients",
    "free_port",
    "missing_servers",
    "real_clock_env",
]


def real_clock_env() -> dict[str, str]:
    """Our environment less a faked clock (`make test-clock`): the servers the tests own,
    like the shared ones, and the tools that drive the application keep the machine's
    time; the moved clock is the application's and the tests'. (Under libfaketime,
    redis-server does not start and PostgreSQL's timeouts misfire.)"""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FAKETIME") and key != "LD_PRELOAD"
    }


def _pg_bin() -> Path:
    """`PG_BIN`, or the newest of the system's PostgreSQL installations (Debian's layout)."""
    if "PG_BIN" in os.environ:
        return Path(os.environ["PG_BIN"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return found[-1] if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()


def missing_servers() -> str | None:
    """Why the fault tests cannot run here (no server programs to own), or None."""
    if not (PG_BIN / "initdb").exists():
        return f"no PostgreSQL server programs at {PG_BIN} (set PG_BIN)"
    if shutil.which("redis-server") is None:
        return "no redis-server on PATH"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to start PostgreSQL as another user"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ThrowawayPostgres:
    """A PostgreSQL cluster to stop, kill -9 and start again."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tablebook-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            PG_BIN / "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "--encoding=UTF8",
            "--locale=C",
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: Path, *args: str) -> None:
        subprocess.run(
            _as_postgres([str(program), *args]),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=120,
            env=real_clock_env(),
        )

    def _pg_ctl(self, *args: str) -> None:
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1"
            f" -c unix_socket_directories={self.root} -c fsync=off"
            " -c shared_buffers=16MB -c max_connections=60"
        )
        self._run(
            PG_BIN / "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            *args,
        )

    def start(self) -> None:
        # After a kill -9, the old server's children may take a moment to notice.
        deadline = time.monotonic() + 30
        while True:
            try:
                self._pg_ctl("start")
                return
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def restart_fast(self) -> None:
        """`pg_ctl restart -m fast`: every session is ended, then the server is back."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().splitlines()[0])

    def kill_9(self) -> None:
        """kill -9 of the postmaster, as a crash (or the OOM killer) would do it; returns
        once it is gone."""
        pid = self.postmaster_pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)

    def accepts(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class ThrowawayRedis:
    """A `redis-server` to stop and start again on the same port; it keeps nothing."""

    def __init__(self) -> None:
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            env=real_clock_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 15
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        """kill -9: Redis is gone, with everything it held."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


@contextlib.asynccontextmanager
async def clients(
    database_url: str, redis_url: str
) -> AsyncIterator[tuple[AsyncConnectionPool[Any], Redis]]:
    """A small pool and a Redis client for a test to write and check with."""
    pool = await open_pool(database_url, min_size=1, max_size=4)
    client = Redis.from_url(redis_url)
    try:
        yield pool, client
    finally:
        await client.aclose()
        await pool.close()
