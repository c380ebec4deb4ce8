"""How long to wait before trying a lost server again, and the one log line that says so.

Waits grow exponentially from `first` and stop growing at `cap`; each is drawn between
half and all of its step ("equal jitter"), so that processes cut off by the same restart
do not come back in lockstep, yet none retries much sooner than its step says. A success
starts the sequence again from `first`.

Every retry logs one structured line: which server, the attempt, the wait before the next
one and the error's class. Never the error's text: a failed statement's message may quote
the row it was writing, and that row may be a guest's.

This module imports no driver, so the event store (`booking_core.store`) can use it.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field

__all__ = ["Backoff", "log_retry"]

_jitter = random.Random()  # noqa: S311 - spreads retries; nothing secret depends on it


@dataclass
class Backoff:
    """The waits between attempts at one server: `first`, about twice that, ... `cap`."""

    first: float = 0.1
    cap: float = 5.0
    attempt: int = field(default=0, init=False)
    """Failures since the last success."""

    def failed(self) -> float:
        """Count a failure; the seconds to wait before the next attempt."""
        self.attempt += 1
        step = min(self.cap, self.first * 2.0 ** (self.attempt - 1))
        return step / 2 + _jitter.random() * step / 2

    def succeeded(self) -> None:
        self.attempt = 0


def log_retry(
    logger: logging.Logger,
    server: str,
    backoff: Backoff,
    delay: float,
    error: BaseException,
    **context: object,
) -> None:
    """The one line an operator sees per retry: server, attempt, next delay, error class."""
    logger.warning(
        "server unavailable; retrying",
        extra={
            "server": server,
            "attempt": backoff.attempt,
            "retry_in_s": round(delay, 3),
            "error": type(error).__name__,
            **context,
        },
    )
