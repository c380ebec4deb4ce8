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
from booking_core.store.venue_filter import in_venue
from read_models.venues import resolve

__all__ = ["resolve_venue"]

# A stream at version 0 was only read (a decision found it empty), never written.
_HAS_STREAMS = f"SELECT EXISTS (SELECT 1 FROM streams WHERE {in_venue('venue')} AND version > 0)"  # noqa: S608 - built from constants


async def resolve_venue(pool: AsyncConnectionPool[Any], venue: str) -> str:
    """The id of the venue `venue` names (its id or slug); ValueError if it names none."""
    try:
        streams_of(venue)  # refuses an id no venue can have
    except InvalidId:
        raise ValueError(f"unknown venue {venue!r}") from None
    if venue == DEFAULT_VENUE_ID:
        return venue
    listed = await resolve(pool, venue)
    if listed is not None:
        return listed.id
    async with pool.connection() as connection:
        cursor = await connection.execute(_HAS_STREAMS, {"venue": venue})
        found = await cursor.fetchone()
    if not (found and found[0]):
        raise ValueError(f"unknown venue {venue!r}: no venue has that id or slug")
    return venue
