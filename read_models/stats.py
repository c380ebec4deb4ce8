"""Queries on the stats read model: a day's numbers, a range of days, and breakdowns.

Everything here comes from the stats projection's tables alone (named in
`read_models.stats_layout`), so one consistency wait covers a whole answer.
A day the projection has never counted has zeros. Occupancy is booked seat-minutes over
open seat-minutes, never above 1, and 0 on a day the venue is closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from read_models import stats_layout as layout

__all__ = [
    "BreakdownRow",
    "DayStats",
    "FloorSummary",
    "breakdown",
    "day_stats",
    "days_stats",
    "floor_summary",
    "occupancy",
    "total",
]

Dimension = Literal["source", "party_size"]


def occupancy(booked_seat_minutes: int, open_seat_minutes: int) -> float:
    """Booked over open seat-minutes, rounded to 4 places, within [0, 1]."""
    if open_seat_minutes <= 0:
        return 0.0
    return round(min(1.0, max(0.0, booked_seat_minutes / open_seat_minutes)), 4)


@dataclass(frozen=True, slots=True)
class DayStats:
    service_date: dt.date
    bookings: int = 0
    covers: int = 0
    cancellations: int = 0
    no_shows: int = 0
    seated: int = 0
    completed: int = 0
    booked_seat_minutes: int = 0
    open_seat_minutes: int = 0

    @property
    def occupancy_rate(self) -> float:
        return occupancy(self.booked_seat_minutes, self.open_seat_minutes)


_COUNTS = tuple(f.name for f in fields(DayStats) if f.name != "service_date")


def total(days: Iterable[DayStats], service_date: dt.date) -> DayStats:
    """The sum of `days`, labelled with `service_date`."""
    rows = list(days)
    sums = {name: sum(getattr(row, name) for row in rows) for name in _COUNTS}
    return DayStats(service_date, **sums)


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    key: str
    bookings: int
    covers: int


@dataclass(frozen=True, slots=True)
class FloorSummary:
    """The venue as the stats projection knows it now."""

    time_zone: str
    tables_total: int

    def today(self, now: dt.datetime) -> dt.date:
        """The venue-local date at the instant `now`."""
        try:
            zone = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        return now.astimezone(zone).date()


_SELECT_DAYS = sql.SQL(
    "SELECT service_date, {} FROM {} WHERE venue_id = %s AND service_date BETWEEN %s AND %s"
).format(sql.SQL(", ").join(map(sql.Identifier, _COUNTS)), sql.Identifier(layout.DAILY))


async def days_stats(
    pool: AsyncConnectionPool[Any], venue_id: str, first: dt.date, last: dt.date
) -> list[DayStats]:
    """Every day from `first` to `last` inclusive, in order; zeros where nothing counted."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_SELECT_DAYS, (venue_id, first, last))
        found = {row["service_date"]: DayStats(**row) for row in await cur.fetchall()}
    span = (last - first).days + 1
    dates = (first + dt.timedelta(days=n) for n in range(max(span, 0)))
    return [found.get(day, DayStats(day)) for day in dates]


async def day_stats(pool: AsyncConnectionPool[Any], venue_id: str, day: dt.date) -> DayStats:
    (stats,) = await days_stats(pool, venue_id, day, day)
    return stats


async def breakdown(
    pool: AsyncConnectionPool[Any],
    venue_id: str,
    dimension: Dimension,
    first: dt.date,
    last: dt.date,
) -> list[BreakdownRow]:
    """Bookings and covers per key of `dimension` over the days, most bookings first."""
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute(
            sql.SQL(
                "SELECT key, sum(bookings)::int, sum(covers)::int FROM {}"
                " WHERE venue_id = %s AND dimension = %s AND service_date BETWEEN %s AND %s"
                " GROUP BY key HAVING sum(bookings) <> 0 OR sum(covers) <> 0"
                " ORDER BY sum(bookings) DESC, key"
            ).format(sql.Identifier(layout.BREAKDOWN)),
            (venue_id, dimension, first, last),
        )
        return [BreakdownRow(*row) for row in await cur.fetchall()]


async def floor_summary(pool: AsyncConnectionPool[Any], venue_id: str) -> FloorSummary:
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute(
            sql.SQL(
                "SELECT time_zone, (SELECT count(*) FROM jsonb_object_keys(capacities))::int"
                " FROM {} WHERE venue_id = %s"
            ).format(sql.Identifier(layout.FLOOR)),
            (venue_id,),
        )
        row = await cur.fetchone()
    return FloorSummary(row[0], row[1]) if row else FloorSummary("UTC", 0)
