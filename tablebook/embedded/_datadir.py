"""The data directory: where it really is, its lock, and the state file that tells other
processes which servers run there and for whom."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from tablebook.embedded._common import EmbeddedServicesError, EmbeddedUrls, log
from tablebook.embedded._ports import port_of, port_open
from tablebook.embedded._processes import alive

LOCK_TIMEOUT = 60.0
_STATE = "embedded.json"
_LOCK = "embedded.lock"


def resolve_data_dir(data_dir: Path) -> Path:
    """The folder that really holds the data for `data_dir`.

    It is `data_dir` itself, except as root: then a folder under the system temp dir,
    named after a hash of `data_dir`'s absolute path (see the package docstring).
    """
    absolute = Path(data_dir).expanduser().resolve()
    if os.geteuid() != 0:
        return absolute
    digest = hashlib.sha256(str(absolute).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"tablebook-{digest}"


def read_running(data_dir: Path) -> EmbeddedUrls | None:
    """The URLs of servers another live process runs for `data_dir`, if there are any."""
    state = read_state(resolve_data_dir(data_dir))
    if live_owner(state) is None:
        return None
    return urls_from_state(state)


def prepare_base(base: Path, requested: Path) -> None:
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


def acquire(base: Path, *, postgres: bool, redis: bool) -> int | EmbeddedUrls:
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
        state = read_state(base)
        owner = live_owner(state)
        urls = urls_from_state(state) if owner is not None else None
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
        who = (
            f"pid {owner} is starting or stopping"
            if owner is not None
            else "a watchdog is stopping"
        )
        if not announced:
            log.info("waiting for %s: %s servers there", base, who)
            announced = True
        if time.monotonic() > deadline:
            os.close(fd)
            raise EmbeddedServicesError(
                f"{base} stayed locked for {LOCK_TIMEOUT:.0f} s ({who} servers there)"
            )
        time.sleep(0.1)


def read_state(base: Path) -> dict[str, Any]:
    try:
        state = json.loads((base / _STATE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def write_state(base: Path, state: dict[str, Any]) -> None:
    staging = base / f".{_STATE}.{os.getpid()}"
    staging.write_text(json.dumps(state, indent=2) + "\n")
    staging.chmod(0o644)
    os.replace(staging, base / _STATE)


def remove_state(base: Path) -> None:
    with contextlib.suppress(OSError):
        (base / _STATE).unlink()


def live_owner(state: dict[str, Any]) -> int | None:
    """The pid of the process the state names as owner, if that process still runs."""
    owner = state.get("owner_pid")
    return owner if isinstance(owner, int) and alive(owner) else None


def urls_from_state(state: dict[str, Any]) -> EmbeddedUrls | None:
    if state.get("ready") is not True:
        return None
    database_url = state.get("database_url")
    redis_url = state.get("redis_url")
    return EmbeddedUrls(
        database_url if isinstance(database_url, str) else None,
        redis_url if isinstance(redis_url, str) else None,
    )


def _answers(urls: EmbeddedUrls) -> bool:
    ports = [port_of(url) for url in (urls.database_url, urls.redis_url) if url]
    return all(port is not None and port_open(port) for port in ports)
