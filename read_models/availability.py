"""Which tables are free, and when: answered from the Redis availability model alone.

The answers agree with the booking decider by construction, for every history and clock:

- whether a start can be booked at all is `time_rules.resolve_slot`, the very rule a
  booking is decided by (`place_start` once per snapshot for a day's grid, `check_clock`
  per request); a start it refuses is *closed* for every table, except a time that can
  never be booked, skipped by the clocks or off the slot grid: that refusal is raised,
  as the booking route raises it (`NEVER_BOOKABLE`);
- the model itself only answers occupancy, against the intervals of the same service-day
  streams the decider reads (the start's service date and its two neighbours): a table
  is *blocked* when a block overlaps the turn, *booked* when a reservation overlaps the
  turn widened by the venue's buffer on both sides, otherwise *available*;
- a day's starts list only those where some table that fits the party is available, or
  some table combination that fits it has every one of its tables available (a booking
  is auto-assigned a combination when no single table is free, and holds all its tables);
- a start the venue's pacing refuses for the party (`pacing.refusal`, the decider's rule,
  over the starts of the same `pacing@{service_date}` stream) is not listed, and its
  free tables and combinations answer *closed*, as the decider refuses every table then.

Retired tables are not listed, nor combinations of a table the model has not (retiring a
table removes its combinations; this only guards a model caught in between).

A model that is missing or still being built is not answered from: `ModelNotReady`.

**Cached per process, by model version.** The model's checkpoint names its version: the
model is a function of the log up to the checkpoint, every write to it moves the
checkpoint in the same Lua call (`projectors/_apply_redis.lua`), and a rebuild's swap
replaces every key, checkpoint included, in one script. So each read first asks Redis for
the ready flag and the checkpoint (one `MGET`); a snapshot parsed earlier for the same
prefix, service date and checkpoint is the model as it stands, and is used. Otherwise
the venue, closures, tables and the intervals of the service dates from two days before
the asked one to the day after (a start after midnight belongs to the day before, and is
checked against that day's neighbours) arrive in one `MULTI`/`EXEC` together with the
checkpoint they belong to, so what is cached under a checkpoint is exactly that version.
No checkpoint (a model lost or being created) means no cache hit; no ready flag means
`ModelNotReady`, cached or not.

**Indexed per snapshot.** Each table's blocks, and its bookings widened by the buffer,
in the streams around one service date, are sorted by start with a running maximum of
their ends, so "does anything overlap [start, end)" is one bisect. The tables in response
order, which tables fit a party size, the placed starts of a day and how many fitting
tables are free at each are worked out once per snapshot. Whatever depends on the clock
(past, lead time, booking window) is decided on every request with its own `now`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from time import monotonic as time_monotonic
from typing import Any, Literal, TypeVar, cast

import msgspec
from redis.asyncio import Redis

from booking_core.domain import pacing
from booking_core.domain.errors import DomainError, NonexistentLocalTime, OffSlotGrid
from booking_core.domain.streams import neighbouring_days
from booking_core.domain.time_rules import (
    Slot,
    check_clock,
    day_slots,
    local_today,
    resolve_slot,
    to_instant,
    to_local,
)
from booking_core.domain.values import OpeningHours, SlotSettings
from read_models.availability_keys import (
    BLOCK,
    CLOSURES,
    COMBINATIONS,
    HOURS,
    NAME,
    RETIRED,
    SLOTS,
    TABLES,
    VENUE,
    VERSION,
    CombinationFacts,
    TableFacts,
    pacing_key_part,
    parse_field,
    parse_pacing_value,
    span_seconds,
    venue_part,
)
from read_models.model_keys import checkpoint_key, model_root, ready_key

__all__ = [
    "CACHED_SNAPSHOTS",
    "NEVER_BOOKABLE",
    "VERSIONS_PER_CHECK",
    "CombinationAvailability",
    "Interval",
    "ModelNotReady",
    "SlotAvailability",
    "Snapshot",
    "TableAvailability",
    "TablesAt",
    "clear_cache",
    "holds_until",
    "slots_for",
    "slots_in",
    "snapshot_days",
    "snapshot_for",
    "tables_at",
    "tables_in",
]

Status = Literal["available", "booked", "blocked", "closed"]
T = TypeVar("T")
_DAY = timedelta(days=1)
_INSTANT = timedelta(microseconds=1)
_facts = msgspec.json.Decoder(TableFacts)
_combination = msgspec.json.Decoder(CombinationFacts)
_hours = msgspec.json.Decoder(OpeningHours)
_settings = msgspec.json.Decoder(SlotSettings)

CACHED_SNAPSHOTS = 2048
"""Parsed snapshots kept per process (one per prefix, venue, service date and version):
enough for a few days of every venue of a group of two hundred."""
VERSIONS_PER_CHECK = 256
"""How many venues' versions one check reads (see `snapshot_for`)."""


NEVER_BOOKABLE = (NonexistentLocalTime, OffSlotGrid)
"""Refusals of a start that no clock, table or booking can lift: `tables_in` raises them
rather than answer "closed", so asking about the time and booking it are refused alike."""


class ModelNotReady(Exception):
    """The availability model is missing or being rebuilt: answer 503, never a guess."""


class TableAvailability(msgspec.Struct, frozen=True):
    """One table's answer; a Struct, so the API encodes it as it is."""

    table_id: str
    name: str
    capacity: int
    min_capacity: int
    area: str | None
    status: Status
    fits_party: bool


class CombinationAvailability(msgspec.Struct, frozen=True):
    """One table combination's answer: `available` when every one of its tables is."""

    combination_id: str
    name: str | None
    table_ids: tuple[str, ...]
    capacity: int
    min_capacity: int
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
    starts_at: datetime
    combinations: list[CombinationAvailability] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SlotAvailability:
    """A start of a service date: `date` is its local calendar date (the next one for a
    start after midnight), which is what a booking of it names."""

    date: dt.date
    time: dt.time
    tables_available: int


@dataclass(frozen=True, slots=True)
class Interval:
    """A reservation (`kind` BOOKING) or a block (BLOCK), in epoch seconds (the start
    rounded down, the end up: exact against turns on whole seconds), as held in the
    stream of `service_date`."""

    start: int
    end: int
    kind: str
    service_date: date


@dataclass(frozen=True)
class Snapshot:
    """What the rules need: the venue, its tables that are not retired, and the intervals
    of the service dates around the asked one (from two days before to the day after),
    by table.

    Treat it as immutable: its `index` is worked out from it once, on first use."""

    hours: OpeningHours
    settings: SlotSettings
    closures: Mapping[date, str]
    tables: dict[str, TableFacts]
    intervals: dict[str, list[Interval]]
    paced: Mapping[date, list[tuple[datetime, int]]] = dataclasses.field(default_factory=dict)
    """The starts that count towards pacing, local wall clock and covers, by service date."""
    combinations: Mapping[str, CombinationFacts] = dataclasses.field(default_factory=dict)

    @cached_property
    def index(self) -> _Index:
        """Worked out on first use, then kept with the snapshot."""
        return _Index(self)

    @cached_property
    def _answers(self) -> dict[Hashable, tuple[Any, datetime]]:
        return {}

    def remember(self, key: Hashable, now: datetime, work: Callable[[], tuple[T, datetime]]) -> T:
        """An answer derived from this snapshot at `now`: `work` gives it and the instant
        until which it holds (see `holds_until`); until then it is given again as it was."""
        found = self._answers.get(key)
        if found is not None and now < found[1]:
            return cast(T, found[0])
        if len(self._answers) >= _MEMO_ANSWERS:
            self._answers.clear()
        answer, until = work()
        self._answers[key] = (answer, until)
        return answer


_MEMO_ANSWERS = 256
"""Answers one snapshot keeps (`Snapshot.remember`). An answer the API keeps is its
encoded body, up to about 8 KB for a large room: at most a few MB per snapshot, and
`CACHED_SNAPSHOTS` of them."""


def holds_until(snapshot: Snapshot, now: datetime, starts: Iterable[datetime]) -> datetime:
    """The first instant at which an answer about `starts`, worked out at `now`, may no
    longer be right as the clock moves on: the clock's rules (`check_clock`) change it only
    when one of them comes within the lead time, or when the venue's day turns (the
    booking window counts days)."""
    settings = snapshot.settings
    local = to_local(now, settings.time_zone)
    midnight = datetime.combine(local.date() + _DAY, time())
    until = to_instant(midnight, settings.time_zone, strict=False)
    lead = timedelta(minutes=settings.min_lead_minutes)
    for starts_at in starts:
        # Bookable while `now <= starts_at - lead`: the answer changes just after that.
        edge = starts_at - lead + _INSTANT
        if now < edge < until:
            until = edge
    return until


# --- the index ------------------------------------------------------------------------


class _Spans:
    """Intervals sorted by start, with the largest end among each prefix: some interval
    has `start < end_` and `end > start_` exactly when the intervals starting before
    `end_` reach past `start_`. Exact for any integers, empty or inverted spans included."""

    __slots__ = ("reach", "starts")

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self.starts = [start for start, _ in spans]
        self.reach: list[int] = []
        for _, end in spans:
            self.reach.append(end if not self.reach or end > self.reach[-1] else self.reach[-1])

    def overlaps(self, start: int, end: int) -> bool:
        before = bisect_left(self.starts, end)
        return before > 0 and self.reach[before - 1] > start


_NOTHING = _Spans([])
_Around = tuple[dict[str, _Spans], dict[str, _Spans]]


def _answer(table_id: str, facts: TableFacts, status: Status, party_size: int) -> TableAvailability:
    return TableAvailability(
        table_id=table_id,
        name=facts.name,
        capacity=facts.capacity,
        min_capacity=facts.min_capacity,
        area=facts.area,
        status=status,
        fits_party=facts.min_capacity <= party_size <= facts.capacity,
    )


def _combined(
    combination_id: str, facts: CombinationFacts, status: Status, party_size: int
) -> CombinationAvailability:
    return CombinationAvailability(
        combination_id=combination_id,
        name=facts.name,
        table_ids=facts.table_ids,
        capacity=facts.capacity,
        min_capacity=facts.min_capacity,
        status=status,
        fits_party=facts.min_capacity <= party_size <= facts.capacity,
    )


_MEMO_TURNS = 512
"""Turns whose table lists one snapshot keeps (a day has fewer than 100 starts)."""


class _Index:
    """What every read of one snapshot needs, worked out once."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.ordered = sorted(snapshot.tables.items(), key=lambda t: (t[1].name, t[0]))
        self.combinations = sorted(
            (
                (combination_id, facts)
                for combination_id, facts in snapshot.combinations.items()
                if all(t in snapshot.tables for t in facts.table_ids)
            ),
            key=lambda c: (c[1].capacity, (c[1].name or "").casefold(), c[0]),
        )
        self._combined: dict[tuple[date, int, int, int], list[CombinationAvailability]] = {}
        self._around: dict[date, _Around] = {}
        self._fitting: dict[int, list[str]] = {}
        self._slots: dict[tuple[date, int], list[Slot]] = {}
        self._free: dict[tuple[date, int], list[int]] = {}
        self._tables: dict[tuple[date, int, int, int], list[TableAvailability]] = {}
        self._pacing: dict[tuple[date, int, datetime], bool] = {}

    def around(self, service_date: date) -> _Around:
        """Blocks, and bookings widened by the buffer, by table, of the service-day streams
        a booking of `service_date` is decided against (`streams.neighbouring_days`)."""
        found = self._around.get(service_date)
        if found is None:
            days = set(neighbouring_days(service_date))
            buffer = self.snapshot.settings.buffer_minutes * 60
            blocks: dict[str, list[tuple[int, int]]] = {}
            bookings: dict[str, list[tuple[int, int]]] = {}
            for table_id, intervals in self.snapshot.intervals.items():
                for interval in intervals:
                    if interval.service_date not in days:
                        continue
                    if interval.kind == BLOCK:
                        blocks.setdefault(table_id, []).append((interval.start, interval.end))
                    else:  # widened by the buffer on both sides
                        bookings.setdefault(table_id, []).append(
                            (interval.start - buffer, interval.end + buffer)
                        )
            found = self._around[service_date] = (
                {table_id: _Spans(spans) for table_id, spans in blocks.items()},
                {table_id: _Spans(spans) for table_id, spans in bookings.items()},
            )
        return found

    def tables(
        self, service_date: date, start: int, end: int, party_size: int
    ) -> list[TableAvailability]:
        """Every table's status for a bookable turn of `service_date` from `start` to `end`
        (instants in seconds), in response order; worked out once per snapshot and turn."""
        key = (service_date, start, end, party_size)
        found = self._tables.get(key)
        if found is None:
            if len(self._tables) >= _MEMO_TURNS:
                self._tables.clear()
            around = self.around(service_date)
            found = self._tables[key] = [
                _answer(table_id, facts, _status(around, table_id, start, end), party_size)
                for table_id, facts in self.ordered
            ]
        return found

    def combined(
        self, service_date: date, start: int, end: int, party_size: int
    ) -> list[CombinationAvailability]:
        """Every usable combination's status for the turn, smallest first."""
        key = (service_date, start, end, party_size)
        found = self._combined.get(key)
        if found is None:
            if len(self._combined) >= _MEMO_TURNS:
                self._combined.clear()
            around = self.around(service_date)
            found = self._combined[key] = [
                _combined(
                    combination_id,
                    facts,
                    _together(around, facts.table_ids, start, end),
                    party_size,
                )
                for combination_id, facts in self.combinations
            ]
        return found

    def fitting(self, party_size: int) -> list[str]:
        found = self._fitting.get(party_size)
        if found is None:
            found = [t for t, facts in self.snapshot.tables.items() if _fits(facts, party_size)]
            self._fitting[party_size] = found
        return found

    def slots(self, day: date, minutes: int) -> list[Slot]:
        """The starts of service date `day` for a turn of `minutes` that the rules accept
        before the clock is asked (`time_rules.day_slots`)."""
        found = self._slots.get((day, minutes))
        if found is None:
            snapshot = self.snapshot
            found = day_slots(snapshot.settings, snapshot.hours, snapshot.closures, day, minutes)
            self._slots[(day, minutes)] = found
        return found

    def pacing_refuses(self, service_date: date, local: datetime, party_size: int) -> bool:
        """Whether the venue's pacing refuses a new booking of `party_size` at `local`."""
        rules = self.snapshot.settings.pacing
        if not rules:
            return False
        key = (service_date, party_size, local)
        found = self._pacing.get(key)
        if found is None:
            if len(self._pacing) >= _MEMO_TURNS * 8:
                self._pacing.clear()
            starts = self.snapshot.paced.get(service_date, [])
            refused = pacing.refusal(rules, service_date, starts, local, party_size)
            found = self._pacing[key] = refused is not None
        return found

    def free(self, day: date, party_size: int, minutes: int) -> list[int]:
        """Fitting tables free at each of `slots(day, minutes)`."""
        found = self._free.get((day, party_size))
        if found is None:
            fitting = self.fitting(party_size)
            joined = [
                facts.table_ids
                for _, facts in self.combinations
                if facts.min_capacity <= party_size <= facts.capacity
            ]
            around = self.around(day)
            found = []
            for slot in self.slots(day, minutes):
                start, end = span_seconds(slot.starts_at, slot.ends_at)
                found.append(
                    sum(1 for t in fitting if _status(around, t, start, end) == "available")
                    + sum(
                        1
                        for tables in joined
                        if _together(around, tables, start, end) == "available"
                    )
                )
            self._free[(day, party_size)] = found
        return found


def _status(around: _Around, table_id: str, start: int, end: int) -> Status:
    blocks, bookings = around
    if blocks.get(table_id, _NOTHING).overlaps(start, end):
        return "blocked"
    if bookings.get(table_id, _NOTHING).overlaps(start, end):
        return "booked"
    return "available"


def _together(around: _Around, table_ids: Iterable[str], start: int, end: int) -> Status:
    """A combination's status: blocked or booked as soon as one of its tables is."""
    statuses = {_status(around, table_id, start, end) for table_id in table_ids}
    for status in ("blocked", "booked"):
        if status in statuses:
            return cast(Status, status)
    return "available"


# --- reading the model ----------------------------------------------------------------

_CacheKey = tuple[object, str, str, date, bytes]
_cache: OrderedDict[_CacheKey, Snapshot] = OrderedDict()


def clear_cache() -> None:
    """Forget every cached snapshot of this process, and every checkpoint it has seen."""
    _cache.clear()
    _seen.clear()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _raw(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _server(redis: Redis) -> object:
    """Which model a client reads: its server, or the Sentinel service it follows (the
    same model whichever server is master)."""
    pool = redis.connection_pool
    kwargs = pool.connection_kwargs
    service = getattr(pool, "service_name", None)
    where = ("sentinel", service) if service else (kwargs.get("host"), kwargs.get("port"))
    return (*where, kwargs.get("path"), kwargs.get("db"))


_seen: dict[tuple[object, str, str], tuple[bytes, float]] = {}
"""The version last read of each venue's model, and when (monotonic seconds)."""


async def snapshot_for(
    redis: Redis, prefix: str, venue_id: str, around: date, max_staleness: float = 0.0
) -> Snapshot:
    """The venue's snapshot of `around` and its neighbours. With `max_staleness`, a
    version read from Redis less than that many seconds ago is trusted without asking
    again: the answer may then trail the model by that much (never the other way).

    A check reads, in the same round trip, the versions of the other venues this process
    has read from the model (up to `VERSIONS_PER_CHECK`), and renews their trust too: a
    process reading many venues asks Redis about once per `max_staleness`, not once per
    venue."""
    root = model_root(prefix, NAME)
    server = _server(redis)
    model = (server, prefix, venue_id)
    recent = _seen.get(model)
    if max_staleness > 0 and recent and time_monotonic() - recent[1] < max_staleness:
        cached = _cache.get((*model, around, recent[0]))
        if cached is not None:
            return cached
    venue_root = root + venue_part(venue_id)
    others = (
        [m for m in _seen if m[0] == server and m[1] == prefix and m != model][:VERSIONS_PER_CHECK]
        if max_staleness > 0
        else []
    )
    ready, checkpoint, version, *versions = await redis.mget(
        [
            ready_key(root),
            checkpoint_key(root),
            venue_root + VERSION,
            *(root + venue_part(m[2]) + VERSION for m in others),
        ]
    )
    if not ready:
        _seen.pop(model, None)
        raise ModelNotReady("the availability model is being built")
    now = time_monotonic()
    for other, other_version in zip(others, versions, strict=True):
        other_mark = other_version if other_version is not None else checkpoint
        if other_mark is not None:
            _seen[other] = (_raw(other_mark), now)
    mark = version if version is not None else checkpoint
    if mark is not None:
        _seen[model] = (_raw(mark), now)
        cached = _cache.get((*model, around, _raw(mark)))
        if cached is not None:
            _cache.move_to_end((*model, around, _raw(mark)))
            return cached
    mark, snapshot = await _fetch(redis, root, venue_root, around)
    if mark is not None:
        _cache[(*model, around, _raw(mark))] = snapshot
        while len(_cache) > CACHED_SNAPSHOTS:
            _cache.popitem(last=False)
    return snapshot


def snapshot_days(around: date) -> list[date]:
    """The service dates whose intervals a snapshot of `around` holds: enough for a start
    of `around`, or one after its midnight that belongs to the day before, to be checked
    against the streams its booking would be (`streams.neighbouring_days`)."""
    return [around + _DAY * offset for offset in (-2, -1, 0, 1)]


async def _fetch(
    redis: Redis, root: str, venue_root: str, around: date
) -> tuple[bytes | str | None, Snapshot]:
    """The venue's snapshot and the version it belongs to (the checkpoint while the venue
    has none), read in one transaction."""
    days = snapshot_days(around)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.get(checkpoint_key(root))
        pipe.exists(ready_key(root))
        pipe.get(venue_root + VERSION)
        pipe.hgetall(venue_root + VENUE)
        pipe.hgetall(venue_root + CLOSURES)
        pipe.hgetall(venue_root + TABLES)
        pipe.hgetall(venue_root + RETIRED)
        pipe.hgetall(venue_root + COMBINATIONS)
        for day in days:
            pipe.hgetall(f"{venue_root}day:{day.isoformat()}")
        for day in days:
            pipe.hgetall(venue_root + pacing_key_part(day))
        (
            checkpoint,
            ready,
            version,
            venue,
            closures,
            tables,
            retired,
            combinations,
            *maps,
        ) = await pipe.execute()
    day_maps, pacing_maps = maps[: len(days)], maps[len(days) :]
    if not ready:
        raise ModelNotReady("the availability model is being built")
    venue = {_text(k): v for k, v in venue.items()}
    hours = _hours.decode(venue[HOURS]) if HOURS in venue else OpeningHours()
    settings = _settings.decode(venue[SLOTS]) if SLOTS in venue else SlotSettings()
    gone = {_text(k) for k in retired}
    facts = {
        _text(table_id): _facts.decode(raw)
        for table_id, raw in tables.items()
        if _text(table_id) not in gone
    }
    intervals: dict[str, list[Interval]] = {}
    for day, day_map in zip(days, day_maps, strict=True):
        for key, span in day_map.items():
            table_id, kind, _ = parse_field(_text(key))
            start, end = _text(span).split(",")
            intervals.setdefault(table_id, []).append(Interval(int(start), int(end), kind, day))
    snapshot = Snapshot(
        hours=hours,
        settings=settings,
        closures={date.fromisoformat(_text(k)): _text(v) for k, v in closures.items()},
        tables=facts,
        intervals=intervals,
        paced={
            day: [parse_pacing_value(_text(value)) for value in pacing_map.values()]
            for day, pacing_map in zip(days, pacing_maps, strict=True)
            if pacing_map
        },
        combinations={
            _text(combination_id): _combination.decode(raw)
            for combination_id, raw in combinations.items()
        },
    )
    return (version if version is not None else checkpoint), snapshot


# --- the rules ------------------------------------------------------------------------


def _fits(facts: TableFacts, party_size: int) -> bool:
    return facts.min_capacity <= party_size <= facts.capacity


async def tables_at(
    redis: Redis,
    prefix: str,
    *,
    venue_id: str,
    day: date,
    at: time,
    party_size: int = 2,
    duration_minutes: int | None = None,
    now: datetime | None = None,
    max_staleness: float = 0.0,
) -> TablesAt:
    """Every table's status for a turn starting at local `day` `at` (for
    `max_staleness`, see `snapshot_for`)."""
    snapshot = await snapshot_for(redis, prefix, venue_id, day, max_staleness)
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
    """`tables_at`, answered from a snapshot however it was obtained. Raises what
    `NEVER_BOOKABLE` names when the booking rules say so of the start."""
    settings = snapshot.settings
    minutes = duration_minutes or settings.turn_minutes(party_size)
    try:
        slot: Slot | None = resolve_slot(
            settings,
            snapshot.hours,
            snapshot.closures,
            day=day,
            at=at,
            duration_minutes=minutes,
            now=now,
        )
    except NEVER_BOOKABLE:
        raise
    except DomainError:
        slot = None
    if slot is not None:
        starts_at = slot.starts_at
        start, end = span_seconds(starts_at, slot.ends_at)
        tables = snapshot.index.tables(slot.service_date, start, end, party_size)
        combined = snapshot.index.combined(slot.service_date, start, end, party_size)
        local = pacing.local_start(slot.date, slot.time)
        if snapshot.index.pacing_refuses(slot.service_date, local, party_size):
            tables = [_paced_out(answer) for answer in tables]
            combined = [_paced_out(answer) for answer in combined]
    else:
        starts_at = to_instant(datetime.combine(day, at), settings.time_zone, strict=False)
        tables = [
            _answer(table_id, facts, "closed", party_size)
            for table_id, facts in snapshot.index.ordered
        ]
        combined = [
            _combined(combination_id, facts, "closed", party_size)
            for combination_id, facts in snapshot.index.combinations
        ]
    end_local = to_local(starts_at + timedelta(minutes=minutes), settings.time_zone)
    return TablesAt(
        date=day,
        time=at,
        end_time=end_local.time(),
        party_size=party_size,
        duration_minutes=minutes,
        tables=tables,
        starts_at=starts_at,
        combinations=combined,
    )


_Answer = TypeVar("_Answer", TableAvailability, CombinationAvailability)


def _paced_out(answer: _Answer) -> _Answer:
    """A table free for the turn at a start pacing refuses: closed, as for every table."""
    if answer.status != "available":
        return answer
    return msgspec.structs.replace(answer, status="closed")


async def slots_for(
    redis: Redis,
    prefix: str,
    *,
    venue_id: str,
    day: date,
    party_size: int,
    now: datetime | None = None,
    max_staleness: float = 0.0,
) -> list[SlotAvailability]:
    """Every start of service date `day` a party could book now, with how many fitting
    tables and table combinations are free (for `max_staleness`, see `snapshot_for`)."""
    now = now or datetime.now(UTC)
    snapshot = await snapshot_for(redis, prefix, venue_id, day, max_staleness)
    return slots_in(snapshot, day=day, party_size=party_size, now=now)


def slots_in(
    snapshot: Snapshot, *, day: date, party_size: int, now: datetime
) -> list[SlotAvailability]:
    """`slots_for`, answered from a snapshot: the placed starts and the free tables come
    from the snapshot's index, the clock's rules (`check_clock`) are asked here."""
    settings = snapshot.settings
    index = snapshot.index
    minutes = settings.turn_minutes(party_size)
    today = local_today(now, settings.time_zone)
    found = []
    for slot, free in zip(
        index.slots(day, minutes), index.free(day, party_size, minutes), strict=True
    ):
        if not free:
            continue
        local = pacing.local_start(slot.date, slot.time)
        if index.pacing_refuses(slot.service_date, local, party_size):
            continue
        try:
            check_clock(settings, slot, now, today=today)
        except DomainError:
            continue
        found.append(SlotAvailability(date=slot.date, time=slot.time, tables_available=free))
    return found
