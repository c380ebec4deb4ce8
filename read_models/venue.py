"""Queries on the venue read model, as staff read it: tables, their blocks, layouts,
opening hours and slot settings, closures.

The rows are written by the `venue` projection (its tables are named in
`read_models.venue_layout`). Lists that grow are keyset-paginated: a page costs one index
range scan and never skips or repeats a row while others are written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from booking_core.domain.values import Canvas, LayoutArea, LayoutTable, OpeningHours, SlotSettings
from read_models import venue_layout

__all__ = [
    "BlockRow",
    "ClosureRow",
    "LayoutRow",
    "TableRow",
    "VenueRow",
    "block",
    "blocks_page",
    "closure",
    "closures_page",
    "layout",
    "layouts_page",
    "table",
    "tables_page",
    "venue",
    "venue_blocks_page",
]

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class TableRow:
    id: str
    name: str
    capacity: int
    min_capacity: int
    area: str | None
    x: float
    y: float
    width: float
    height: float
    rotation: float
    shape: str
    retired: bool
    version: int
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class BlockRow:
    id: str
    table_id: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str


@dataclass(frozen=True, slots=True)
class LayoutRow:
    id: str
    name: str
    tables: tuple[LayoutTable, ...]
    areas: tuple[LayoutArea, ...]
    canvas: Canvas | None
    active: bool
    version: int
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class VenueRow:
    """Before any venue event the venue has no hours and the default slot settings."""

    hours: OpeningHours
    settings: SlotSettings
    version: int


@dataclass(frozen=True, slots=True)
class ClosureRow:
    date: dt.date
    reason: str


_TABLE_COLUMNS = sql.SQL(
    "id, name, capacity, min_capacity, area, x, y, width, height, rotation, shape, retired,"
    " version, created_at"
)
_BLOCK_COLUMNS = sql.SQL("id, table_id, starts_at, ends_at, reason")
_LAYOUT_COLUMNS = sql.SQL("id, name, tables, areas, canvas, active, version, created_at")


async def _fetch(
    pool: AsyncConnectionPool[Any], query: sql.Composable, params: Sequence[Any]
) -> list[dict[str, Any]]:
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        rows: list[dict[str, Any]] = await cur.fetchall()
    return rows


def _page(rows: list[R], limit: int) -> tuple[list[R], R | None]:
    """The page, and its last row when another page follows (queries ask limit + 1)."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], rows[limit - 1]


def _where(clauses: list[sql.Composable]) -> sql.Composable:
    if not clauses:
        return sql.SQL("")
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses)


def _json(raw: Any, kind: Any) -> Any:
    """A jsonb value as `kind`: the event store's pool hands jsonb over as raw bytes."""
    if isinstance(raw, bytes | str):
        return msgspec.json.decode(raw, type=kind)
    return msgspec.convert(raw, kind)


def _table(row: dict[str, Any]) -> TableRow:
    return TableRow(**row)


def _layout(row: dict[str, Any]) -> LayoutRow:
    canvas = row["canvas"]
    return LayoutRow(
        id=row["id"],
        name=row["name"],
        tables=_json(row["tables"], tuple[LayoutTable, ...]),
        areas=_json(row["areas"], tuple[LayoutArea, ...]),
        canvas=_json(canvas, Canvas | None) if canvas is not None else None,
        active=row["active"],
        version=row["version"],
        created_at=row["created_at"],
    )


# --- tables -----------------------------------------------------------------------------


async def table(pool: AsyncConnectionPool[Any], venue_id: str, table_id: str) -> TableRow | None:
    query = sql.SQL("SELECT {} FROM {} WHERE venue_id = %s AND id = %s").format(
        _TABLE_COLUMNS, sql.Identifier(venue_layout.TABLES)
    )
    rows = await _fetch(pool, query, (venue_id, table_id))
    return _table(rows[0]) if rows else None


async def tables_page(
    pool: AsyncConnectionPool[Any],
    venue_id: str,
    *,
    area: str | None,
    include_retired: bool,
    limit: int,
    after: tuple[str, str] | None = None,
) -> tuple[list[TableRow], tuple[str, str] | None]:
    """Tables by name (then id), after the `(name, id)` cursor; retired ones only if asked."""
    clauses: list[sql.Composable] = [sql.SQL("venue_id = %s")]
    params: list[Any] = [venue_id]
    if not include_retired:
        clauses.append(sql.SQL("NOT retired"))
    if area is not None:
        clauses.append(sql.SQL("area = %s"))
        params.append(area)
    if after is not None:
        clauses.append(sql.SQL("(name, id) > (%s, %s)"))
        params.extend(after)
    query = sql.SQL("SELECT {} FROM {} {} ORDER BY name, id LIMIT %s").format(
        _TABLE_COLUMNS, sql.Identifier(venue_layout.TABLES), _where(clauses)
    )
    rows, last = _page([_table(r) for r in await _fetch(pool, query, [*params, limit + 1])], limit)
    return rows, (last.name, last.id) if last else None


# --- blocks -----------------------------------------------------------------------------


async def block(
    pool: AsyncConnectionPool[Any], venue_id: str, table_id: str, block_id: str
) -> BlockRow | None:
    query = sql.SQL("SELECT {} FROM {} WHERE venue_id = %s AND id = %s AND table_id = %s").format(
        _BLOCK_COLUMNS, sql.Identifier(venue_layout.BLOCKS)
    )
    rows = await _fetch(pool, query, (venue_id, block_id, table_id))
    return BlockRow(**rows[0]) if rows else None


async def _blocks_where(
    pool: AsyncConnectionPool[Any],
    clauses: list[sql.Composable],
    params: list[Any],
    *,
    limit: int,
    after: tuple[dt.datetime, str] | None,
) -> tuple[list[BlockRow], tuple[dt.datetime, str] | None]:
    """A page of the blocks that meet `clauses`, in start order, after the key `after`."""
    if after is not None:
        clauses = [*clauses, sql.SQL("(starts_at, id) > (%s, %s)")]
        params = [*params, *after]
    query = sql.SQL("SELECT {} FROM {} {} ORDER BY starts_at, id LIMIT %s").format(
        _BLOCK_COLUMNS, sql.Identifier(venue_layout.BLOCKS), _where(clauses)
    )
    found = [BlockRow(**r) for r in await _fetch(pool, query, [*params, limit + 1])]
    rows, last = _page(found, limit)
    return rows, (last.starts_at, last.id) if last else None


async def blocks_page(
    pool: AsyncConnectionPool[Any],
    venue_id: str,
    table_id: str,
    *,
    ending_after: dt.datetime,
    limit: int,
    after: tuple[dt.datetime, str] | None = None,
) -> tuple[list[BlockRow], tuple[dt.datetime, str] | None]:
    """The table's blocks that end after `ending_after`, in start order."""
    clauses: list[sql.Composable] = [
        sql.SQL("venue_id = %s"),
        sql.SQL("table_id = %s"),
        sql.SQL("ends_at > %s"),
    ]
    params: list[Any] = [venue_id, table_id, ending_after]
    return await _blocks_where(pool, clauses, params, limit=limit, after=after)


async def venue_blocks_page(
    pool: AsyncConnectionPool[Any],
    venue_id: str,
    *,
    overlapping: tuple[dt.datetime, dt.datetime],
    limit: int,
    after: tuple[dt.datetime, str] | None = None,
) -> tuple[list[BlockRow], tuple[dt.datetime, str] | None]:
    """Every table's blocks that overlap the period `[start, end)`, in start order."""
    start, end = overlapping
    clauses: list[sql.Composable] = [
        sql.SQL("venue_id = %s"),
        sql.SQL("starts_at < %s"),
        sql.SQL("ends_at > %s"),
    ]
    params: list[Any] = [venue_id, end, start]
    return await _blocks_where(pool, clauses, params, limit=limit, after=after)


# --- layouts ----------------------------------------------------------------------------


async def layout(pool: AsyncConnectionPool[Any], venue_id: str, layout_id: str) -> LayoutRow | None:
    query = sql.SQL("SELECT {} FROM {} WHERE venue_id = %s AND id = %s").format(
        _LAYOUT_COLUMNS, sql.Identifier(venue_layout.LAYOUTS)
    )
    rows = await _fetch(pool, query, (venue_id, layout_id))
    return _layout(rows[0]) if rows else None


async def layouts_page(
    pool: AsyncConnectionPool[Any],
    venue_id: str,
    *,
    limit: int,
    after: tuple[dt.datetime, str] | None = None,
) -> tuple[list[LayoutRow], tuple[dt.datetime, str] | None]:
    """Layouts in the order they were created."""
    clauses: list[sql.Composable] = [sql.SQL("venue_id = %s")]
    params: list[Any] = [venue_id]
    if after is not None:
        clauses.append(sql.SQL("(created_at, id) > (%s, %s)"))
        params.extend(after)
    query = sql.SQL("SELECT {} FROM {} {} ORDER BY created_at, id LIMIT %s").format(
        _LAYOUT_COLUMNS, sql.Identifier(venue_layout.LAYOUTS), _where(clauses)
    )
    found = [_layout(r) for r in await _fetch(pool, query, [*params, limit + 1])]
    rows, last = _page(found, limit)
    return rows, (last.created_at, last.id) if last else None


# --- hours, slot settings, closures -----------------------------------------------------


async def venue(pool: AsyncConnectionPool[Any], venue_id: str) -> VenueRow:
    query = sql.SQL("SELECT opening_hours, time_slots, version FROM {} WHERE venue_id = %s").format(
        sql.Identifier(venue_layout.VENUE)
    )
    rows = await _fetch(pool, query, (venue_id,))
    if not rows:
        return VenueRow(OpeningHours(), SlotSettings(), 0)
    row = rows[0]
    return VenueRow(
        hours=_json(row["opening_hours"], OpeningHours),
        settings=_json(row["time_slots"], SlotSettings),
        version=row["version"],
    )


async def closure(pool: AsyncConnectionPool[Any], venue_id: str, day: dt.date) -> ClosureRow | None:
    query = sql.SQL("SELECT date, reason FROM {} WHERE venue_id = %s AND date = %s").format(
        sql.Identifier(venue_layout.CLOSURES)
    )
    rows = await _fetch(pool, query, (venue_id, day))
    return ClosureRow(**rows[0]) if rows else None


async def closures_page(
    pool: AsyncConnectionPool[Any],
    venue_id: str,
    *,
    from_date: dt.date,
    to_date: dt.date | None,
    limit: int,
    after: dt.date | None = None,
) -> tuple[list[ClosureRow], dt.date | None]:
    """Closed dates from `from_date` to `to_date` (both included), in date order."""
    clauses: list[sql.Composable] = [sql.SQL("venue_id = %s"), sql.SQL("date >= %s")]
    params: list[Any] = [venue_id, from_date]
    if to_date is not None:
        clauses.append(sql.SQL("date <= %s"))
        params.append(to_date)
    if after is not None:
        clauses.append(sql.SQL("date > %s"))
        params.append(after)
    query = sql.SQL("SELECT date, reason FROM {} {} ORDER BY date LIMIT %s").format(
        sql.Identifier(venue_layout.CLOSURES), _where(clauses)
    )
    rows, last = _page(
        [ClosureRow(**r) for r in await _fetch(pool, query, [*params, limit + 1])], limit
    )
    return rows, last.date if last else None
