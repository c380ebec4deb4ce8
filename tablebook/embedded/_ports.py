"""TCP ports on the loopback address: picking a free one, starting a server on it, and
telling whether something answers there."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from tablebook.embedded._common import HOST, EmbeddedServicesError, log
from tablebook.embedded._processes import log_since


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # The servers set SO_REUSEADDR too: TIME_WAIT leftovers do not block them.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def pick_port(preferred: int | None) -> int:
    if preferred is not None and port_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def port_of(url: str) -> int | None:
    netloc = url.partition("://")[2].partition("/")[0]
    port = netloc.rpartition(":")[2]
    return int(port) if port.isdigit() else None


def start_on_free_port(
    preferred: int,
    server_log: Path,
    *,
    launch: Callable[[int, IO[bytes]], subprocess.Popen[bytes]],
    wait: Callable[[subprocess.Popen[bytes], int], None],
    discard: Callable[[subprocess.Popen[bytes]], None],
    port_taken: str,
) -> tuple[subprocess.Popen[bytes], int, float]:
    """Start a server on `preferred`, or on any free port when that is taken.

    `launch` starts the server on a port with its output going to `server_log`, `wait`
    raises EmbeddedServicesError unless it becomes ready, and `discard` ends one that did
    not. Returns the ready server, its port and the seconds it took to start.
    """
    for attempt in range(3):
        port = pick_port(preferred if attempt == 0 else None)
        started = time.monotonic()
        with open(server_log, "ab") as output:
            offset = output.tell()
            process = launch(port, output)
        try:
            wait(process, port)
        except EmbeddedServicesError as error:
            discard(process)
            tail = log_since(server_log, offset)
            # A free port may be taken by someone else before the server binds it.
            if port_taken in tail and attempt < 2:
                log.info("port %d was taken meanwhile; trying another", port)
                continue
            raise EmbeddedServicesError(f"{error}\n--- {server_log} ---\n{tail.strip()}") from None
        return process, port, time.monotonic() - started
    raise AssertionError("unreachable")
