"""What a guest is shown is what a guest can book.

For any history of the venue (tables added, changed and retired; opening hours with
shifts past midnight; slot settings with their interval, turn times, buffer, lead time,
booking window and a time zone with daylight-saving changes; closures, blocks, bookings,
moves, cancellations and the evening's steps), projected for real into Redis from the
PostgreSQL event store, and for any question asked at any moment:

- `/bookings/tables` says a table is "available" and fits the party exactly when the
  booking decider would accept `BookTable` for that table at that moment; "blocked",
  "booked" and "closed" are the decider's reasons; a start the decider can never accept
  (a time skipped by the clocks, off the slot grid) is refused by both with one problem;
- `/availability` lists a start exactly when a booking at it would be accepted for some
  table, with as many free tables as the decider would accept.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.codec import EventMetadata
from booking_core.domain import floor, placement
from booking_core.domain import venue as venue_decider
from booking_core.domain.booking import NoBooking
from booking_core.domain.commands import (
    Actor,
    AddClosure,
    AddTable,
    BlockTable,
    BookTable,
    CancelBooking,
    ChangeBooking,
    ChangeSlotSettings,
    ChangeTable,
    CompleteBooking,
    LiftBlock,
    RemoveClosure,
    RetireTable,
    SeatBooking,
    SetOpeningHours,
    VenueCommand,
)
from booking_core.domain.decision import Decision
from booking_core.domain.errors import (
    DomainError,
    NonexistentLocalTime,
    TableAlreadyBooked,
    TableIsBlocked,
)
from booking_core.domain.events import codec
from booking_core.domain.service_day import ServiceDay
from booking_core.domain.streams import VENUE, table_stream
from booking_core.domain.table import ActiveTable, TableState
from booking_core.domain.time_rules import bookable_starts, to_local
from booking_core.domain.values import OpeningHours, Shift, TurnTime
from booking_core.domain.venue import VenueState
from booking_core.store import ANY, StreamAppend
from booking_core.store.postgres import PostgresEventStore
from projectors.availability import AvailabilityProjection
from projectors.runner import RedisProjectionRunner
from read_models.availability import NEVER_BOOKABLE, TableAvailability, slots_for, tables_at
from tablebook.database import open_pool
from tests.support.catch_up import redis_caught_up
from tests.unit.domain.world import World

# --- the venue's history ----------------------------------------------------------------

ADMIN = Actor(user_id="u-maitre-d", role="admin")
GUEST = Actor(user_id="u-ada")
TABLE_IDS = ("t-window", "t-bar", "t-booth", "t-terrace")
GHOST = "t-never-added"
BOOKING_IDS = ("b-ada", "b-grace", "b-alan", "b-edsger", "b-barbara")
ZONES = ("Europe/London", "America/New_York", "Australia/Lord_Howe", "Europe/Berlin", "UTC")
CLOCK_CHANGES = (  # Europe, the US, and Lord Howe (which moves its clocks by half an hour)
    (date(2026, 3, 29), "Europe/London"),
    (date(2026, 3, 29), "Europe/Berlin"),
    (date(2026, 10, 25), "Europe/London"),
    (date(2026, 3, 8), "America/New_York"),
    (date(2026, 11, 1), "America/New_York"),
    (date(2026, 4, 5), "Australia/Lord_Howe"),
    (date(2026, 10, 4), "Australia/Lord_Howe"),
)
QUARTERS = st.integers(0, 24 * 4 - 1).map(lambda q: time(q // 4, q % 4 * 15))
MINUTES = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))
SMALL_HOURS = st.sampled_from((time(0, 30), time(1, 30), time(2, 0), time(2, 15), time(2, 45)))
EVENINGS = st.integers(17 * 4, 24 * 4 - 1).map(lambda q: time(q // 4, q % 4 * 15))
TIMES = st.one_of(EVENINGS, QUARTERS, SMALL_HOURS, MINUTES)
SHIFT_SHAPES = (
    (Shift(opens=time(17), closes=time(23)),),
    (Shift(opens=time(18), closes=time(1, 30)),),  # past midnight
    (Shift(opens=time(12), closes=time(15)), Shift(opens=time(17), closes=time(22))),
    (Shift(opens=time(22), closes=time(4)),),  # over the small hours, where clocks change
    (Shift(opens=time(0), closes=time(0)),),  # round the clock
    (Shift(opens=time(1), closes=time(3)), Shift(opens=time(19, 10), closes=time(0, 40))),
)


@st.composite
def shifts(draw: st.DrawFn) -> tuple[Shift, ...]:
    if draw(st.booleans()):
        return draw(st.sampled_from(SHIFT_SHAPES))
    return tuple(
        Shift(opens=draw(TIMES), closes=draw(TIMES)) for _ in range(draw(st.integers(0, 2)))
    )


@st.composite
def opening_hours(draw: st.DrawFn) -> OpeningHours:
    if draw(st.booleans()):
        return OpeningHours.every_day(*draw(shifts()))
    week = [draw(shifts()) for _ in range(7)]
    return OpeningHours(
        monday=week[0],
        tuesday=week[1],
        wednesday=week[2],
        thursday=week[3],
        friday=week[4],
        saturday=week[5],
        sunday=week[6],
    )


@st.composite
def slot_settings(draw: st.DrawFn, zone: str) -> dict[str, Any]:
    turns = draw(
        st.lists(
            st.builds(
                TurnTime,
                max_party_size=st.sampled_from((2, 4, 8, 12)),
                minutes=st.sampled_from((30, 50, 90, 120, 150, 240)),
            ),
            min_size=1,
            max_size=3,
            unique_by=lambda turn: turn.max_party_size,
        )
    )
    return {
        "interval_minutes": draw(st.sampled_from((15, 20, 30, 45, 60, 7))),
        "turn_times": tuple(turns),
        "buffer_minutes": draw(st.sampled_from((0, 15, 30, 60, 240))),
        "min_lead_minutes": draw(st.sampled_from((60, 60, 0, 30, 240, 1440))),
        "max_days_ahead": draw(st.sampled_from((30, 30, 30, 5, 2, 1, 0))),
        "time_zone": draw(st.sampled_from((zone, zone, zone, *ZONES))),
    }


@dataclass(frozen=True)
class Venue:
    """The history's setting: the days it happens on, in which zone."""

    first_day: date
    zone: str

    def day(self, offset: int) -> date:
        return self.first_day + timedelta(days=offset)

    def moment(self, minutes: int, seconds: float = 0) -> datetime:
        """An instant `minutes` after the first day's midnight, UTC."""
        return datetime.combine(self.first_day, time(), UTC) + timedelta(
            minutes=minutes, seconds=seconds
        )


def days(venue: Venue) -> st.SearchStrategy[date]:
    return st.integers(-1, 2).map(venue.day)


def moments(venue: Venue) -> st.SearchStrategy[datetime]:
    """Instants around the history's days: when it is asked about them."""
    return st.builds(
        venue.moment, st.integers(-3 * 24 * 60, 2 * 24 * 60), st.sampled_from((0, 0, 0, 29))
    )


def beforehand(venue: Venue) -> st.SearchStrategy[datetime]:
    """Instants in the days before: when guests book, move and cancel."""
    return st.builds(venue.moment, st.integers(-2 * 24 * 60, 0))


@st.composite
def operations(draw: st.DrawFn, venue: Venue) -> list[tuple[Any, ...]]:
    """The first steps open the venue, so that most of what follows can happen."""
    found: list[tuple[Any, ...]] = [
        ("hours", OpeningHours.every_day(*draw(st.sampled_from(SHIFT_SHAPES)))),
        ("settings", draw(slot_settings(venue.zone))),
        *(("add", table_id, draw(st.integers(1, 8))) for table_id in TABLE_IDS[:3]),
    ]
    tables = st.sampled_from((*TABLE_IDS, GHOST))
    bookings = st.sampled_from(BOOKING_IDS)
    parties = st.sampled_from((2, 2, 4, 1, 3, 6, 8))
    steps: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
        "book": st.tuples(
            st.just("book"),
            bookings,
            days(venue),
            TIMES,
            parties,
            st.sampled_from(((), (), ("t-window",), ("t-bar",), ("t-booth",))),
            st.sampled_from((None, None, None, 15, 60, 240, 600)),
            beforehand(venue),
            st.none() | st.integers(0, 200),  # else the nth start of the day's grid
        ),
        "change": st.tuples(
            st.just("change"),
            bookings,
            st.none() | days(venue),
            st.none() | TIMES,
            st.none() | parties,
            st.none() | tables.map(lambda t: (t,)),
            beforehand(venue),
            st.none() | st.integers(0, 200),
        ),
        "cancel": st.tuples(st.just("cancel"), bookings, beforehand(venue)),
        "seat": st.tuples(st.just("seat"), bookings, beforehand(venue)),
        "complete": st.tuples(st.just("complete"), bookings, beforehand(venue)),
        "hours": st.tuples(st.just("hours"), opening_hours()),
        "settings": st.tuples(st.just("settings"), slot_settings(venue.zone)),
        "close": st.tuples(st.just("close"), days(venue)),
        "reopen": st.tuples(st.just("reopen"), days(venue)),
        "add": st.tuples(st.just("add"), st.sampled_from(TABLE_IDS), st.integers(1, 8)),
        "resize": st.tuples(st.just("resize"), tables, st.integers(1, 8), st.integers(1, 4)),
        "retire": st.tuples(st.just("retire"), tables, st.booleans(), moments(venue)),
        "block": st.tuples(
            st.just("block"),
            tables,
            st.integers(-24 * 60, 3 * 24 * 60),
            st.sampled_from((0, 0, 30, 0.5)),  # some blocks start or end mid-second
            st.sampled_from((15, 45, 90, 300, 24 * 60)),
            st.booleans(),  # on the venue's wall clock, or as instants
        ),
        "lift": st.tuples(st.just("lift"), tables, st.integers(0, 9)),
    }
    # Mostly guests booking, moving and cancelling, as in a restaurant's week.
    kinds = ["book"] * 16 + ["change"] * 3 + ["cancel"] * 2 + ["block"] * 2 + list(steps)
    step = st.sampled_from(kinds).flatmap(lambda kind: steps[kind])
    found += draw(st.lists(step, min_size=8, max_size=30))
    return found


class History(World):
    """The pure deciders' world, keeping every decision in the order it was made."""

    def __init__(self) -> None:
        super().__init__()
        self.decisions: list[Decision] = []

    def apply(self, decision: Decision) -> Decision:
        self.decisions.append(decision)
        return super().apply(decision)


_ids = itertools.count()


def _id() -> str:
    return f"c-{next(_ids)}"


def _venue(history: History, command: VenueCommand) -> None:
    events = venue_decider.decide(command, history.venue)
    history.apply(Decision(events={VENUE: tuple(events)}, reads=frozenset({VENUE})))


def _run(history: History, venue: Venue, operation: tuple[Any, ...]) -> None:
    """One step, decided as the handlers would decide it; a refusal changes nothing."""
    kind, *args = operation
    early = venue.moment(-4 * 24 * 60)
    if kind == "hours":
        _venue(history, SetOpeningHours(command_id=_id(), actor=ADMIN, now=early, hours=args[0]))
    elif kind == "settings":
        _venue(history, ChangeSlotSettings(command_id=_id(), actor=ADMIN, now=early, **args[0]))
    elif kind == "close":
        _venue(
            history,
            AddClosure(
                command_id=_id(), actor=ADMIN, now=early, date=args[0], reason="a private party"
            ),
        )
    elif kind == "reopen":
        _venue(history, RemoveClosure(command_id=_id(), actor=ADMIN, now=early, date=args[0]))
    elif kind == "add":
        table_id, capacity = args
        command = AddTable(
            command_id=_id(),
            actor=ADMIN,
            now=early,
            table_id=table_id,
            name=table_id.removeprefix("t-").upper(),
            capacity=capacity,
            min_capacity=max(1, capacity // 3),
        )
        history.apply(
            floor.decide_add(command, venue=history.venue, table_state=_table(history, table_id))
        )
    elif kind == "resize":
        table_id, capacity, min_capacity = args
        change = ChangeTable(
            command_id=_id(),
            actor=ADMIN,
            now=early,
            table_id=table_id,
            capacity=capacity,
            min_capacity=min(min_capacity, capacity),
        )
        history.apply(
            floor.decide_change(change, venue=history.venue, table_state=_table(history, table_id))
        )
    elif kind == "retire":
        table_id, cancel, now = args
        retire = RetireTable(
            command_id=_id(), actor=ADMIN, now=now, table_id=table_id, cancel_bookings=cancel
        )
        found = history.days
        upcoming = floor.upcoming_bookings(found, now)
        history.apply(
            floor.decide_retire(
                retire,
                venue=history.venue,
                table_state=_table(history, table_id),
                days=found,
                bookings={b: history.booking(b) for b in upcoming},
            )
        )
    elif kind == "block":
        table_id, minutes, seconds, length, local = args
        start = venue.moment(minutes, seconds)
        end = start + timedelta(minutes=length)
        if local:
            zone = history.venue.settings.time_zone
            start, end = to_local(start, zone), to_local(end, zone)
        block = BlockTable(
            command_id=_id(),
            actor=ADMIN,
            now=venue.moment(-4 * 24 * 60),
            table_id=table_id,
            block_id=f"k-{minutes}-{length}",
            start=start,
            end=end,
        )
        history.apply(
            floor.decide_block(
                block,
                venue=history.venue,
                table_state=_table(history, table_id),
                days=history.days,
            )
        )
    elif kind == "lift":
        table_id, nth = args
        state = _table(history, table_id)
        blocks = sorted(state.blocks) if isinstance(state, ActiveTable) else []
        block_id = blocks[nth % len(blocks)] if blocks else "k-none"
        lift = LiftBlock(
            command_id=_id(), actor=ADMIN, now=early, table_id=table_id, block_id=block_id
        )
        history.apply(floor.decide_lift(lift, table_state=state, days=history.days))
    elif kind == "book":
        booking_id, day, at, party, table_ids, duration, now, nth = args
        if nth is not None:
            at = _on_the_grid(history.venue, day, party, nth) or at
        history.book(
            BookTable(
                command_id=_id(),
                actor=ADMIN if duration else GUEST,
                now=now,
                booking_id=booking_id,
                date=day,
                time=at,
                party_size=party,
                guest_name="Ada Lovelace, party of a few",
                table_ids=table_ids,
                duration_minutes=duration,
            )
        )
    elif kind == "change":
        booking_id, day, at, party, table_ids, now, nth = args
        if nth is not None and day is not None:
            at = _on_the_grid(history.venue, day, party or 2, nth) or at
        fields = {"date": day, "time": at, "party_size": party, "table_ids": table_ids}
        history.change(
            ChangeBooking(
                command_id=_id(),
                actor=ADMIN,
                now=now,
                booking_id=booking_id,
                **{name: value for name, value in fields.items() if value is not None},
            )
        )
    elif kind in ("cancel", "seat", "complete"):
        booking_id, now = args
        step = {"cancel": CancelBooking, "seat": SeatBooking, "complete": CompleteBooking}[kind]
        history.step(step(command_id=_id(), actor=ADMIN, now=now, booking_id=booking_id))
    else:
        raise AssertionError(kind)


def _on_the_grid(venue: VenueState, day: date, party: int, nth: int) -> time | None:
    """One of the day's starts, where guests who look at the grid book."""
    settings = venue.settings
    minutes = settings.turn_minutes(party)
    starts = bookable_starts(settings, venue.hours, venue.closures, day, minutes)
    return starts[nth % len(starts)].time() if starts else None


def _table(history: History, table_id: str) -> TableState:
    state: TableState = history.state(table_stream(table_id))
    return state


def make_history(venue: Venue, steps: list[tuple[Any, ...]]) -> History:
    history = History()
    for operation in steps:
        with contextlib.suppress(DomainError):
            _run(history, venue, operation)
    return history


# --- the two sides ----------------------------------------------------------------------


@dataclass(frozen=True)
class Decider:
    """The write side, as it stands at the end of the history."""

    venue: VenueState
    tables: Mapping[str, TableState]
    days: Mapping[str, ServiceDay]

    def book(
        self, day: date, at: time, party: int, now: datetime, table_ids: tuple[str, ...] = ()
    ) -> type[DomainError] | None:
        """None if `BookTable` would be accepted; otherwise the error it is refused with."""
        command = BookTable(
            command_id="c-probe",
            actor=GUEST,
            now=now,
            booking_id="b-probe",
            date=day,
            time=at,
            party_size=party,
            guest_name="Grace Hopper, party of a few",
            table_ids=table_ids,
        )
        try:
            if table_ids:
                placement.decide_place(
                    command,
                    booking=NoBooking(),
                    venue=self.venue,
                    tables=self.tables,
                    days=self.days,
                    table_ids=table_ids,
                )
            else:
                placement.decide_first_free(
                    command,
                    booking=NoBooking(),
                    venue=self.venue,
                    tables=self.tables,
                    days=self.days,
                )
        except DomainError as refused:
            return type(refused)
        return None

    def bookable_start(self, day: date, at: time, party: int, now: datetime) -> date | None:
        """The service date of a start the venue's rules accept, before any table."""
        try:
            slot = placement.plan_slot(
                self.venue, day=day, at=at, party_size=party, duration_minutes=None, now=now
            )
        except DomainError:
            return None
        return slot.service_date


_STATUS_OF_REFUSAL = {TableIsBlocked: "blocked", TableAlreadyBooked: "booked"}


async def check_tables(
    redis: Redis, prefix: str, decider: Decider, day: date, at: time, party: int, now: datetime
) -> None:
    asked = f"tables at {day} {at} for {party}, asked at {now}"
    every_table = (*TABLE_IDS, GHOST)
    try:
        found = await tables_at(redis, prefix, day=day, at=at, party_size=party, now=now)
    except NEVER_BOOKABLE as never:
        refused_with: type[DomainError] = type(never)
    else:
        check_answer(found.tables, decider, asked, day, at, party, now)
        return
    for table_ids in ((), *((t,) for t in every_table)):
        assert decider.book(day, at, party, now, table_ids) is refused_with, (asked, table_ids)


def check_answer(
    tables: list[TableAvailability],
    decider: Decider,
    asked: str,
    day: date,
    at: time,
    party: int,
    now: datetime,
) -> None:
    listed = {answer.table_id: answer for answer in tables}
    active = {t for t, state in decider.tables.items() if isinstance(state, ActiveTable)}
    assert set(listed) == active, asked
    rule = decider.bookable_start(day, at, party, now)
    for table_id in (*TABLE_IDS, GHOST):
        refusal = decider.book(day, at, party, now, (table_id,))
        answer = listed.get(table_id)
        says_yes = answer is not None and answer.status == "available" and answer.fits_party
        assert says_yes == (refusal is None), (asked, table_id, answer, refusal)
        if answer is None:
            continue
        if rule is None:
            assert answer.status == "closed", (asked, table_id, answer, refusal)
        elif answer.fits_party:
            expected = _STATUS_OF_REFUSAL.get(refusal, "available")  # type: ignore[arg-type]
            assert answer.status == expected, (asked, table_id, answer, refusal)
    anyone = any(a.status == "available" and a.fits_party for a in tables)
    assert anyone == (decider.book(day, at, party, now) is None), asked


async def check_slots(
    redis: Redis, prefix: str, decider: Decider, service_date: date, party: int, now: datetime
) -> None:
    asked = f"starts of {service_date} for {party}, asked at {now}"
    every_table = (*TABLE_IDS, GHOST)
    found = await slots_for(redis, prefix, day=service_date, party_size=party, now=now)
    listed = {(slot.date, slot.time): slot.tables_available for slot in found}
    assert len(listed) == len(found), asked
    for (day, at), free in listed.items():
        assert decider.bookable_start(day, at, party, now) == service_date, (asked, day, at)
        accepted = [t for t in every_table if decider.book(day, at, party, now, (t,)) is None]
        assert free == len(accepted), (asked, day, at, accepted)
    # Every minute a booking of that service date could start at, and nothing else.
    midnight = datetime.combine(service_date, time())
    for minute in range(2 * 24 * 60):
        local = midnight + timedelta(minutes=minute)
        day, at = local.date(), local.time()
        if decider.bookable_start(day, at, party, now) != service_date:
            continue
        booked = decider.book(day, at, party, now) is None
        assert ((day, at) in listed) == booked, (asked, day, at)


# --- the property -----------------------------------------------------------------------


@dataclass
class Servers:
    """A pool and a Redis client of this test's own, on an event loop of its own."""

    runner: asyncio.Runner
    pool: AsyncConnectionPool[Any]
    redis: Redis
    store: PostgresEventStore
    prefix: str


@pytest.fixture(scope="module")
def own_servers(database_url: str, redis_url: str, redis_prefix: str) -> Iterator[Servers]:
    runner = asyncio.Runner()
    pool = runner.run(open_pool(database_url, min_size=1, max_size=4))
    redis = Redis.from_url(redis_url)
    try:
        yield Servers(runner, pool, redis, PostgresEventStore(pool, database_url), redis_prefix)
    finally:
        runner.run(redis.aclose())
        runner.run(pool.close())
        runner.close()


async def project(servers: Servers, history: History) -> str:
    """Write the history to the event store and project it into Redis, under a prefix of
    its own; the prefix."""
    async with servers.pool.connection() as connection:
        await connection.execute("TRUNCATE events, streams, idempotency_keys RESTART IDENTITY")
    meta = EventMetadata(user_id=ADMIN.user_id, command_id="c-history")
    for decision in history.decisions:
        appends = [
            StreamAppend(stream_id, ANY, [codec.encode(event, meta) for event in events])
            for stream_id, events in decision.events.items()
            if events
        ]
        if appends:
            await servers.store.append(appends)
    prefix = f"{servers.prefix}agree-{uuid.uuid4().hex[:8]}:"
    runner = RedisProjectionRunner(
        AvailabilityProjection(), servers.store, registry.codec, servers.redis, prefix
    )
    await redis_caught_up(runner, servers.pool, servers.redis, prefix)
    await runner.step()  # caught up: marked ready
    return prefix


async def forget(redis: Redis, prefix: str) -> None:
    async for key in redis.scan_iter(match=prefix + "*"):
        await redis.delete(key)


@st.composite
def venues(draw: st.DrawFn) -> Venue:
    """Half of the histories happen around a change of the clocks in their zone."""
    if draw(st.booleans()):
        first_day, zone = draw(st.sampled_from(CLOCK_CHANGES))
        return Venue(first_day=first_day, zone=zone)
    first_day = draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)))
    return Venue(first_day=first_day, zone=draw(st.sampled_from(ZONES)))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), venue=venues())
def test_what_a_guest_is_shown_free_is_what_the_decider_would_book(
    own_servers: Servers, data: st.DataObject, venue: Venue
) -> None:
    history = make_history(venue, data.draw(operations(venue), label="history"))
    decider = Decider(history.venue, history.tables, history.days)
    held = sorted(
        (reservation.date, reservation.time)
        for day in history.days.values()
        for reservation in day.reservations.values()
    )
    asked_at = st.one_of(moments(venue), beforehand(venue))
    questions = []
    for _ in range(8):
        day = data.draw(days(venue), label="day")
        party = data.draw(st.integers(1, 9), label="party")
        at = data.draw(TIMES, label="time")
        how = data.draw(st.sampled_from(("any time", "on the grid", "when others sit")))
        nth = data.draw(st.integers(0, 200), label="nth")
        if how == "on the grid":
            at = _on_the_grid(history.venue, day, party, nth) or at
        elif how == "when others sit" and held:
            day, at = held[nth % len(held)]
        questions.append((day, at, party, data.draw(asked_at, label="now")))
    starts_asked = (
        data.draw(days(venue), label="service date"),
        data.draw(st.integers(1, 9), label="party"),
        data.draw(asked_at, label="now"),
    )

    async def check() -> None:
        prefix = await project(own_servers, history)
        try:
            for day, at, party, now in questions:
                await check_tables(own_servers.redis, prefix, decider, day, at, party, now)
            await check_slots(own_servers.redis, prefix, decider, *starts_asked)
        finally:
            await forget(own_servers.redis, prefix)

    own_servers.runner.run(check())


# --- the disagreements it found, as examples --------------------------------------------

LONDON_WINTER = Venue(first_day=date(2026, 12, 10), zone="Europe/London")  # UTC in winter


def settings_of(**changed: Any) -> tuple[str, dict[str, Any]]:
    chosen: dict[str, Any] = {
        "interval_minutes": 15,
        "turn_times": (TurnTime(max_party_size=8, minutes=120),),
        "buffer_minutes": 0,
        "min_lead_minutes": 0,
        "max_days_ahead": 30,
        "time_zone": "Europe/London",
    }
    return ("settings", {**chosen, **changed})


def ask_tables(
    own_servers: Servers, steps: list[tuple[Any, ...]], day: date, at: time, now: datetime
) -> tuple[str, type[DomainError] | None]:
    """The window table's status for a party of two, and the decider's refusal."""
    history = make_history(LONDON_WINTER, steps)
    decider = Decider(history.venue, history.tables, history.days)

    async def ask() -> str:
        prefix = await project(own_servers, history)
        try:
            found = await tables_at(
                own_servers.redis, prefix, day=day, at=at, party_size=2, now=now
            )
        finally:
            await forget(own_servers.redis, prefix)
        return {t.table_id: t.status for t in found.tables}["t-window"]

    return own_servers.runner.run(ask()), decider.book(day, at, 2, now, ("t-window",))


def test_a_start_after_midnight_meets_the_bookings_of_its_own_service_days(
    own_servers: Servers,
) -> None:
    """00:00 on 10 December belongs to the 9th's late shift, so its booking is decided
    against the 8th, 9th and 10th. A dinner of the 8th's all-day shift that ended at 21:00
    on the 9th is within the four-hour buffer of it: the read must look at the 8th too."""
    now = LONDON_WINTER.moment(-3 * 24 * 60)
    steps: list[tuple[Any, ...]] = [
        ("hours", OpeningHours.every_day(Shift(opens=time(21), closes=time(21)))),
        settings_of(buffer_minutes=240),
        ("add", "t-window", 4),
        ("book", "b-ada", date(2026, 12, 9), time(19), 2, ("t-window",), None, now, None),
        ("hours", OpeningHours.every_day(Shift(opens=time(20), closes=time(2)))),
    ]

    status, refusal = ask_tables(own_servers, steps, date(2026, 12, 10), time(0), now)

    assert refusal is TableAlreadyBooked
    assert status == "booked"


def test_a_block_that_ends_mid_second_holds_the_table_until_it_ends(
    own_servers: Servers,
) -> None:
    """A block placed until half a second past 19:00 overlaps a turn from 19:00, for the
    decider and the read alike (the model once kept whole seconds by cutting it off)."""
    now = LONDON_WINTER.moment(-3 * 24 * 60)
    steps: list[tuple[Any, ...]] = [
        ("hours", OpeningHours.every_day(Shift(opens=time(17), closes=time(23)))),
        settings_of(),
        ("add", "t-window", 4),
        ("block", "t-window", 17 * 60, 0.5, 120, False),
    ]

    status, refusal = ask_tables(own_servers, steps, date(2026, 12, 10), time(19), now)

    assert refusal is TableIsBlocked
    assert status == "blocked"


def test_a_time_the_clocks_skip_is_refused_alike_when_asked_and_when_booked(
    own_servers: Servers,
) -> None:
    """London's clocks skip from 01:00 to 02:00 on 29 March 2026. A venue open through the
    night has no 01:30 that day: the table list says so as the booking does, rather than
    calling the tables free."""
    spring = Venue(first_day=date(2026, 3, 29), zone="Europe/London")
    now = spring.moment(-3 * 24 * 60)
    history = make_history(
        spring,
        [
            ("hours", OpeningHours.every_day(Shift(opens=time(22), closes=time(4)))),
            settings_of(),
            ("add", "t-window", 4),
        ],
    )
    decider = Decider(history.venue, history.tables, history.days)

    async def ask() -> None:
        prefix = await project(own_servers, history)
        try:
            with pytest.raises(NonexistentLocalTime):
                await tables_at(
                    own_servers.redis, prefix, day=spring.first_day, at=time(1, 30), now=now
                )
            found = await tables_at(
                own_servers.redis, prefix, day=spring.first_day, at=time(0, 30), now=now
            )
            assert {t.status for t in found.tables} == {"available"}
        finally:
            await forget(own_servers.redis, prefix)

    own_servers.runner.run(ask())
    assert decider.book(spring.first_day, time(1, 30), 2, now) is NonexistentLocalTime
