"""Time travel: a booking, a booking's history, and the tables' availability as they stood
at an instant, computed from the event store. These reads go to the event store on
purpose (the read models only know the present); each costs a handful of stream reads.

"As it stood at T": the events recorded at or before T (`recorded_at`, the start of the
appending transaction, so an append is wholly in or out). Within a stream, versions are
recorded in order (every append names the version it expects), so the events of a stream
up to T are a prefix of it, folded with the domain's own `evolve`. Availability then
applies the same rules as the live read (`read_models.availability.tables_in`), with "now"
taken to be T: what a guest asking at T would have been told.

Streams only know about committed events: an append still in flight at T shows up once it
commits, as it would in a replay (`projectors.replay`).
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

import msgspec

from booking_core.codec import codec
from booking_core.domain.booking import BookingState
from booking_core.domain.folding import BOOKING, SERVICE_DAY, TABLE, VENUE_KIND, StreamKind
from booking_core.domain.service_day import ServiceDay
from booking_core.domain.streams import streams_of
from booking_core.domain.table import ActiveTable
from booking_core.store import EventStore, RecordedEvent
from read_models import availability_keys as keys
from read_models.availability import Interval, Snapshot, TablesAt, snapshot_days, tables_in

__all__ = [
    "BookingAsOf",
    "HistoryEntry",
    "availability_as_of",
    "booking_as_of",
    "booking_history",
    "parse_instant",
]

S = TypeVar("S")


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant with its offset (`2026-11-26T19:00:00Z`), as an aware UTC
    datetime; ValueError for anything else, a local time without offset included."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"not an ISO-8601 instant: {text!r} (expected e.g. 2026-11-26T19:00:00Z)"
        ) from None
    if parsed.tzinfo is None:
        raise ValueError(f"the instant {text!r} has no UTC offset: add Z for UTC")
    return parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class BookingAsOf:
    booking_id: str
    version: int
    """The booking stream's version at the instant; 0 if the booking did not exist yet."""
    state: BookingState
    """`NoBooking` if it did not exist yet; otherwise `Confirmed`, `Seated`, ... with the
    booking's details as they were."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    version: int
    type: str
    at: datetime
    """When the event was recorded (UTC)."""
    by: str | None
    """The user whose command caused it (event metadata), if known."""
    data: dict[str, Any]
    """The event's fields as JSON-ready values (dates and times as ISO strings)."""


async def _stream_until(store: EventStore, stream_id: str, as_of: datetime) -> list[RecordedEvent]:
    records = await store.read_stream(stream_id)
    return list(itertools.takewhile(lambda r: r.recorded_at <= as_of, records))


async def _fold(store: EventStore, stream_id: str, kind: StreamKind[S], as_of: datetime) -> S:
    records = await _stream_until(store, stream_id, as_of)
    return kind.fold(codec.decode(record) for record in records)


async def booking_as_of(
    store: EventStore, venue_id: str, booking_id: str, as_of: datetime | None
) -> BookingAsOf:
    """The venue's booking as it stood at `as_of` (None: as it stands, every event
    recorded so far). Raises `InvalidId` for an impossible id."""
    stream_id = streams_of(venue_id).booking(booking_id)
    if as_of is None:
        records = await store.read_stream(stream_id)
    else:
        records = await _stream_until(store, stream_id, as_of)
    state = BOOKING.fold(codec.decode(record) for record in records)
    return BookingAsOf(booking_id, records[-1].version if records else 0, state)


async def booking_history(
    store: EventStore, venue_id: str, booking_id: str, *, as_of: datetime | None = None
) -> list[HistoryEntry]:
    """Every event of the venue's booking, oldest first (up to `as_of` if given); empty if
    there is no such booking. Raises `InvalidId` for an impossible id."""
    stream_id = streams_of(venue_id).booking(booking_id)
    if as_of is None:
        records = await store.read_stream(stream_id)
    else:
        records = await _stream_until(store, stream_id, as_of)
    return [_entry(record) for record in records]


def _entry(record: RecordedEvent) -> HistoryEntry:
    data = msgspec.to_builtins(codec.decode(record))
    data.pop("type", None)
    return HistoryEntry(
        version=record.version,
        type=record.type,
        at=record.recorded_at.astimezone(UTC),
        by=codec.metadata(record).user_id,
        data=data,
    )


async def availability_as_of(
    store: EventStore,
    venue_id: str,
    *,
    day: date,
    at: time,
    as_of: datetime,
    party_size: int = 2,
    duration_minutes: int | None = None,
) -> TablesAt:
    """Every table's status for a turn at local `day` `at`, as a guest asking at `as_of`
    would have been told (the live equivalent is `read_models.availability.tables_at`)."""
    streams = streams_of(venue_id)
    venue = await _fold(store, streams.venue, VENUE_KIND, as_of)
    table_ids = sorted(venue.tables)
    tables = await asyncio.gather(
        *(_fold(store, streams.table(t), TABLE, as_of) for t in table_ids)
    )
    active = {t.table_id: t for t in tables if isinstance(t, ActiveTable)}
    wanted = [(t, d) for t in active for d in snapshot_days(day)]
    service_days = await asyncio.gather(
        *(_fold(store, streams.service_day(t, d), SERVICE_DAY, as_of) for t, d in wanted)
    )
    intervals: dict[str, list[Interval]] = {}
    for (table_id, service_date), service_day in zip(wanted, service_days, strict=True):
        intervals.setdefault(table_id, []).extend(_intervals(service_day, service_date))
    snapshot = Snapshot(
        hours=venue.hours,
        settings=venue.settings,
        closures=venue.closures,
        tables={table_id: _facts(table) for table_id, table in active.items()},
        intervals=intervals,
        combinations={
            combination_id: keys.CombinationFacts(
                table_ids=combination.table_ids,
                min_capacity=combination.min_capacity,
                capacity=combination.capacity,
                name=combination.name,
            )
            for combination_id, combination in venue.combinations.items()
        },
    )
    return tables_in(
        snapshot,
        day=day,
        at=at,
        party_size=party_size,
        duration_minutes=duration_minutes,
        now=as_of,
    )


def _facts(table: ActiveTable) -> keys.TableFacts:
    spec = table.spec
    return keys.TableFacts(
        name=spec.name, capacity=spec.capacity, min_capacity=spec.min_capacity, area=spec.area
    )


def _intervals(service_day: ServiceDay, service_date: date) -> list[Interval]:
    def span(starts_at: datetime, ends_at: datetime, kind: str) -> Interval:
        start, end = keys.span_seconds(starts_at, ends_at)
        return Interval(start, end, kind, service_date)

    return [
        *(span(r.starts_at, r.ends_at, keys.BOOKING) for r in service_day.reservations.values()),
        *(span(b.starts_at, b.ends_at, keys.BLOCK) for b in service_day.blocks.values()),
    ]
