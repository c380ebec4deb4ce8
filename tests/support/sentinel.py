"""A Redis master, its replica and three sentinels that a test owns, to kill the master
and watch Sentinel promote the replica: never the shared servers.

Everything runs on free ports from a temporary folder, keeps nothing on disk, and is told
to fail over fast: a master that does not answer for `DOWN_AFTER_MS` is down, and a
failover is done within a few seconds of that.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis

from tests.support.throwaway import free_port, real_clock_env

__all__ = ["SERVICE", "ThrowawaySentinel", "missing_sentinel"]

SERVICE = "tablebook"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 4000


def missing_sentinel() -> str | None:
    """Why a Sentinel of the test's own cannot run here, or None."""
    if shutil.which("redis-server") is None:
        return "no redis-server on PATH (Debian: redis-server, which has Sentinel built in)"
    if "FAKETIME" in os.environ:
        return "the clock is moved (make test-clock): Sentinel's timeouts need the real one"
    return None


def _until(check: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.05)


class ThrowawaySentinel:
    """A master and a replica of one service, watched by three sentinels (quorum 2)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tablebook-sentinel-"))
        self.data_ports = [free_port(), free_port()]
        self.sentinel_ports = [free_port() for _ in range(3)]
        self._servers: dict[int, subprocess.Popen[bytes]] = {}
        self._sentinels: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def _spawn(self, args: list[str], log: str) -> subprocess.Popen[bytes]:
        with (self.root / log).open("ab") as out:
            return subprocess.Popen(
                ["redis-server", *args],
                cwd=self.root,
                env=real_clock_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def _start_server(self, port: int, replica_of: int | None) -> None:
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(self.root)]
        if replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(replica_of)]
        self._servers[port] = self._spawn(args, f"redis-{port}.log")

    def _start_sentinel(self, port: int, master: int) -> None:
        config = self.root / f"sentinel-{port}.conf"
        config.write_text(
            f"port {port}\n"
            "bind 127.0.0.1\n"
            f"dir {self.root}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {master} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {SERVICE} 1\n"
        )
        self._sentinels.append(self._spawn([str(config), "--sentinel"], f"sentinel-{port}.log"))

    def start(self) -> None:
        """Start everything; return once the replica is in sync and every sentinel knows
        the master, the replica and the two other sentinels."""
        master, replica = self.data_ports
        self._start_server(master, None)
        self._start_server(replica, master)
        for port in self.sentinel_ports:
            self._start_sentinel(port, master)
        _until(lambda: self.role(replica) == "slave" and self._linked(replica), "replica", 30)
        for port in self.sentinel_ports:
            _until(functools.partial(self._sees_all, port), f"sentinel {port}", 30)

    def _client(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_connect_timeout=1, socket_timeout=2)

    def role(self, port: int) -> str:
        with self._client(port) as client:
            return str(client.info("replication")["role"])

    def _linked(self, port: int) -> bool:
        with self._client(port) as client:
            return bool(client.info("replication").get("master_link_status") == "up")

    def _sees_all(self, port: int) -> bool:
        with self._client(port) as client:
            state = client.sentinel_master(SERVICE)
        return int(state["num-slaves"]) >= 1 and int(state["num-other-sentinels"]) >= 2

    def master_port(self) -> int:
        """The master's port as the sentinels name it (the first that answers)."""
        for port in self.sentinel_ports:
            try:
                with self._client(port) as client:
                    _, master = client.sentinel_get_master_addr_by_name(SERVICE)
                return int(master)
            except redis.RedisError:
                continue
        raise RuntimeError("no sentinel answers")

    def in_sync(self) -> None:
        """Return once the replicas have everything the master was sent (`WAIT`)."""
        with self._client(self.master_port()) as client:
            _until(lambda: client.wait(1, 1000) >= 1, "replication", 30)

    def kill_master(self) -> int:
        """kill -9 of the master; return its port once the process is gone."""
        port = self.master_port()
        process = self._servers.pop(port)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        return port

    def freeze_master(self) -> int:
        """SIGSTOP of the master, as a machine that drops off the network: connections to
        it stay open and nothing answers. Return its port."""
        port = self.master_port()
        self._servers[port].send_signal(signal.SIGSTOP)
        return port

    def thaw(self, port: int) -> None:
        """SIGCONT of a frozen server: it comes back believing it is still the master,
        until the sentinels make it a replica of the new one."""
        self._servers[port].send_signal(signal.SIGCONT)

    def wait_for_new_master(self, old: int, timeout: float = 60) -> int:
        """The port of the master the sentinels promoted in place of `old`, once it
        answers as a master."""
        _until(
            lambda: self.master_port() != old and self.role(self.master_port()) == "master",
            "failover",
            timeout,
        )
        return self.master_port()

    def log_tail(self, lines: int = 20) -> str:
        """The end of every server's log, for a failure's message."""
        tails = []
        for log in sorted(self.root.glob("*.log")):
            tails.append(f"--- {log.name}")
            tails += log.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(tails)

    def destroy(self) -> None:
        for process in [*self._servers.values(), *self._sentinels]:
            process.send_signal(signal.SIGCONT)
            process.kill()
            process.wait(timeout=10)
        self._servers.clear()
        self._sentinels.clear()
        shutil.rmtree(self.root, ignore_errors=True)
