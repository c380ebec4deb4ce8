"""Queries on the venue's table combinations, as staff read them (the
`table_combinations` projection writes them, `read_models.combinations_layout` names
them). Keyset-paginated in the order they were defined."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from read_models import combinations_layout

__all__ = ["CombinationRow", "combination", "combinations_page"]

_COLUMNS = sql.SQL("id, name, table_ids, min_capacity, capacity, version, created_at")


@dataclass(frozen=True, slots=True)
class CombinationRow:
    id: str
    name: str | None
    table_ids: tuple[str, ...]
    min_capacity: int
    capacity: int
    version: int
    created_at: dt.datetime


async def _rows(
    pool: AsyncConnectionPool[Any], query: sql.Composable, params: list[Any]
) -> list[CombinationRow]:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        found = await cur.fetchall()
    return [CombinationRow(**{**row, "table_ids": tuple(row["table_ids"])}) for row in found]


async def combination(
    pool: AsyncConnectionPool[Any], venue_id: str, combination_id: str
) -> CombinationRow | None:
    query = sql.SQL("SELECT {} FROM {} WHERE venue_id = %s AND id = %s").format(
        _COLUMNS, sql.Identifier(combinations_layout.COMBINATIONS)
    )
    rows = await _rows(pool, query, [venue_id, combination_id])
    return rows[0] if rows else None


async def combinations_page(
    pool: AsyncConnectionPool[Any],
    venue_id: str,
    *,
    limit: int,
    after: tuple[dt.datetime, str] | None = None,
) -> tuple[list[CombinationRow], tuple[dt.datetime, str] | None]:
    """Combinations in the order they were defined, and where the next page starts."""
    clause = sql.SQL("venue_id = %s")
    params: list[Any] = [venue_id]
    if after is not None:
        clause = sql.SQL("venue_id = %s AND (created_at, id) > (%s, %s)")
        params.extend(after)
    query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY created_at, id LIMIT %s").format(
        _COLUMNS, sql.Identifier(combinations_layout.COMBINATIONS), clause
    )
    found = await _rows(pool, query, [*params, limit + 1])
    if len(found) <= limit:
        return found, None
    last = found[limit - 1]
    return found[:limit], (last.created_at, last.id)
