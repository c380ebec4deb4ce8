"""Which venue a command line's `--venue` names: an id or a slug.

A venue the directory (`read_models.venues`) lists is found by its id or its slug. One it
does not list (the directory is a projection: a venue opened while the daemon was
stopped, or whose streams were written before venues had a directory) is found only by
an id whose streams are in the log; the default venue always is, listed or not.
"""

from __future__ import annotations

from typing import Any

from psycopg_pool import AsyncConnectionPool

from booking_core.domain.errors import InvalidId
from booking_core.domain.streams import DEFAULT_VENUE_ID, streams_of
from read_models.venues import resolve

__all__ = ["resolve_venue"]

_HAS_STREAMS = """
SELECT EXISTS (
  SELECT 1 FROM streams
  WHERE CASE WHEN %(default)s THEN strpos(stream_id, '/') = 0
             ELSE starts_with(stream_id, %(prefix)s) END
)
"""


async def resolve_venue(pool: AsyncConnectionPool[Any], venue: str) -> str:
    """The id of the venue `venue` names (its id or slug); ValueError if it names none."""
    try:
        prefix = streams_of(venue).venue.removesuffix("venue")
    except InvalidId:
        raise ValueError(f"unknown venue {venue!r}") from None
    if venue == DEFAULT_VENUE_ID:
        return venue
    listed = await resolve(pool, venue)
    if listed is not None:
        return listed.id
    async with pool.connection() as connection:
        cursor = await connection.execute(_HAS_STREAMS, {"default": False, "prefix": prefix})
        found = await cursor.fetchone()
    if not (found and found[0]):
        raise ValueError(f"unknown venue {venue!r}: no venue has that id or slug")
    return venue
