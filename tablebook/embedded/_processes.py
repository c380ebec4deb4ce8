"""Operating-system processes: whether one runs, what it is, signalling it, waiting for it to
go, and what a server wrote to its log."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether `pid` is a running process (a zombie is not: nothing may reap it here)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return True
    return bool(fields) and fields[0] not in {"Z", "X"}


def command_name(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return None
    except OSError:
        return None
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        ["ps", "-o", "comm=", "-p", str(pid)],  # noqa: S607 - ps from PATH, as any shell would
        capture_output=True,
        text=True,
        check=False,
    )
    name = result.stdout.strip()
    return Path(name).name if result.returncode == 0 and name else None


def send_signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def wait_gone(pids: Sequence[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def log_since(path: Path, offset: int) -> str:
    """The end of what was written to the log file `path` after `offset`."""
    try:
        with open(path, "rb") as file:
            file.seek(offset)
            return file.read()[-8000:].decode(errors="replace")
    except OSError:
        return ""
