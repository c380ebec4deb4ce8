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
- a table combination is "available" and fits the party exactly when the decider would
  accept `BookTable` naming its tables;
- `/availability` lists a start exactly when a booking at it would be accepted for some
  table, with as many free tables and combinations as the decider would accept;
- and so they do when the answer is one the routes kept from an earlier moment
  (`Snapshot.remember` until `holds_until`).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.codec import EventMetadata, codec
from booking_core.domain import placement
from booking_core.domain.booking import NoBooking
from booking_core.domain.commands import BookTable
from booking_core.domain.errors import (
    DomainError,
    NonexistentLocalTime,
    TableAlreadyBooked,
    TableIsBlocked,
)
from booking_core.domain.service_day import ServiceDay
from booking_core.domain.table import ActiveTable, TableState
from booking_core.domain.values import OpeningHours, Shift, TurnTime
from booking_core.domain.venue import VenueState
from booking_core.store import ANY, StreamAppend
from booking_core.store.postgres import PostgresEventStore
from projectors.availability import AvailabilityProjection
from projectors.runner import RedisProjectionRunner
from read_models.availability import (
    NEVER_BOOKABLE,
    SlotAvailability,
    Snapshot,
    TableAvailability,
    TablesAt,
    holds_until,
    slots_in,
    snapshot_for,
    tables_at,
    tables_in,
)
from tablebook.database import open_pool
from tests.support.catch_up import redis_caught_up
from tests.support.histories import (
    ADMIN,
    GHOST,
    GUEST,
    TABLE_IDS,
    TIMES,
    History,
    Venue,
    beforehand,
    days,
    make_history,
    moments,
    on_the_grid,
    operations,
    venues,
)
from tests.support.scope import TEST_VENUE

T = TypeVar("T")

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
            venue_id=TEST_VENUE,
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


@dataclass(frozen=True)
class Question:
    """Asked at `now`, and once before at `earlier`: the routes keep an answer per
    snapshot (`Snapshot.remember`) until `holds_until`, and what they give again must
    still be right."""

    day: date
    at: time
    party: int
    now: datetime
    earlier: datetime


def remembered(
    snapshot: Snapshot,
    question: Question,
    route: str,
    work: Callable[[datetime], tuple[T, Iterable[datetime]]],
) -> T:
    """The answer of `route` to `question` at its `now`, as the routes give it: worked
    out at `earlier` and kept while it holds, or worked out afresh."""
    key = (route, question)

    def at(moment: datetime) -> Callable[[], tuple[T, datetime]]:
        def answer() -> tuple[T, datetime]:
            found, starts = work(moment)
            return found, holds_until(snapshot, moment, starts)

        return answer

    with contextlib.suppress(*NEVER_BOOKABLE):
        snapshot.remember(key, question.earlier, at(question.earlier))
    return snapshot.remember(key, question.now, at(question.now))


async def check_tables(redis: Redis, prefix: str, decider: Decider, question: Question) -> None:
    day, at, party, now = question.day, question.at, question.party, question.now
    asked = f"tables at {day} {at} for {party}, asked at {now}"
    every_table = (*TABLE_IDS, GHOST)
    snapshot = await snapshot_for(redis, prefix, TEST_VENUE, day)

    def tables(moment: datetime) -> tuple[TablesAt, list[datetime]]:
        found = tables_in(
            snapshot, day=day, at=at, party_size=party, duration_minutes=None, now=moment
        )
        return found, [found.starts_at]

    try:
        found = remembered(snapshot, question, "tables", tables)
    except NEVER_BOOKABLE as never:
        refused_with: type[DomainError] = type(never)
    else:
        check_answer(found.tables, decider, asked, day, at, party, now)
        check_combinations(found, decider, asked, now)
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
    if not anyone:
        return  # a combination may still seat the party: `check_combinations`
    assert decider.book(day, at, party, now) is None, asked


def usable_combinations(decider: Decider) -> list[tuple[str, ...]]:
    venue = decider.venue
    return [
        c.table_ids
        for c in venue.combinations.values()
        if all(t in venue.tables for t in c.table_ids)
    ]


def check_combinations(found: TablesAt, decider: Decider, asked: str, now: datetime) -> None:
    day, at, party = found.date, found.time, found.party_size
    listed = {c.table_ids: c for c in found.combinations}
    assert set(listed) == set(usable_combinations(decider)), asked
    for table_ids, answer in listed.items():
        refusal = decider.book(day, at, party, now, table_ids)
        says_yes = answer.status == "available" and answer.fits_party
        assert says_yes == (refusal is None), (asked, table_ids, answer, refusal)
    anyone = any(a.status == "available" and a.fits_party for a in found.tables) or any(
        c.status == "available" and c.fits_party for c in found.combinations
    )
    assert anyone == (decider.book(day, at, party, now) is None), asked


async def check_slots(redis: Redis, prefix: str, decider: Decider, question: Question) -> None:
    service_date, party, now = question.day, question.party, question.now
    asked = f"starts of {service_date} for {party}, asked at {now}"
    every_table = (*TABLE_IDS, GHOST)
    snapshot = await snapshot_for(redis, prefix, TEST_VENUE, service_date)
    minutes = snapshot.settings.turn_minutes(party)

    def slots(moment: datetime) -> tuple[list[SlotAvailability], list[datetime]]:
        found = slots_in(snapshot, day=service_date, party_size=party, now=moment)
        return found, [slot.starts_at for slot in snapshot.index.slots(service_date, minutes)]

    found = remembered(snapshot, question, "slots", slots)
    listed = {(slot.date, slot.time): slot.tables_available for slot in found}
    assert len(listed) == len(found), asked
    for (day, at), free in listed.items():
        assert decider.bookable_start(day, at, party, now) == service_date, (asked, day, at)
        accepted = [t for t in every_table if decider.book(day, at, party, now, (t,)) is None]
        accepted += [
            "+".join(c)
            for c in usable_combinations(decider)
            if decider.book(day, at, party, now, c) is None
        ]
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
    before = st.one_of(st.just(timedelta()), st.integers(1, 2 * 24 * 60 * 60).map(_seconds))

    def question(day: date, at: time, party: int) -> Question:
        now = data.draw(asked_at, label="now")
        return Question(day, at, party, now, now - data.draw(before, label="asked before"))

    questions = []
    for _ in range(8):
        day = data.draw(days(venue), label="day")
        party = data.draw(st.integers(1, 12), label="party")
        at = data.draw(TIMES, label="time")
        how = data.draw(st.sampled_from(("any time", "on the grid", "when others sit")))
        nth = data.draw(st.integers(0, 200), label="nth")
        if how == "on the grid":
            at = on_the_grid(history.venue, day, party, nth) or at
        elif how == "when others sit" and held:
            day, at = held[nth % len(held)]
        questions.append(question(day, at, party))
    starts_asked = question(
        data.draw(days(venue), label="service date"), time(), data.draw(st.integers(1, 12))
    )

    async def check() -> None:
        prefix = await project(own_servers, history)
        try:
            for asked in questions:
                await check_tables(own_servers.redis, prefix, decider, asked)
            await check_slots(own_servers.redis, prefix, decider, starts_asked)
        finally:
            await forget(own_servers.redis, prefix)

    own_servers.runner.run(check())


def _seconds(count: int) -> timedelta:
    return timedelta(seconds=count)


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
                own_servers.redis,
                prefix,
                venue_id=TEST_VENUE,
                day=day,
                at=at,
                party_size=2,
                now=now,
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
                    own_servers.redis,
                    prefix,
                    venue_id=TEST_VENUE,
                    day=spring.first_day,
                    at=time(1, 30),
                    now=now,
                )
            found = await tables_at(
                own_servers.redis,
                prefix,
                venue_id=TEST_VENUE,
                day=spring.first_day,
                at=time(0, 30),
                now=now,
            )
            assert {t.status for t in found.tables} == {"available"}
        finally:
            await forget(own_servers.redis, prefix)

    own_servers.runner.run(ask())
    assert decider.book(spring.first_day, time(1, 30), 2, now) is NonexistentLocalTime
