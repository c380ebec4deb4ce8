"""The id of the request being answered, for logs and problem details.

A client may send its own (`X-Request-ID`, 1 to 64 of `A-Z a-z 0-9 . _ -`) to follow a
request from its side into our logs; anything else is replaced by a new one. Set by
`api.observe` for the length of the request.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

__all__ = ["current_request_id", "enter", "leave", "request_id_from"]

_FORM = re.compile(r"[A-Za-z0-9._-]{1,64}")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id_from(given: str | None) -> str:
    """The client's id if well-formed, else a new one."""
    return given if given is not None and _FORM.fullmatch(given) else uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being answered (None outside one)."""
    return _current.get()


def enter(request_id: str) -> Token[str | None]:
    return _current.set(request_id)


def leave(token: Token[str | None]) -> None:
    _current.reset(token)
