"""Which tables are free, and when: answered from the Redis availability model alone.

Both questions cost one pipelined Redis round trip: the venue's hours and slot settings,
closures, tables, and the intervals of the service dates around the asked one arrive
together, and the rest is arithmetic here.

Rules (the same the booking decider applies): a table is *blocked* when a block overlaps
the turn; *booked* when a live booking overlaps the turn widened by the venue's buffer on
both sides; *closed* when the turn does not fit an opening shift, the day is closed, or
the start is in the past or inside the lead time; otherwise *available*. Retired tables
are not listed.

A model that is missing or still being built is not answered from: `ModelNotReady`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

import msgspec
from redis.asyncio import Redis

from booking_core.domain.time_rules import bookable_starts, shift_at, to_instant, to_local
from booking_core.domain.values import OpeningHours, SlotSettings
from read_models.availability_keys import BLOCK, NAME, TableFacts, parse_field

__all__ = [
    "Interval",
    "ModelNotReady",
    "SlotAvailability",
    "Snapshot",
    "TableAvailability",
    "TablesAt",
    "slots_for",
    "tables_at",
    "tables_in",
]

Status = Literal["available", "booked", "blocked", "closed"]
_DAY = timedelta(days=1)
_facts = msgspec.json.Decoder(TableFacts)
_hours = msgspec.json.Decoder(OpeningHours)
_settings = msgspec.json.Decoder(SlotSettings)


class ModelNotReady(Exception):
    """The availability model is missing or being rebuilt: answer 503, never a guess."""


@dataclass(frozen=True, slots=True)
class TableAvailability:
    table_id: str
    name: str
    capacity: int
    min_capacity: int
    area: str | None
    status: Status
    fits_party: bool


@dataclass(frozen=True, slots=True)
class TablesAt:
    date: dt.date
    time: dt.time
    end_time: dt.time
    party_size: int
    duration_minutes: int
    tables: list[TableAvailability]


@dataclass(frozen=True, slots=True)
class SlotAvailability:
    time: dt.time
    tables_available: int


@dataclass(frozen=True, slots=True)
class Interval:
    """A reservation (`kind` BOOKING) or a block (BLOCK), in epoch seconds."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Snapshot:
    """What the rules need: the venue, its tables that are not retired, and the intervals
    of the service dates around the asked one, by table."""

    hours: OpeningHours
    settings: SlotSettings
    closures: Mapping[date, str]
    tables: dict[str, TableFacts]
    intervals: dict[str, list[Interval]]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def _snapshot(redis: Redis, prefix: str, around: date) -> Snapshot:
    root = f"{prefix}{NAME}:"
    days = [around - _DAY, around, around + _DAY]
    async with redis.pipeline(transaction=False) as pipe:
        pipe.exists(root + "ready")
        pipe.hgetall(root + "venue")
        pipe.hgetall(root + "closures")
        pipe.hgetall(root + "tables")
        pipe.hgetall(root + "retired")
        for day in days:
            pipe.hgetall(f"{root}day:{day.isoformat()}")
        ready, venue, closures, tables, retired, *day_maps = await pipe.execute()
    if not ready:
        raise ModelNotReady("the availability model is being built")
    venue = {_text(k): v for k, v in venue.items()}
    hours = _hours.decode(venue["hours"]) if "hours" in venue else OpeningHours()
    settings = _settings.decode(venue["slots"]) if "slots" in venue else SlotSettings()
    gone = {_text(k) for k in retired}
    facts = {
        _text(table_id): _facts.decode(raw)
        for table_id, raw in tables.items()
        if _text(table_id) not in gone
    }
    intervals: dict[str, list[Interval]] = {}
    for day_map in day_maps:
        for field, span in day_map.items():
            table_id, kind, _ = parse_field(_text(field))
            start, end = _text(span).split(",")
            intervals.setdefault(table_id, []).append(Interval(int(start), int(end), kind))
    return Snapshot(
        hours=hours,
        settings=settings,
        closures={date.fromisoformat(_text(k)): _text(v) for k, v in closures.items()},
        tables=facts,
        intervals=intervals,
    )


def _table_status(snapshot: Snapshot, table_id: str, start: int, end: int) -> Status:
    buffer = snapshot.settings.buffer_minutes * 60
    booked = False
    for interval in snapshot.intervals.get(table_id, ()):
        if interval.kind == BLOCK:
            if interval.start < end and interval.end > start:
                return "blocked"
        elif interval.start < end + buffer and interval.end + buffer > start:
            booked = True
    return "booked" if booked else "available"


def _bookable(snapshot: Snapshot, local: datetime, minutes: int, now: datetime) -> bool:
    settings = snapshot.settings
    occurrence = shift_at(snapshot.hours, local)
    if occurrence is None or occurrence.service_date in snapshot.closures:
        return False
    starts_at = to_instant(local, settings.time_zone, strict=False)
    if starts_at < now + timedelta(minutes=settings.min_lead_minutes):
        return False
    today = to_local(now, settings.time_zone).date()
    if (occurrence.service_date - today).days > settings.max_days_ahead:
        return False
    closes_at = to_instant(occurrence.closes, settings.time_zone, strict=False)
    return starts_at + timedelta(minutes=minutes) <= closes_at


def _fits(facts: TableFacts, party_size: int) -> bool:
    return facts.min_capacity <= party_size <= facts.capacity


async def tables_at(
    redis: Redis,
    prefix: str,
    *,
    day: date,
    at: time,
    party_size: int = 2,
    duration_minutes: int | None = None,
    now: datetime | None = None,
) -> TablesAt:
    """Every table's status for a turn starting at local `day` `at`."""
    snapshot = await _snapshot(redis, prefix, day)
    return tables_in(
        snapshot,
        day=day,
        at=at,
        party_size=party_size,
        duration_minutes=duration_minutes,
        now=now or datetime.now(UTC),
    )


def tables_in(
    snapshot: Snapshot,
    *,
    day: date,
    at: time,
    party_size: int,
    duration_minutes: int | None,
    now: datetime,
) -> TablesAt:
    """`tables_at`, answered from a snapshot however it was obtained."""
    settings = snapshot.settings
    minutes = duration_minutes or settings.turn_minutes(party_size)
    local = datetime.combine(day, at)
    starts_at = to_instant(local, settings.time_zone, strict=False)
    start = int(starts_at.timestamp())
    end = start + minutes * 60
    open_ = _bookable(snapshot, local, minutes, now)
    tables = [
        TableAvailability(
            table_id=table_id,
            name=facts.name,
            capacity=facts.capacity,
            min_capacity=facts.min_capacity,
            area=facts.area,
            status=_table_status(snapshot, table_id, start, end) if open_ else "closed",
            fits_party=_fits(facts, party_size),
        )
        for table_id, facts in sorted(snapshot.tables.items(), key=lambda t: (t[1].name, t[0]))
    ]
    end_local = to_local(starts_at + timedelta(minutes=minutes), settings.time_zone)
    return TablesAt(
        date=day,
        time=at,
        end_time=end_local.time(),
        party_size=party_size,
        duration_minutes=minutes,
        tables=tables,
    )


async def slots_for(
    redis: Redis, prefix: str, *, day: date, party_size: int, now: datetime | None = None
) -> list[SlotAvailability]:
    """Every bookable start of service date `day`, with how many fitting tables are free."""
    now = now or datetime.now(UTC)
    snapshot = await _snapshot(redis, prefix, day)
    settings = snapshot.settings
    minutes = settings.turn_minutes(party_size)
    fitting = [t for t, facts in snapshot.tables.items() if _fits(facts, party_size)]
    slots = []
    for local in bookable_starts(settings, snapshot.hours, snapshot.closures, day, minutes):
        if not _bookable(snapshot, local, minutes, now):
            continue
        start = int(to_instant(local, settings.time_zone).timestamp())
        end = start + minutes * 60
        free = sum(1 for t in fitting if _table_status(snapshot, t, start, end) == "available")
        slots.append(SlotAvailability(time=local.time(), tables_available=free))
    return slots
