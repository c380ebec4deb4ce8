"""The availability reads answer from a per-snapshot index (sorted intervals, memoised
grids and counts): for every venue, table and interval, and every clock, they must say
exactly what the straightforward rules say. The reference below is the plain version:
every start put to the booking rule itself (`resolve_slot`), every table against every
interval of the service-day streams a booking would be decided against."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core.domain.errors import DomainError
from booking_core.domain.time_rules import Slot, bookable_starts, resolve_slot, to_instant, to_local
from booking_core.domain.values import OpeningHours, Shift, SlotSettings, TurnTime
from read_models.availability import (
    NEVER_BOOKABLE,
    Interval,
    SlotAvailability,
    Snapshot,
    TableAvailability,
    TablesAt,
    holds_until,
    slots_in,
    tables_in,
)
from read_models.availability_keys import BLOCK, BOOKING, TableFacts

# --- the reference --------------------------------------------------------------------


def ref_status(snapshot: Snapshot, service_date: date, table_id: str, start: int, end: int) -> str:
    around = {service_date + timedelta(days=offset) for offset in (-1, 0, 1)}
    buffer = snapshot.settings.buffer_minutes * 60
    booked = False
    for interval in snapshot.intervals.get(table_id, ()):
        if interval.service_date not in around:
            continue
        if interval.kind == BLOCK:
            if interval.start < end and interval.end > start:
                return "blocked"
        elif interval.start < end + buffer and interval.end + buffer > start:
            booked = True
    return "booked" if booked else "available"


def ref_slot(snapshot: Snapshot, day: date, at: time, minutes: int, now: datetime) -> Slot | None:
    """The booking rule itself; None where it refuses for now or for the day."""
    try:
        return resolve_slot(
            snapshot.settings,
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
        return None


def ref_fits(facts: TableFacts, party_size: int) -> bool:
    return facts.min_capacity <= party_size <= facts.capacity


def seconds(instant: datetime) -> int:
    return int(instant.timestamp())


def ref_tables_in(
    snapshot: Snapshot,
    *,
    day: date,
    at: time,
    party_size: int,
    duration_minutes: int | None,
    now: datetime,
) -> TablesAt:
    settings = snapshot.settings
    minutes = duration_minutes or settings.turn_minutes(party_size)
    local = datetime.combine(day, at)
    starts_at = to_instant(local, settings.time_zone, strict=False)
    slot = ref_slot(snapshot, day, at, minutes, now)
    start = seconds(starts_at)
    end = start + minutes * 60
    tables = [
        TableAvailability(
            table_id=table_id,
            name=facts.name,
            capacity=facts.capacity,
            min_capacity=facts.min_capacity,
            area=facts.area,
            status=ref_status(snapshot, slot.service_date, table_id, start, end)  # type: ignore[arg-type]
            if slot
            else "closed",
            fits_party=ref_fits(facts, party_size),
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
        starts_at=starts_at,
    )


def ref_slots(
    snapshot: Snapshot, *, day: date, party_size: int, now: datetime
) -> list[SlotAvailability]:
    settings = snapshot.settings
    minutes = settings.turn_minutes(party_size)
    fitting = [t for t, facts in snapshot.tables.items() if ref_fits(facts, party_size)]
    slots = []
    for local in bookable_starts(settings, snapshot.hours, snapshot.closures, day, minutes):
        try:
            slot = ref_slot(snapshot, local.date(), local.time(), minutes, now)
        except NEVER_BOOKABLE:
            continue
        if slot is None:
            continue
        start = seconds(slot.starts_at)
        end = start + minutes * 60
        free = sum(1 for t in fitting if ref_status(snapshot, day, t, start, end) == "available")
        if free:
            slots.append(
                SlotAvailability(date=local.date(), time=local.time(), tables_available=free)
            )
    return slots


# --- random venues --------------------------------------------------------------------

ZONES = ["UTC", "Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
DST_CHANGES = [  # Europe, the US, and Lord Howe (which moves its clocks by half an hour)
    *(date(2026, 3, 29), date(2026, 10, 25), date(2026, 3, 8), date(2026, 11, 1)),
    *(date(2026, 4, 5), date(2026, 10, 4)),
]
DAYS = st.one_of(st.sampled_from(DST_CHANGES), st.dates(date(2025, 1, 1), date(2027, 12, 31)))
QUARTERS = st.integers(0, 24 * 4 - 1).map(lambda q: time(q // 4, q % 4 * 15))
MINUTES = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))
MINUTE = st.integers(-30, 3 * 24 * 60)
LENGTH = st.integers(-30, 300)


@st.composite
def shifts(draw: st.DrawFn) -> tuple[Shift, ...]:
    found = []
    for _ in range(draw(st.integers(0, 2))):
        opens = draw(st.one_of(QUARTERS, MINUTES))
        closes = draw(st.one_of(QUARTERS, MINUTES))
        found.append(Shift(opens=opens, closes=closes))
    return tuple(found)


@st.composite
def snapshots(draw: st.DrawFn) -> tuple[Snapshot, date]:
    day = draw(DAYS)
    zone = draw(st.sampled_from(ZONES))
    if draw(st.booleans()):
        hours = OpeningHours.every_day(*draw(shifts()))
    else:
        week = [draw(shifts()) for _ in range(7)]
        hours = OpeningHours(
            monday=week[0],
            tuesday=week[1],
            wednesday=week[2],
            thursday=week[3],
            friday=week[4],
            saturday=week[5],
            sunday=week[6],
        )
    turns = draw(
        st.lists(
            st.builds(
                TurnTime,
                max_party_size=st.integers(1, 10),
                minutes=st.integers(1, 16).map(lambda n: n * 15),
            ),
            min_size=1,
            max_size=3,
        )
    )
    slot_settings = SlotSettings(
        interval_minutes=draw(st.sampled_from([15, 20, 30, 45, 60])),
        turn_times=tuple(turns),
        buffer_minutes=draw(st.sampled_from([0, 5, 15, 30, 60])),
        min_lead_minutes=draw(st.sampled_from([0, 30, 60, 240, 1440])),
        max_days_ahead=draw(st.integers(0, 5)),
        time_zone=zone,
    )
    closures = {
        d: "closed"
        for d in (day - timedelta(days=1), day, day + timedelta(days=1))
        if draw(st.booleans())
    }
    ids = draw(st.lists(st.sampled_from([f"t{n}" for n in range(8)]), unique=True, max_size=6))
    tables = {}
    for table_id in ids:
        capacity = draw(st.integers(1, 8))
        tables[table_id] = TableFacts(
            name=draw(st.sampled_from(["A", "B", "C"])),  # ties are ordered by id
            capacity=capacity,
            min_capacity=draw(st.integers(1, capacity)),
            area=draw(st.sampled_from([None, "garden"])),
        )
    midnight = int(datetime.combine(day, time(), UTC).timestamp())
    intervals: dict[str, list[Interval]] = {}
    for table_id in [*ids, "gone"]:  # intervals of a table no longer listed count for nothing
        for _ in range(draw(st.integers(0, 12))):
            # mostly on the quarter hour, as bookings are, so that ends meet starts
            offset = draw(st.one_of(st.integers(-2, 3 * 24 * 4).map(lambda q: q * 15), MINUTE))
            start = midnight + offset * 60
            length = draw(st.one_of(st.integers(-2, 20).map(lambda q: q * 15), LENGTH))
            kind = draw(st.sampled_from([BOOKING, BOOKING, BLOCK]))
            held_in = day + timedelta(days=draw(st.integers(-2, 1)))  # the stream it is in
            intervals.setdefault(table_id, []).append(
                Interval(start, start + length * 60, kind, held_in)
            )
    snapshot = Snapshot(
        hours=hours, settings=slot_settings, closures=closures, tables=tables, intervals=intervals
    )
    return snapshot, day


def clocks(day: date) -> st.SearchStrategy[datetime]:
    midnight = datetime.combine(day, time(), UTC)
    return st.integers(-3 * 24 * 60, 3 * 24 * 60).map(lambda m: midnight + timedelta(minutes=m))


def outcome(call: Callable[..., object], snapshot: Snapshot, kwargs: dict[str, Any]) -> object:
    try:
        return call(snapshot, **kwargs)
    except Exception as error:  # should either fail, both must fail alike
        return type(error)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), venue=snapshots())
def test_the_index_answers_what_the_reference_does(
    data: st.DataObject, venue: tuple[Snapshot, date]
) -> None:
    snapshot, day = venue
    for _ in range(4):  # one snapshot, many clocks and questions: memos must not leak `now`
        now = data.draw(clocks(day))
        party = data.draw(st.integers(1, 12))
        asked = day + timedelta(days=data.draw(st.sampled_from([0, 0, 0, -1, 1])))
        at = data.draw(st.one_of(QUARTERS, MINUTES))
        minutes = data.draw(st.one_of(st.none(), st.integers(1, 48).map(lambda n: n * 15)))

        asked_tables = {
            "day": asked,
            "at": at,
            "party_size": party,
            "duration_minutes": minutes,
            "now": now,
        }
        asked_slots = {"day": asked, "party_size": party, "now": now}
        assert outcome(tables_in, snapshot, asked_tables) == (
            outcome(ref_tables_in, snapshot, asked_tables)
        )
        assert outcome(slots_in, snapshot, asked_slots) == (
            outcome(ref_slots, snapshot, asked_slots)
        )


def test_a_dense_day_is_answered_alike() -> None:
    """The benchmark's shape: open round the clock, many tables, a booking every hour."""
    day = date(2026, 12, 3)
    settings_ = SlotSettings(
        interval_minutes=15,
        turn_times=(TurnTime(max_party_size=20, minutes=60),),
        buffer_minutes=15,
        min_lead_minutes=0,
        max_days_ahead=30,
        time_zone="Europe/London",
    )
    midnight = int(datetime.combine(day, time(), UTC).timestamp())
    tables = {f"T{n}": TableFacts(name=f"T{n}", capacity=4, min_capacity=1) for n in range(40)}
    intervals = {
        f"T{n}": [
            Interval(
                midnight + h * 3600,
                midnight + (h + 1) * 3600,
                BOOKING,
                day + timedelta(days=h // 24),
            )
            for h in range(-24, 48)
            if (h * 7 + n) % 3
        ]
        + [Interval(midnight + n * 1800, midnight + n * 1800 + 2700, BLOCK, day)]
        for n in range(40)
    }
    snapshot = Snapshot(
        hours=OpeningHours.every_day(Shift(opens=time(0, 0), closes=time(0, 0))),
        settings=settings_,
        closures={},
        tables=tables,
        intervals=intervals,
    )
    for now in (datetime.combine(day, time(h), UTC) for h in (-1 + 24, 9, 18)):
        for party in (2, 5):
            assert slots_in(snapshot, day=day, party_size=party, now=now) == ref_slots(
                snapshot, day=day, party_size=party, now=now
            )
        for hour in range(24):
            asked: dict[str, Any] = {
                "day": day,
                "at": time(hour, 30),
                "party_size": 2,
                "duration_minutes": None,
                "now": now,
            }
            assert tables_in(snapshot, **asked) == ref_tables_in(snapshot, **asked)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), venue=snapshots())
def test_an_answer_holds_for_as_long_as_holds_until_says(
    data: st.DataObject, venue: tuple[Snapshot, date]
) -> None:
    """What the routes keep per snapshot is given again until `holds_until`: the
    reference must say the same at any instant before then, and its last instant is the
    one most likely to differ."""
    snapshot, day = venue
    now = data.draw(clocks(day))
    party = data.draw(st.integers(1, 12))
    at = data.draw(st.one_of(QUARTERS, MINUTES))
    minutes = snapshot.settings.turn_minutes(party)
    asked_tables: dict[str, Any] = {
        "day": day,
        "at": at,
        "party_size": party,
        "duration_minutes": None,
    }
    asked_slots: dict[str, Any] = {"day": day, "party_size": party}
    try:
        found = tables_in(snapshot, now=now, **asked_tables)
        starts = [s.starts_at for s in snapshot.index.slots(day, minutes)]
        slots = slots_in(snapshot, day=day, party_size=party, now=now)
    except Exception:  # a venue the rules refuse (a shift that closes in a gap)
        return
    for until, answer, kwargs, call in (
        (holds_until(snapshot, now, [found.starts_at]), found, asked_tables, ref_tables_in),
        (holds_until(snapshot, now, starts), slots, asked_slots, ref_slots),
    ):
        assert until > now
        span = int((until - now).total_seconds() * 1_000_000)
        later = [now + timedelta(microseconds=max(0, span - 1))]
        later.append(now + timedelta(microseconds=data.draw(st.integers(0, max(0, span - 1)))))
        for instant in later:
            assert call(snapshot, now=instant, **kwargs) == answer, instant


def test_a_remembered_answer_is_given_until_it_stops_holding() -> None:
    snapshot = Snapshot(
        hours=OpeningHours(), settings=SlotSettings(), closures={}, tables={}, intervals={}
    )
    noon = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    until = noon + timedelta(minutes=5)
    worked: list[datetime] = []

    def work(at: datetime) -> Callable[[], tuple[str, datetime]]:
        def answer() -> tuple[str, datetime]:
            worked.append(at)
            return f"as of {at:%H:%M}", until

        return answer

    assert snapshot.remember("q", noon, work(noon)) == "as of 12:00"
    later = until - timedelta(microseconds=1)
    assert snapshot.remember("q", later, work(later)) == "as of 12:00"
    assert snapshot.remember("other", later, work(later)) == "as of 12:04"
    assert snapshot.remember("q", until, work(until)) == "as of 12:05"
    assert worked == [noon, later, until]
