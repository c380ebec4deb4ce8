"""Queries on the waitlist read model: a service day's line, one entry, the floor a quote
is worked out from, and how good the day's quotes were.

Rows are written by the `waitlist` projection (`read_models.waitlist_layout`). The floor
comes from the venue and bookings read models: the tables in service, the day's
bookings confirmed or seated, and the venue's turn times and buffer. Quotes are worked
out here, on every read, by `waitlist_quote.quote_list`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

from read_models import bookings_layout, venue_layout, waitlist_layout
from read_models.venue import venue as venue_row
from read_models.waitlist_layout import WaitlistRow
from read_models.waitlist_quote import (
    FloorTable,
    Hold,
    Quote,
    WaitingParty,
    median_absolute_error,
    quote_list,
)

__all__ = [
    "Floor",
    "QuoteAccuracy",
    "WaitlistRow",
    "entry",
    "floor",
    "line",
    "quote_accuracy",
    "quotes",
]

_COLUMNS = sql.SQL(", ").join(map(sql.Identifier, waitlist_layout.COLUMNS))
_TABLE = sql.Identifier(waitlist_layout.TABLE)


@dataclass(frozen=True, slots=True)
class Floor:
    """What a quote is worked out from, read at one moment."""

    tables: tuple[FloorTable, ...]
    holds: tuple[Hold, ...]
    turn_times: tuple[tuple[int, int], ...]
    """(largest party, minutes), smallest first, as the venue's settings have them."""
    buffer_minutes: int

    def turn_minutes(self, party_size: int) -> int:
        for max_party_size, minutes in self.turn_times:
            if party_size <= max_party_size:
                return minutes
        return self.turn_times[-1][1] if self.turn_times else 120


@dataclass(frozen=True, slots=True)
class QuoteAccuracy:
    median_absolute_error_minutes: float | None
    seated: int
    """Parties seated from the list that day with a quote: what the median is taken over."""


async def line(
    pool: AsyncConnectionPool[Any],
    venue_id: str,
    service_date: dt.date,
    *,
    statuses: Sequence[str] = ("waiting",),
) -> list[WaitlistRow]:
    """The day's entries of these statuses in the order they joined the line."""
    query = sql.SQL(
        "SELECT {} FROM {} WHERE venue_id = %s AND service_date = %s AND status = ANY(%s)"
        " ORDER BY added_version, id"
    ).format(_COLUMNS, _TABLE)
    async with pool.connection() as connection:
        cursor = connection.cursor(row_factory=class_row(WaitlistRow))
        await cursor.execute(query, (venue_id, service_date, list(statuses)))
        rows: list[WaitlistRow] = await cursor.fetchall()
    return rows


async def entry(pool: AsyncConnectionPool[Any], venue_id: str, entry_id: str) -> WaitlistRow | None:
    query = sql.SQL("SELECT {} FROM {} WHERE venue_id = %s AND id = %s").format(_COLUMNS, _TABLE)
    async with pool.connection() as connection:
        cursor = connection.cursor(row_factory=class_row(WaitlistRow))
        await cursor.execute(query, (venue_id, entry_id))
        row: WaitlistRow | None = await cursor.fetchone()
    return row


async def floor(pool: AsyncConnectionPool[Any], venue_id: str, service_date: dt.date) -> Floor:
    """The tables in service, the day's parties seated or booked, the turn times."""
    tables_query = sql.SQL(
        "SELECT id, capacity, min_capacity FROM {} WHERE venue_id = %s AND NOT retired"
    ).format(sql.Identifier(venue_layout.TABLES))
    holds_query = sql.SQL(
        "SELECT table_ids, starts_at, ends_at, status FROM {}"
        " WHERE venue_id = %s AND service_date = %s AND status IN ('confirmed', 'seated')"
    ).format(sql.Identifier(bookings_layout.TABLE))
    async with pool.connection() as connection:
        cursor = await connection.execute(tables_query, (venue_id,))
        tables = tuple(FloorTable(r[0], r[1], r[2]) for r in await cursor.fetchall())
        cursor = await connection.execute(holds_query, (venue_id, service_date))
        holds = tuple(
            Hold(tuple(r[0]), r[1], r[2], seated=r[3] == "seated") for r in await cursor.fetchall()
        )
    settings = (await venue_row(pool, venue_id)).settings
    turns = tuple((t.max_party_size, t.minutes) for t in settings.turn_times)
    return Floor(tables, holds, turns, settings.buffer_minutes)


def quotes(now: dt.datetime, floor: Floor, waiting: Sequence[WaitingParty]) -> list[Quote]:
    return quote_list(
        now,
        floor.tables,
        floor.holds,
        waiting,
        turn_minutes=floor.turn_minutes,
        buffer_minutes=floor.buffer_minutes,
    )


async def quote_accuracy(
    pool: AsyncConnectionPool[Any], venue_id: str, service_date: dt.date
) -> QuoteAccuracy:
    """How far the quotes of the parties seated from the day's list were off."""
    query = sql.SQL(
        "SELECT quoted_wait_minutes, waited_minutes FROM {}"
        " WHERE venue_id = %s AND service_date = %s AND status = 'seated'"
        " AND quoted_wait_minutes IS NOT NULL AND waited_minutes IS NOT NULL"
    ).format(_TABLE)
    async with pool.connection() as connection:
        cursor = await connection.execute(query, (venue_id, service_date))
        pairs = [(int(r[0]), int(r[1])) for r in await cursor.fetchall()]
    return QuoteAccuracy(median_absolute_error(pairs), len(pairs))
