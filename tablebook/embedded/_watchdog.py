"""The watchdog: a child process in its own session that stops the servers when their owner
dies without stopping them (kill -9), holding the data directory's lock until it is done."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tablebook.embedded._common import log
from tablebook.embedded._datadir import remove_state
from tablebook.embedded._leftovers import holders, stop_leftovers

# The folder holding the `tablebook` package: the watchdog starts in "/", where Python
# would not find this code unless it is installed.
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def spawn_watchdog(base: Path, lock_fd: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start the watchdog for `base`; return it and the pipe to tell it "done" through."""
    read_end, write_end = os.pipe()  # not inheritable: only the watchdog gets the read end
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PROJECT_ROOT), env.get("PYTHONPATH")]))
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


def watch(base: Path) -> int:
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
            stop_leftovers(base)
        except Exception:
            log.exception("stopping the servers in %s failed", base)
        if not holders(base) or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # an initdb of the dead owner may still be running
    remove_state(base)
    log.info("done: nothing runs in %s any more", base)
    return 0
