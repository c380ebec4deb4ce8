"""What many routes read from a request the same way: the bearer-token security spec,
the clock, `If-Match`, a date the book can hold, and an instant in the past.

One home for each, so that every route refuses the same input with the same words.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException

from api.context import Api
from api.refused import Refused

__all__ = ["AUTH", "MAX_DATE", "MIN_DATE", "check_date", "check_instant", "if_match", "now"]

AUTH: list[dict[str, list[str]]] = [{"BearerAuth": []}]
"""The OpenAPI security of a route that needs a signed-in user."""
MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)


def now() -> dt.datetime:
    """The instant a command is decided at (commands take time in, never read a clock)."""
    return dt.datetime.now(dt.UTC)


def if_match(request: Request[Any, Any, Any], expected: str = "a version") -> int | None:
    """The version in `If-Match` (`"3"`, `W/"3"` or `3`), if the request sent one;
    `expected` names it in the 400 for anything else."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise HTTPException(status_code=400, detail=f'If-Match: expected {expected}, e.g. "3"')
    return int(text)


def check_date(value: dt.date, field: str = "date") -> dt.date:
    """A date the book can hold; anything else is well-formed but absurd: 422."""
    if not MIN_DATE <= value <= MAX_DATE:
        raise Refused(422, f"{field}: must be between 2000 and 2199", "date-out-of-range")
    return value


async def check_instant(api: Api, value: dt.datetime) -> dt.datetime:
    """`value` in UTC, refused when it has no offset or lies in the future. The future is
    the log's: events are stamped with the database server's clock."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise HTTPException(
            status_code=400, detail="as_of: give the instant with its offset, e.g. ...Z"
        )
    instant = value.astimezone(dt.UTC)
    async with api.services.pool.connection() as connection:
        cursor = await connection.execute("SELECT now()")
        row = await cursor.fetchone()
    if row is None or instant > row[0]:
        raise Refused(422, "as_of: must not be in the future", "as-of-in-future")
    return instant
