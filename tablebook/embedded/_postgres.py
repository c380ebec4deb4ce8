"""The embedded PostgreSQL: a new cluster on first use, starting and stopping the
postmaster (ours, or one an earlier run left behind), the application's database, URLs."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import IO
from urllib.parse import quote

from tablebook.embedded._common import HOST, POSTGRES_PORT, EmbeddedServicesError, log
from tablebook.embedded._pgtools import PgTools, pg_tools
from tablebook.embedded._ports import start_on_free_port
from tablebook.embedded._processes import alive, command_name, send_signal, wait_gone

DATABASE_SUPERUSER = "postgres"
_POSTGRES_SETTINGS = (
    *("-c", f"listen_addresses={HOST}"),
    *("-c", "unix_socket_directories="),  # TCP only: no socket path length limits
    *("-c", "max_connections=200"),
)


def postgres_url(port: int, database: str) -> str:
    return f"postgresql://{DATABASE_SUPERUSER}@{HOST}:{port}/{quote(database, safe='')}"


def with_database(url: str, database: str) -> str:
    return url.rpartition("/")[0] + "/" + quote(database, safe="")


def start_postgres(
    base: Path, *, durable: bool = False
) -> tuple[subprocess.Popen[bytes], int, str]:
    """Start PostgreSQL on a free port; return the postmaster, its port and major version.

    Development data runs with `fsync=off`: an OS crash may lose it, a kill -9 of
    anything may not. `durable` keeps fsync on, as a production server does: for
    measurements, where fsync off would flatter every commit.

    The postmaster is our own child (not daemonised by pg_ctl), in a session of its own:
    Ctrl-C meant for the app does not reach it, and we reap it when it stops.
    """
    tools = pg_tools()
    pgdata = base / "postgres"
    if not (pgdata / "PG_VERSION").exists():
        _initdb(base, tools)
    version = (pgdata / "PG_VERSION").read_text().strip()
    server_log = pgdata / "server.log"
    fsync = ("-c", "fsync=on" if durable else "fsync=off")

    def launch(port: int, output: IO[bytes]) -> subprocess.Popen[bytes]:
        log.info("starting postgres %s in %s on port %d", version, pgdata, port)
        tools.own(server_log)
        return tools.spawn(
            "postgres",
            ["-D", str(pgdata), "-p", str(port), *_POSTGRES_SETTINGS, *fsync],
            cwd=base,
            output=output,
        )

    process, port, seconds = start_on_free_port(
        POSTGRES_PORT,
        server_log,
        launch=launch,
        wait=lambda process, _: _wait_for_postgres(process, pgdata, timeout=120),
        discard=lambda process: _stop_postmaster(process.pid, process),
        port_taken="could not create any TCP/IP sockets",
    )
    log.info(
        "postgres %s started on %s:%d (pid %d) in %.1f s",
        version,
        HOST,
        port,
        process.pid,
        seconds,
        extra={"service": "postgres", "port": port},
    )
    return process, port, version


def ensure_database(server_url: str, database: str) -> str:
    """Create `database` on the server at `server_url` unless it exists; return its URL."""
    import psycopg
    from psycopg import sql

    maintenance_url = with_database(server_url, "postgres")
    with psycopg.connect(maintenance_url, autocommit=True, connect_timeout=10) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            log.info("creating database %s", database)
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # lost a race: fine
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return with_database(server_url, database)


def stop_postgres(base: Path, process: subprocess.Popen[bytes] | None = None) -> None:
    """Stop our postmaster `process`, or one an earlier run left behind in `base`."""
    pgdata = base / "postgres"
    if process is not None:
        if process.poll() is None:
            log.info("stopping postgres (pid %d)", process.pid)
            _stop_postmaster(process.pid, process)
            log.info("postgres stopped", extra={"service": "postgres"})
        return
    pid = _postmaster_pid(pgdata)
    if pid is None:
        return
    if alive(pid) and command_name(pid) == "postgres":
        log.info("stopping postgres (pid %d) still running in %s", pid, pgdata)
        _stop_postmaster(pid, None)
        log.info("postgres stopped", extra={"service": "postgres"})
    # Gone, or a stale file from a killed server: we hold the lock, so dropping it is safe.
    with contextlib.suppress(OSError):
        (pgdata / "postmaster.pid").unlink()


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        first = (pgdata / "postmaster.pid").read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        return None
    return int(first) if first.isdigit() else None


def _initdb(base: Path, tools: PgTools) -> None:
    """A new cluster, made aside and renamed into place: never a half-made PGDATA."""
    pgdata = base / "postgres"
    staging = base / "postgres.init"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(mode=0o700)
    tools.own(staging)
    log.info("initialising a new PostgreSQL cluster in %s", pgdata)
    tools.run(
        "initdb",
        [
            "-D",
            str(staging),
            "-U",
            DATABASE_SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
            "--no-instructions",
        ],
        cwd=base,
        timeout=180,
    )
    if pgdata.exists():
        log.warning("replacing %s: it holds no PostgreSQL cluster (no PG_VERSION)", pgdata)
        shutil.rmtree(pgdata)
    staging.rename(pgdata)


def _wait_for_postgres(process: subprocess.Popen[bytes], pgdata: Path, timeout: float) -> None:
    """Wait until postmaster.pid names our process and says "ready" (as pg_ctl -w does)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise EmbeddedServicesError(f"postgres exited during start (exit {process.returncode})")
        try:
            lines = (pgdata / "postmaster.pid").read_text().splitlines()
        except OSError:
            lines = []
        if len(lines) >= 8 and lines[0].strip() == str(process.pid) and lines[7].strip() == "ready":
            return
        if time.monotonic() > deadline:
            raise EmbeddedServicesError(f"postgres was not ready after {timeout:.0f} s")
        time.sleep(0.02)


def _stop_postmaster(pid: int, process: subprocess.Popen[bytes] | None) -> None:
    """Fast shutdown (SIGINT); immediate (SIGQUIT) after 30 s; SIGKILL 5 s later."""

    def gone(timeout: float) -> bool:
        if process is None:
            return wait_gone([pid], timeout)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    for signum, timeout in ((signal.SIGINT, 30.0), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
        send_signal(pid, signum)
        if gone(timeout):
            return
        log.warning("postgres (pid %d) still runs after %s", pid, signum.name)
    raise EmbeddedServicesError(f"postgres (pid {pid}) did not stop")
