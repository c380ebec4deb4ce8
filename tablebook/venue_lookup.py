"""Which venue an analyst's `--venue` names: an id or a slug, looked up in the venue
directory (`rm_venues`). Before that directory exists (a database not yet migrated that
far) the value can only be an id, and is taken as one; the default venue is always
there, listed or not."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from booking_core.domain.errors import InvalidId
from booking_core.domain.streams import DEFAULT_VENUE_ID, streams_of

__all__ = ["resolve_venue"]

_LOOKUP = "SELECT id FROM rm_venues WHERE id = %s OR slug = %s ORDER BY id = %s DESC LIMIT 1"


async def resolve_venue(pool: AsyncConnectionPool[Any], id_or_slug: str) -> str:
    """The venue id that `id_or_slug` names; ValueError if it names none."""
    try:
        streams_of(id_or_slug)
    except InvalidId:
        raise ValueError(f"unknown venue {id_or_slug!r}") from None
    if id_or_slug == DEFAULT_VENUE_ID:
        return DEFAULT_VENUE_ID
    async with pool.connection() as connection:
        try:
            cursor = await connection.execute(_LOOKUP, (id_or_slug, id_or_slug, id_or_slug))
        except psycopg.errors.UndefinedTable:
            return id_or_slug
        row = await cursor.fetchone()
    if row is None:
        raise ValueError(f"unknown venue {id_or_slug!r}: no venue has that id or slug")
    return str(row[0])
