"""Which stored events belong to a venue, said once, in SQL.

The naming rule of `booking_core.domain.streams`: the default venue's streams carry bare
names (no `/`), every other venue's start with `{venue_id}/`. `in_venue` is that rule as
a WHERE condition on a named query parameter holding a venue id (NULL keeps every
event). It compares a prefix of exactly the id's length plus the separator, never a
LIKE pattern: `_` and `%` in an id are plain characters, and venue `ven_a` does not take
in `ven_ab/...`. Streams outside every venue's naming (`registry/...`) belong to none of
the venues asked for.
"""

from __future__ import annotations

import re

from booking_core.domain.streams import DEFAULT_VENUE_ID

__all__ = ["in_venue"]

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def in_venue(param: str = "venue", column: str = "stream_id") -> str:
    """The condition "`column` is a stream of the venue in `%(param)s`" (any venue when
    the parameter is NULL), for a statement run with named parameters."""
    if not (_IDENTIFIER.match(param) and _IDENTIFIER.match(column)):
        raise ValueError(f"not an identifier: {param!r} or {column!r}")
    venue = f"%({param})s::text"
    return (
        f"({venue} IS NULL OR CASE WHEN {venue} = '{DEFAULT_VENUE_ID}'"
        f" THEN strpos({column}, '/') = 0"
        f" ELSE left({column}, length({venue}) + 1) = {venue} || '/' END)"
    )
