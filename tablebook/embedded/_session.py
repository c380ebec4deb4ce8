"""`embedded_services`: one process's run of the servers, from taking the data directory
(or sharing the servers another process runs there) to stopping them however the run ends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from tablebook.embedded._common import HOST, EmbeddedUrls, log
from tablebook.embedded._datadir import (
    acquire,
    prepare_base,
    remove_state,
    resolve_data_dir,
    write_state,
)
from tablebook.embedded._leftovers import stop_leftovers
from tablebook.embedded._postgres import (
    ensure_database,
    postgres_url,
    start_postgres,
    stop_postgres,
)
from tablebook.embedded._valkey import start_valkey, stop_valkey_process
from tablebook.embedded._watchdog import spawn_watchdog


@contextmanager
def embedded_services(
    data_dir: Path,
    *,
    postgres: bool = True,
    redis: bool = True,
    database: str = "tablebook",
    durable: bool = False,
) -> Iterator[EmbeddedUrls]:
    """Run an embedded PostgreSQL and/or Valkey with their data under `data_dir`.

    Creates `database` on the first start. Yields URLs for psycopg and redis-py and stops
    the servers when the block ends, however it ends. PostgreSQL runs with fsync off
    unless `durable` (see `start_postgres`); servers another process runs are shared as
    they are.
    """
    if not (postgres or redis):
        yield EmbeddedUrls(None, None)
        return
    requested = Path(data_dir).expanduser().resolve()
    base = resolve_data_dir(requested)
    prepare_base(base, requested)
    acquired = acquire(base, postgres=postgres, redis=redis)
    if isinstance(acquired, EmbeddedUrls):  # another live process runs them: share
        database_url = None
        if postgres and acquired.database_url is not None:
            database_url = ensure_database(acquired.database_url, database)
        yield EmbeddedUrls(database_url, acquired.redis_url if redis else None)
        return
    session = _Session(base, acquired)
    try:
        with _sigterm_raises_system_exit():
            try:
                session.start(postgres=postgres, redis=redis, database=database, durable=durable)
                yield session.urls
            finally:
                session.stop()
    finally:
        os.close(acquired)


class _Session:
    """The servers this process runs, their watchdog and the lock on the data directory."""

    def __init__(self, base: Path, lock_fd: int) -> None:
        self.base = base
        self.lock_fd = lock_fd
        self.urls = EmbeddedUrls(None, None)
        self.watchdog: subprocess.Popen[bytes] | None = None
        self.watchdog_pipe: int | None = None
        self.valkey: subprocess.Popen[bytes] | None = None
        self.postgres: subprocess.Popen[bytes] | None = None

    def start(self, *, postgres: bool, redis: bool, database: str, durable: bool) -> None:
        write_state(self.base, {"owner_pid": os.getpid(), "ready": False})
        stop_leftovers(self.base)
        self.watchdog, self.watchdog_pipe = spawn_watchdog(self.base, self.lock_fd)
        state: dict[str, Any] = {
            "owner_pid": os.getpid(),
            "ready": True,
            "data_dir": str(self.base),
        }
        database_url: str | None = None
        redis_url: str | None = None
        if postgres:
            self.postgres, port, version = start_postgres(self.base, durable=durable)
            database_url = ensure_database(postgres_url(port, "postgres"), database)
            state["postgres"] = {"port": port, "pid": self.postgres.pid, "version": version}
            state["database_url"] = database_url
        if redis:
            self.valkey, port = start_valkey(self.base)
            redis_url = f"redis://{HOST}:{port}/0"
            state["valkey"] = {"port": port, "pid": self.valkey.pid}
            state["redis_url"] = redis_url
        write_state(self.base, state)
        self.urls = EmbeddedUrls(database_url, redis_url)

    def stop(self) -> None:
        base, valkey, postgres = self.base, self.valkey, self.postgres
        clean = True
        if valkey is not None:
            clean &= _succeeds(
                lambda: stop_valkey_process(valkey), "could not stop valkey (pid %d)", valkey.pid
            )
        if postgres is not None:
            clean &= _succeeds(
                lambda: stop_postgres(base, postgres),
                "could not stop postgres (pid %d)",
                postgres.pid,
            )
        # Anything started but not yet tracked when start() was interrupted.
        clean &= _succeeds(
            lambda: stop_leftovers(base), "could not look for leftover servers in %s", base
        )
        remove_state(base)
        self._dismiss_watchdog(clean)

    def _dismiss_watchdog(self, clean: bool) -> None:
        """Tell the watchdog it has nothing to do (or, if stopping failed, to try too)."""
        if self.watchdog_pipe is not None:
            with contextlib.suppress(OSError):
                if clean:
                    os.write(self.watchdog_pipe, b"done\n")
            os.close(self.watchdog_pipe)
            self.watchdog_pipe = None
        if self.watchdog is not None:
            try:
                self.watchdog.wait(timeout=10 if clean else 60)
            except subprocess.TimeoutExpired:
                log.warning("the watchdog (pid %d) did not exit; killing it", self.watchdog.pid)
                self.watchdog.kill()
                self.watchdog.wait()
            self.watchdog = None


def _succeeds(action: Callable[[], None], message: str, *args: object) -> bool:
    """Run `action`; log what it raised, with `message`, instead of raising it."""
    try:
        action()
    except Exception:
        log.exception(message, *args)
        return False
    return True


@contextmanager
def _sigterm_raises_system_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while the servers run, so `finally` stops them.

    Only where SIGTERM still has its default action (which would end the process without
    any cleanup) and only in the main thread, where Python handles signals.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is handler:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
