"""Queries on the venue directory: which venues exist, found by id or by slug.

The rows are written by the `venues` projection (its table is named in
`read_models.venues_layout`). `resolve` takes an id or a slug; should a slug ever spell
another venue's id (`default`), the id wins, so the unscoped default venue keeps its name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

from read_models import venues_layout

__all__ = ["VenueRecord", "list_venues", "resolve"]

_MAX_KEY = 200


@dataclass(frozen=True, slots=True)
class VenueRecord:
    id: str
    slug: str
    name: str
    time_zone: str
    address: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


_SELECT = sql.SQL("SELECT {columns} FROM {table}").format(
    columns=sql.SQL(", ").join(map(sql.Identifier, venues_layout.COLUMNS)),
    table=sql.Identifier(venues_layout.VENUES),
)


async def resolve(pool: AsyncConnectionPool[Any], key: str) -> VenueRecord | None:
    """The venue whose id, or else whose slug, is `key`; None if there is none."""
    if not key or len(key) > _MAX_KEY or "\x00" in key:
        return None
    query = _SELECT + sql.SQL(" WHERE id = %(key)s OR slug = %(key)s ORDER BY id = %(key)s DESC")
    async with pool.connection() as connection:
        cursor = connection.cursor(row_factory=class_row(VenueRecord))
        await cursor.execute(query + sql.SQL(" LIMIT 1"), {"key": key})
        found: VenueRecord | None = await cursor.fetchone()
        return found


async def list_venues(pool: AsyncConnectionPool[Any]) -> list[VenueRecord]:
    """Every venue, by name (then id)."""
    async with pool.connection() as connection:
        cursor = connection.cursor(row_factory=class_row(VenueRecord))
        await cursor.execute(_SELECT + sql.SQL(" ORDER BY lower(name), id"))
        venues: list[VenueRecord] = await cursor.fetchall()
        return venues
