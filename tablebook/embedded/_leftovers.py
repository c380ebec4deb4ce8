"""Servers still running in a data directory that nobody stops any more: found through
their pid files and, on Linux, through /proc; stopped before a start and by the watchdog."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tablebook.embedded._common import log
from tablebook.embedded._postgres import stop_postgres
from tablebook.embedded._processes import alive, send_signal, wait_gone
from tablebook.embedded._valkey import stop_valkey_by_pidfile

_SERVER_COMMANDS = frozenset({"postgres", "valkey-server", "initdb"})


def stop_leftovers(base: Path) -> None:
    stop_postgres(base)
    stop_valkey_by_pidfile(base)
    _stop_stragglers(base)


def holders(base: Path) -> list[tuple[int, str, int]]:
    """(pid, command, parent pid) of the server processes (or initdb) working in `base`'s
    server folders. Linux only: elsewhere the pid files have to do."""
    proc = Path("/proc")
    if not (proc / "self").exists():
        return []
    folders = {str(base / "postgres"), str(base / "postgres.init"), str(base / "valkey")}
    found: list[tuple[int, str, int]] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            if comm not in _SERVER_COMMANDS:
                continue
            cwd = os.readlink(entry / "cwd").removesuffix(" (deleted)")
            args = {
                arg.decode(errors="replace")
                for arg in (entry / "cmdline").read_bytes().split(b"\0")
            }
            ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        pid = int(entry.name)
        if (cwd in folders or args & folders) and alive(pid):
            found.append((pid, comm, ppid))
    return found


def _stop_stragglers(base: Path) -> None:
    """Stop server processes still working in `base` that no pid file accounts for."""
    found = holders(base)
    if not found:
        return
    pids = [pid for pid, _, _ in found]
    for pid, comm, ppid in found:
        if ppid in pids:
            continue  # a postmaster's child: it goes with its parent
        log.info("stopping %s (pid %d), a leftover still working in %s", comm, pid, base)
        # SIGINT asks a postmaster for a fast shutdown.
        send_signal(pid, signal.SIGINT if comm == "postgres" else signal.SIGTERM)
    if not wait_gone(pids, 10):
        for pid in pids:
            if alive(pid):
                log.warning("pid %d ignored the request to stop; killing it", pid)
                send_signal(pid, signal.SIGKILL)
        wait_gone(pids, 5)
