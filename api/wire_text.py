"""The request line and headers are text we can keep, or the request is a 400.

Middleware, so it runs on every route before guards, parameters and handlers read
anything. A header value with a control character (NUL above all: PostgreSQL cannot
store it, and no header this API reads has a use for one), a path or query string whose
percent-escapes are not UTF-8, or one that decodes to a NUL: each is a problem-details
400 naming what was wrong, never a replacement character handed on to a handler, a
database error, or a stream that breaks half-way.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from api.field_errors import NUL_MESSAGE, InvalidRequest, ProblemField

__all__ = ["wire_text"]

_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
"""Control characters, save tab (which HTTP allows inside a header value)."""


def _decoded(raw: bytes) -> str | None:
    """The percent-decoded text, or None if it is not UTF-8."""
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _problems(scope: Scope) -> list[ProblemField]:
    problems = [
        ProblemField(
            name.decode("latin-1"),
            NUL_MESSAGE if b"\x00" in value else "must not contain control characters",
        )
        for name, value in scope["headers"]
        if _CONTROL.search(value)
    ]
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    raw_path = raw_path.partition(b"?")[0]  # some servers leave the query on
    for where, raw in (("path", raw_path), ("query", scope.get("query_string", b""))):
        text = _decoded(raw)
        if text is None:
            problems.append(ProblemField(where, "must be UTF-8 (after percent-decoding)"))
        elif "\x00" in text:
            problems.append(ProblemField(where, NUL_MESSAGE))
    return problems


def wire_text(app: ASGIApp) -> ASGIApp:
    """Middleware: refuse a request whose headers, path or query are not clean text."""

    async def checked(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            problems = _problems(scope)
            if problems:
                raise InvalidRequest(problems)
        await app(scope, receive, send)

    return checked
