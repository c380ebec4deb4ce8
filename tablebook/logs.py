"""One structured line per step: `logfmt` (key=value) on stderr, easy to grep and parse.

What is bound to structlog's context (the request id, while a request is answered: see
`api.observe`) goes on every line written meanwhile, whichever logger wrote it.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import structlog

__all__ = ["configure_logging"]

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "color_message",  # uvicorn's ANSI-coloured copy of msg
}


def _quote(value: object) -> str:
    text = str(value)
    if not text or any(c in text for c in ' "=\n'):
        text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        parts = [
            f"at={at.replace('+00:00', 'Z')}",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"msg={_quote(record.getMessage())}",
        ]
        parts += [
            f"{key}={_quote(value)}"
            for key, value in record.__dict__.items()
            if key not in _RESERVED and not key.startswith("_")
        ]
        parts += [
            f"{key}={_quote(value)}"
            for key, value in structlog.contextvars.get_contextvars().items()
            if key not in record.__dict__
        ]
        if record.exc_info:
            parts.append(f"error={_quote(self.formatException(record.exc_info))}")
        return " ".join(parts)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # The pool logs each failed connection attempt and each connection it drops; while
    # a server is away, our own line per retry (`resilience.backoff`) says it once.
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
