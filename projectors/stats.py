"""Stats (SQL): per service date, what the dashboard and the reports count.

Per day: `bookings` (every booking not cancelled), `covers` (guests of bookings neither
cancelled nor no-show), `cancellations`, `no_shows`, `seated` (seated now), `completed`,
`booked_seat_minutes` (guests x minutes of bookings neither cancelled nor no-show) and
`open_seat_minutes` (the seats of the active tables x the minutes the venue is open that
day; 0 on a closure). Per day and source, and per day and party size: bookings, covers.

Each booking's contribution is a pure function of its state. An event replaces the state,
and the day totals move by the difference, so a change of date or party size, a
cancellation or a no-show takes back exactly what the booking had added. The projection
keeps the states it needs in a bookings table of its own, and the floor (hours, closures,
table capacities) in a floor table (names in `read_models.stats_layout`).

A day's open seat-minutes come from the floor in force on that day
(`projectors.stats_floor`): a pure function of the events, so the numbers are the same
however the log is cut into batches, and whenever it is read (a rebuild and a replay equal
the live model).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
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
)
from projectors.base import Decoded, TableNames, by_venue
from projectors.stats_floor import FLOOR_EVENTS, Floor, FloorVersion
from read_models import stats_layout as layout

__all__ = ["StatsProjection"]

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


@dataclass
class _Venue:
    """One venue's share of a batch, folded: what to write for it."""

    venue_id: str
    floor: Floor
    deltas: _Deltas = field(default_factory=_Deltas)
    touched: dict[str, _Booking] = field(default_factory=dict)
    floor_touched: bool = False
    changed_from: date | None = None
    closures_touched: set[date] = field(default_factory=set)


class StatsProjection:
    name: ClassVar[str] = layout.NAME
    tables: ClassVar[tuple[str, ...]] = layout.ALL_TABLES

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        """Each venue's events of the batch, in their order (venues share nothing here),
        read and written for all the batch's venues at once: a batch spread over many
        venues costs the statements of one."""
        groups = by_venue(batch)
        ids = {event.booking_id for _, event in batch if isinstance(event, _LATER)}
        bookings = await self._load_bookings(connection, tables, ids)
        floors = await self._load_floors(connection, tables, list(groups))
        folded = [
            self._fold_venue(venue_id, events, bookings, floors.get(venue_id) or Floor())
            for venue_id, events in groups.items()
        ]
        await self._store(connection, tables, folded)
        for venue in folded:
            if venue.floor_touched:
                await self._store_floor(
                    connection,
                    tables,
                    venue.venue_id,
                    venue.floor,
                    venue.changed_from,
                    venue.closures_touched,
                )

    @staticmethod
    def _fold_venue(
        venue_id: str, batch: Sequence[Decoded], bookings: dict[str, _Booking], floor: Floor
    ) -> _Venue:
        venue = _Venue(venue_id, floor)
        deltas, touched = venue.deltas, venue.touched
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
                case ClosureAdded() | ClosureRemoved():
                    floor.apply(event, record.recorded_at)
                    venue.closures_touched.add(event.date)
                    venue.floor_touched = True
                case _ if isinstance(event, FLOOR_EVENTS):
                    since = floor.apply(event, record.recorded_at)
                    venue.floor_touched = True
                    if since is not None:
                        changed = venue.changed_from
                        venue.changed_from = since if changed is None else min(changed, since)
        return venue

    async def _load_bookings(
        self, connection: AsyncConnection[Any], tables: TableNames, ids: set[str]
    ) -> dict[str, _Booking]:
        if not ids:
            return {}
        cursor = await connection.execute(
            sql.SQL(
                "SELECT id, service_date, party_size, seat_minutes, status, source"
                " FROM {t} WHERE id = ANY(%s)"
            ).format(t=tables[layout.BOOKINGS]),
            (list(ids),),
        )
        return {row[0]: _Booking(*row[1:]) for row in await cursor.fetchall()}

    async def _load_floors(
        self, connection: AsyncConnection[Any], tables: TableNames, venue_ids: list[str]
    ) -> dict[str, Floor]:
        cursor = await connection.execute(
            sql.SQL(
                "SELECT venue_id, time_zone, closures, versions FROM {t} WHERE venue_id = ANY(%s)"
            ).format(t=tables[layout.FLOOR]),
            (venue_ids,),
        )
        return {
            row[0]: Floor(
                time_zone=row[1],
                closures=msgspec.json.decode(row[2], type=list[date]),
                versions=msgspec.json.decode(row[3], type=list[FloorVersion]),
            )
            for row in await cursor.fetchall()
        }

    async def _store(
        self, connection: AsyncConnection[Any], tables: TableNames, venues: Sequence[_Venue]
    ) -> None:
        touched = [(v.venue_id, id_, b) for v in venues for id_, b in v.touched.items()]
        totals = [
            (v.venue_id, day, *(counts[c] for c in COUNTERS), v.floor.open_seat_minutes(day))
            for v in venues
            for day, counts in v.deltas.totals.items()
        ]
        cells = [
            (v.venue_id, day, dim, key, bookings_delta, breakdown[(dim, key, "covers")])
            for v in venues
            for day, breakdown in v.deltas.breakdown.items()
            for (dim, key, measure), bookings_delta in breakdown.items()
            if measure == "bookings"
        ]
        async with connection.cursor() as cursor:
            if touched:
                await cursor.execute(
                    sql.SQL(
                        "INSERT INTO {t} (id, service_date, party_size, seat_minutes, status,"
                        " source, venue_id) SELECT * FROM unnest(%s::text[], %s::date[],"
                        " %s::int[], %s::int[], %s::text[], %s::text[], %s::text[])"
                        " ON CONFLICT (id) DO UPDATE SET"
                        " service_date = excluded.service_date, party_size = excluded.party_size,"
                        " seat_minutes = excluded.seat_minutes, status = excluded.status"
                    ).format(t=tables[layout.BOOKINGS]),
                    [
                        [id_ for _, id_, _ in touched],
                        [b.service_date for _, _, b in touched],
                        [b.party_size for _, _, b in touched],
                        [b.seat_minutes for _, _, b in touched],
                        [b.status for _, _, b in touched],
                        [b.source for _, _, b in touched],
                        [venue_id for venue_id, _, _ in touched],
                    ],
                )
            if totals:
                increments = sql.SQL(", ").join(
                    sql.SQL("{c} = s.{c} + excluded.{c}").format(c=sql.Identifier(c))
                    for c in COUNTERS
                )
                await cursor.executemany(
                    sql.SQL(
                        "INSERT INTO {t} AS s (venue_id, service_date, {cols}, open_seat_minutes)"
                        " VALUES (%s, %s, {values}, %s) ON CONFLICT (venue_id, service_date)"
                        " DO UPDATE SET {inc},"
                        " open_seat_minutes = excluded.open_seat_minutes"
                    ).format(
                        t=tables[layout.DAILY],
                        cols=sql.SQL(", ").join(map(sql.Identifier, COUNTERS)),
                        values=sql.SQL(", ").join(sql.Placeholder() for _ in COUNTERS),
                        inc=increments,
                    ),
                    totals,
                )
            if cells:
                await cursor.executemany(
                    sql.SQL(
                        "INSERT INTO {t} AS b (venue_id, service_date, dimension, key, bookings,"
                        " covers) VALUES (%s, %s, %s, %s, %s, %s)"
                        " ON CONFLICT (venue_id, service_date, dimension, key)"
                        " DO UPDATE SET bookings = b.bookings + excluded.bookings,"
                        " covers = b.covers + excluded.covers"
                    ).format(t=tables[layout.BREAKDOWN]),
                    cells,
                )

    async def _store_floor(
        self,
        connection: AsyncConnection[Any],
        tables: TableNames,
        venue_id: str,
        floor: Floor,
        changed_from: date | None,
        closures: set[date],
    ) -> None:
        """Keep the floor, and recount the open seat-minutes of every counted day it may
        have changed: from the earliest date a change counts from, and the closures' days."""
        latest = floor.latest
        async with connection.cursor() as cursor:
            await cursor.execute(
                sql.SQL(
                    "INSERT INTO {t} (venue_id, opening_hours, time_zone, capacities, closures,"
                    " versions) VALUES (%s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (venue_id) DO UPDATE SET"
                    " opening_hours = excluded.opening_hours, time_zone = excluded.time_zone,"
                    " capacities = excluded.capacities, closures = excluded.closures,"
                    " versions = excluded.versions"
                ).format(t=tables[layout.FLOOR]),
                (
                    venue_id,
                    Jsonb(msgspec.to_builtins(latest.opening_hours)),
                    floor.time_zone,
                    Jsonb(latest.capacities),
                    Jsonb(msgspec.to_builtins(floor.closures)),
                    Jsonb(msgspec.to_builtins(floor.versions)),
                ),
            )
            await cursor.execute(
                sql.SQL(
                    "SELECT service_date FROM {t} WHERE venue_id = %s"
                    " AND (service_date >= %s OR service_date = ANY(%s))"
                ).format(t=tables[layout.DAILY]),
                (venue_id, changed_from or date.max, sorted(closures)),
            )
            days = [row[0] for row in await cursor.fetchall()]
            if days:
                await cursor.executemany(
                    sql.SQL(
                        "UPDATE {t} SET open_seat_minutes = %s"
                        " WHERE venue_id = %s AND service_date = %s"
                    ).format(t=tables[layout.DAILY]),
                    [(floor.open_seat_minutes(day), venue_id, day) for day in days],
                )
