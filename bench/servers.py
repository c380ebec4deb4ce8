"""`tablebook serve` and `tablebook projectors run` as the benchmarks' own subprocesses,
started as a deployment would start them, and their peak memory."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["Deployment", "deployment", "free_port", "peak_rss_mb"]

WORKERS = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set so far (VmHWM), in MB; 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _workers(parent: int) -> list[int]:
    """uvicorn's worker processes: the spawned children of `parent`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


@dataclass
class Deployment:
    base_url: str
    api: subprocess.Popen[bytes]
    projectors: subprocess.Popen[bytes]
    logs: Path
    env: dict[str, str]

    def api_worker_pids(self) -> list[int]:
        return _workers(self.api.pid)


def _wait_ready(base_url: str, api: subprocess.Popen[bytes], logs: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if api.poll() is not None:
            break
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/health/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"tablebook serve never became ready; its log:\n{logs.read_text()[-4000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def deployment(database_url: str, redis_url: str, prefix: str) -> Iterator[Deployment]:
    """The API (`tablebook serve --workers 2`, uvicorn with uvloop and httptools, no access
    log) and the projector daemon, each its own process tree, with the bench route on."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": prefix,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TABLEBOOK_BENCH_ROUTES": "1",
    }
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="tablebook-bench-") as folder:
        logs = Path(folder) / "processes.log"
        with open(logs, "wb") as sink:
            tablebook = [sys.executable, "-m", "tablebook.cli"]
            api = subprocess.Popen(
                [*tablebook, "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(WORKERS)],
                env=env, stdout=sink, stderr=sink,
            )  # fmt: skip
            projectors = subprocess.Popen(
                [*tablebook, "projectors", "run"], env=env, stdout=sink, stderr=sink
            )
            try:
                _wait_ready(base_url, api, logs)
                yield Deployment(base_url, api, projectors, logs, env)
            finally:
                _stop(api)
                _stop(projectors)
