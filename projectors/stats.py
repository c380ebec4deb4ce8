"""Stats (SQL): per service date, what the dashboard and the reports count.

Per day: `bookings` (every booking not cancelled), `covers` (guests of bookings neither
cancelled nor no-show), `cancellations`, `no_shows`, `seated` (seated now), `completed`,
`booked_seat_minutes` (guests x minutes of bookings neither cancelled nor no-show) and
`open_seat_minutes` (the seats of the active tables x the minutes the venue is open that
day; 0 on a closure). Per day and source, and per day and party size: bookings, covers.

Each booking's contribution is a pure function of its state. An event replaces the state,
and the day totals move by the difference, so a change of date or party size, a
cancellation or a no-show takes back exactly what the booking had added. The projection
keeps the states it needs in `rm_stats_bookings`, and the floor (hours, closures, table
capacities) in `rm_stats_floor`.

A day's open seat-minutes come from the floor as it stood after the last floor change
made on or before that day: a change reaches the days from its own date on, and earlier
days keep the floor they had. The rule depends only on the order of events, so the
numbers are the same however the log is cut into batches (a rebuild equals the live
model).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, ClassVar

import msgspec
from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb

from booking_core.domain.events import (
    BookingCancelled,
    BookingChanged,
    BookingCompleted,
    BookingMarkedNoShow,
    BookingPlaced,
    BookingSeated,
    ClosureAdded,
    ClosureRemoved,
    OpeningHoursChanged,
    SlotSettingsChanged,
    TableAdded,
    TableChanged,
    TableRetired,
)
from booking_core.domain.time_rules import shifts_of
from booking_core.domain.values import OpeningHours
from projectors.base import Decoded, TableNames

__all__ = ["Floor", "StatsProjection", "open_seat_minutes"]

COUNTERS = (
    "bookings",
    "covers",
    "cancellations",
    "no_shows",
    "seated",
    "completed",
    "booked_seat_minutes",
)
_LATER = (BookingChanged, BookingCancelled, BookingSeated, BookingCompleted, BookingMarkedNoShow)
_STATUS: dict[type[Any], str] = {
    BookingCancelled: "cancelled",
    BookingSeated: "seated",
    BookingCompleted: "completed",
    BookingMarkedNoShow: "no_show",
}


@dataclass(frozen=True, slots=True)
class _Booking:
    service_date: date
    party_size: int
    seat_minutes: int
    status: str
    source: str


class Floor(msgspec.Struct, kw_only=True):
    opening_hours: OpeningHours = msgspec.field(default_factory=OpeningHours)
    time_zone: str = "UTC"
    capacities: dict[str, int] = msgspec.field(default_factory=dict)
    closures: list[date] = msgspec.field(default_factory=list)


def open_seat_minutes(floor: Floor, day: date) -> int:
    if day in floor.closures:
        return 0
    minutes = sum(
        int((shift.closes - shift.opens) / timedelta(minutes=1))
        for shift in shifts_of(floor.opening_hours, day)
    )
    return minutes * sum(floor.capacities.values())


def _contribution(booking: _Booking) -> tuple[Counter[str], Counter[tuple[str, str, str]]]:
    """The day totals and the (dimension, key, measure) cells a booking adds."""
    totals: Counter[str] = Counter()
    breakdown: Counter[tuple[str, str, str]] = Counter()
    if booking.status == "cancelled":
        totals["cancellations"] += 1
        return totals, breakdown
    totals["bookings"] += 1
    dims = (("source", booking.source), ("party_size", str(booking.party_size)))
    for dimension, key in dims:
        breakdown[(dimension, key, "bookings")] += 1
    if booking.status == "no_show":
        totals["no_shows"] += 1
        return totals, breakdown
    totals["covers"] += booking.party_size
    totals["booked_seat_minutes"] += booking.seat_minutes
    for dimension, key in dims:
        breakdown[(dimension, key, "covers")] += booking.party_size
    if booking.status in ("seated", "completed"):
        totals[booking.status] += 1
    return totals, breakdown


class _Deltas:
    def __init__(self) -> None:
        self.totals: dict[date, Counter[str]] = {}
        self.breakdown: dict[date, Counter[tuple[str, str, str]]] = {}

    def move(self, before: _Booking | None, after: _Booking) -> None:
        if before is not None:
            self._add(before, -1)
        self._add(after, 1)

    def _add(self, booking: _Booking, sign: int) -> None:
        totals, breakdown = _contribution(booking)
        day_totals = self.totals.setdefault(booking.service_date, Counter())
        day_breakdown = self.breakdown.setdefault(booking.service_date, Counter())
        for counter, value in totals.items():
            day_totals[counter] += sign * value
        for cell, amount in breakdown.items():
            day_breakdown[cell] += sign * amount


class StatsProjection:
    name: ClassVar[str] = "stats"
    tables: ClassVar[tuple[str, ...]] = (
        "rm_daily_stats",
        "rm_daily_breakdown",
        "rm_stats_bookings",
        "rm_stats_floor",
    )

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        ids = {event.booking_id for _, event in batch if isinstance(event, _LATER)}
        bookings = await self._load_bookings(connection, tables, ids)
        floor = await self._load_floor(connection, tables)
        floors = _FloorHistory(floor)
        deltas = _Deltas()
        touched: dict[str, _Booking] = {}
        for record, event in batch:
            match event:
                case BookingPlaced():
                    after = _Booking(
                        event.service_date,
                        event.party_size,
                        event.party_size * event.duration_minutes,
                        "confirmed",
                        event.source,
                    )
                    deltas.move(None, after)
                    bookings[event.booking_id] = touched[event.booking_id] = after
                case BookingChanged() if event.booking_id in bookings:
                    before = bookings[event.booking_id]
                    after = replace(
                        before,
                        service_date=event.service_date,
                        party_size=event.party_size,
                        seat_minutes=event.party_size * event.duration_minutes,
                    )
                    deltas.move(before, after)
                    bookings[event.booking_id] = touched[event.booking_id] = after
                case (
                    BookingCancelled()
                    | BookingSeated()
                    | BookingCompleted()
                    | (BookingMarkedNoShow())
                ) if event.booking_id in bookings:
                    before = bookings[event.booking_id]
                    after = replace(before, status=_STATUS[type(event)])
                    deltas.move(before, after)
                    bookings[event.booking_id] = touched[event.booking_id] = after
                case _:
                    if _change_floor(floor, event):
                        floors.changed(record.recorded_at.date(), floor)
        await self._store(connection, tables, deltas, touched, floors)

    async def _load_bookings(
        self, connection: AsyncConnection[Any], tables: TableNames, ids: set[str]
    ) -> dict[str, _Booking]:
        if not ids:
            return {}
        cursor = await connection.execute(
            sql.SQL(
                "SELECT id, service_date, party_size, seat_minutes, status, source"
                " FROM {t} WHERE id = ANY(%s)"
            ).format(t=tables["rm_stats_bookings"]),
            (list(ids),),
        )
        return {row[0]: _Booking(*row[1:]) for row in await cursor.fetchall()}

    async def _load_floor(self, connection: AsyncConnection[Any], tables: TableNames) -> Floor:
        cursor = await connection.execute(
            sql.SQL(
                "SELECT opening_hours, time_zone, capacities, closures FROM {t} WHERE id = 1"
            ).format(t=tables["rm_stats_floor"])
        )
        row = await cursor.fetchone()
        if row is None:
            return Floor()
        return Floor(
            opening_hours=msgspec.json.decode(row[0], type=OpeningHours),
            time_zone=row[1],
            capacities=msgspec.json.decode(row[2], type=dict[str, int]),
            closures=msgspec.json.decode(row[3], type=list[date]),
        )

    async def _store(
        self,
        connection: AsyncConnection[Any],
        tables: TableNames,
        deltas: _Deltas,
        touched: dict[str, _Booking],
        floors: _FloorHistory,
    ) -> None:
        async with connection.cursor() as cursor:
            if touched:
                await cursor.execute(
                    sql.SQL(
                        "INSERT INTO {t} (id, service_date, party_size, seat_minutes, status,"
                        " source) SELECT * FROM unnest(%s::text[], %s::date[], %s::int[],"
                        " %s::int[], %s::text[], %s::text[]) ON CONFLICT (id) DO UPDATE SET"
                        " service_date = excluded.service_date, party_size = excluded.party_size,"
                        " seat_minutes = excluded.seat_minutes, status = excluded.status"
                    ).format(t=tables["rm_stats_bookings"]),
                    [
                        list(touched),
                        [b.service_date for b in touched.values()],
                        [b.party_size for b in touched.values()],
                        [b.seat_minutes for b in touched.values()],
                        [b.status for b in touched.values()],
                        [b.source for b in touched.values()],
                    ],
                )
            if deltas.totals:
                increments = sql.SQL(", ").join(
                    sql.SQL("{c} = s.{c} + excluded.{c}").format(c=sql.Identifier(c))
                    for c in COUNTERS
                )
                await cursor.executemany(
                    sql.SQL(
                        "INSERT INTO {t} AS s (service_date, {cols}, open_seat_minutes)"
                        " VALUES (%s, {values}, %s) ON CONFLICT (service_date) DO UPDATE SET {inc},"
                        " open_seat_minutes = excluded.open_seat_minutes"
                    ).format(
                        t=tables["rm_daily_stats"],
                        cols=sql.SQL(", ").join(map(sql.Identifier, COUNTERS)),
                        values=sql.SQL(", ").join(sql.Placeholder() for _ in COUNTERS),
                        inc=increments,
                    ),
                    [
                        (day, *(totals[c] for c in COUNTERS), floors.open_seat_minutes(day))
                        for day, totals in deltas.totals.items()
                    ],
                )
            rows = [
                (day, dim, key, bookings_delta, breakdown[(dim, key, "covers")])
                for day, breakdown in deltas.breakdown.items()
                for (dim, key, measure), bookings_delta in breakdown.items()
                if measure == "bookings"
            ]
            if rows:
                await cursor.executemany(
                    sql.SQL(
                        "INSERT INTO {t} AS b (service_date, dimension, key, bookings, covers)"
                        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (service_date, dimension, key)"
                        " DO UPDATE SET bookings = b.bookings + excluded.bookings,"
                        " covers = b.covers + excluded.covers"
                    ).format(t=tables["rm_daily_breakdown"]),
                    rows,
                )
            if floors.since is not None:
                await self._store_floor(cursor, tables, floors)

    async def _store_floor(self, cursor: Any, tables: TableNames, floors: _FloorHistory) -> None:
        floor = floors.latest
        await cursor.execute(
            sql.SQL(
                "INSERT INTO {t} (id, opening_hours, time_zone, capacities, closures)"
                " VALUES (1, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET"
                " opening_hours = excluded.opening_hours, time_zone = excluded.time_zone,"
                " capacities = excluded.capacities, closures = excluded.closures"
            ).format(t=tables["rm_stats_floor"]),
            (
                Jsonb(msgspec.to_builtins(floor.opening_hours)),
                floor.time_zone,
                Jsonb(floor.capacities),
                Jsonb([d.isoformat() for d in floor.closures]),
            ),
        )
        await cursor.execute(
            sql.SQL("SELECT service_date FROM {t} WHERE service_date >= %s").format(
                t=tables["rm_daily_stats"]
            ),
            (floors.since,),
        )
        days = [row[0] for row in await cursor.fetchall()]
        if days:
            await cursor.executemany(
                sql.SQL("UPDATE {t} SET open_seat_minutes = %s WHERE service_date = %s").format(
                    t=tables["rm_daily_stats"]
                ),
                [(floors.open_seat_minutes(day), day) for day in days],
            )


class _FloorHistory:
    """The floor before a batch and after each change in it, by the change's date."""

    def __init__(self, before: Floor) -> None:
        self._before = msgspec.structs.replace(
            before, capacities=dict(before.capacities), closures=list(before.closures)
        )
        self._changes: list[tuple[date, Floor]] = []

    def changed(self, on: date, floor: Floor) -> None:
        snapshot = msgspec.structs.replace(
            floor, capacities=dict(floor.capacities), closures=list(floor.closures)
        )
        self._changes.append((on, snapshot))

    @property
    def since(self) -> date | None:
        return min((on for on, _ in self._changes), default=None)

    @property
    def latest(self) -> Floor:
        return self._changes[-1][1] if self._changes else self._before

    def open_seat_minutes(self, day: date) -> int:
        floor = self._before
        for on, snapshot in self._changes:
            if on <= day:
                floor = snapshot
        return open_seat_minutes(floor, day)


def _change_floor(floor: Floor, event: object) -> bool:
    """Apply a floor event to `floor` in place; False for any other event."""
    match event:
        case TableAdded() | TableChanged():
            floor.capacities[event.table_id] = event.capacity
        case TableRetired():
            floor.capacities.pop(event.table_id, None)
        case OpeningHoursChanged():
            floor.opening_hours = event.hours
        case SlotSettingsChanged():
            floor.time_zone = event.time_zone
        case ClosureAdded():
            if event.date not in floor.closures:
                floor.closures.append(event.date)
        case ClosureRemoved():
            if event.date in floor.closures:
                floor.closures.remove(event.date)
        case _:
            return False
    return True
