"""Two guests never hold the same table at the same time, whatever the load: the booking
handlers racing each other on the real PostgreSQL store."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking_core.codec import codec
from booking_core.domain.commands import (
    Actor,
    AddTable,
    BookTable,
    ChangeBooking,
)
from booking_core.domain.errors import DomainError, TableAlreadyBooked
from booking_core.domain.events import TableReleased, TableReserved
from booking_core.domain.values import Shift
from booking_core.handlers import add_table, book_table, change_booking
from booking_core.store.postgres import PostgresEventStore
from tests.support.scope import STREAMS, TEST_VENUE
from tests.support.venue import add_tables, set_hours_and_turns

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
DAY = date(2026, 12, 24)
STAFF = Actor(user_id="u-maitre-d", role="admin")
ids = itertools.count()


def command_id() -> str:
    return f"c-{next(ids)}"


async def open_venue(store: PostgresEventStore, turn_minutes: int) -> None:
    await set_hours_and_turns(
        store,
        now=NOW,
        shift=Shift(opens=time(8, 0), closes=time(23, 45)),
        turn_minutes=turn_minutes,
        time_zone="Europe/London",
    )
    for table_id, name in (("T1", "WINDOW-4"), ("T2", "GARDEN-4")):
        await add_table(
            store,
            AddTable(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=STAFF,
                now=NOW,
                table_id=table_id,
                name=name,
                capacity=4,
            ),
        )


async def reservations(
    store: PostgresEventStore, table_id: str
) -> dict[str, tuple[datetime, datetime]]:
    """The bookings holding the table on DAY, folded from its service-day stream."""
    held: dict[str, tuple[datetime, datetime]] = {}
    for record in await store.read_stream(STREAMS.service_day(table_id, DAY)):
        event = codec.decode(record)
        if isinstance(event, TableReserved):
            held[event.booking_id] = (event.starts_at, event.ends_at)
        elif isinstance(event, TableReleased):
            held.pop(event.booking_id, None)
    return held


def overlapping(held: dict[str, tuple[datetime, datetime]]) -> list[tuple[str, str]]:
    return [
        (a, b)
        for (a, (a_start, a_end)), (b, (b_start, b_end)) in itertools.combinations(
            sorted(held.items()), 2
        )
        if a_start < b_end and b_start < a_end
    ]


async def test_fifty_overlapping_bookings_on_one_table_leave_no_overlap(
    clean_store: PostgresEventStore,
) -> None:
    store = clean_store
    await open_venue(store, turn_minutes=120)
    starts = [
        (datetime.combine(DAY, time(8, 0)) + timedelta(minutes=15 * n)).time() for n in range(50)
    ]

    async def attempt(n: int, at: time) -> str | DomainError:
        try:
            await book_table(
                store,
                BookTable(
                    venue_id=TEST_VENUE,
                    command_id=command_id(),
                    actor=Actor(user_id=f"u-guest-{n}"),
                    now=NOW,
                    booking_id=f"b-{n:02d}",
                    date=DAY,
                    time=at,
                    party_size=2,
                    guest_name=f"Guest {n}, party of 2",
                    table_ids=("T1",),
                ),
            )
        except DomainError as error:
            return error
        return f"b-{n:02d}"

    outcomes = await asyncio.gather(*(attempt(n, at) for n, at in enumerate(starts)))
    accepted = {o for o in outcomes if isinstance(o, str)}
    refused = {n: o for n, o in enumerate(outcomes) if isinstance(o, DomainError)}
    held = await reservations(store, "T1")
    assert set(held) == accepted
    assert accepted, "somebody must get the table"
    assert overlapping(held) == []
    assert all(error.kind == "conflict" for error in refused.values()), refused
    for n, error in refused.items():
        if isinstance(error, TableAlreadyBooked):
            start = datetime.combine(DAY, starts[n], ZoneInfo("Europe/London"))
            end = start + timedelta(minutes=120)
            assert any(s < end and start < e for s, e in held.values()), f"b-{n:02d} was free"


async def test_twenty_concurrent_moves_between_two_tables_lose_nothing(
    clean_store: PostgresEventStore,
) -> None:
    store = clean_store
    await open_venue(store, turn_minutes=30)
    bookings: dict[str, tuple[str, time]] = {}
    for n in range(20):
        table_id = "T1" if n % 2 == 0 else "T2"
        at = (datetime.combine(DAY, time(8, 0)) + timedelta(minutes=30 * n)).time()
        booking_id = f"b-{n:02d}"
        await book_table(
            store,
            BookTable(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=STAFF,
                now=NOW,
                booking_id=booking_id,
                date=DAY,
                time=at,
                party_size=2,
                guest_name=f"Ada Lovelace {n}",
                table_ids=(table_id,),
            ),
        )
        bookings[booking_id] = (table_id, at)

    async def move(booking_id: str) -> DomainError | None:
        table_id, _ = bookings[booking_id]
        try:
            await change_booking(
                store,
                ChangeBooking(
                    venue_id=TEST_VENUE,
                    command_id=command_id(),
                    actor=STAFF,
                    now=NOW,
                    booking_id=booking_id,
                    table_ids=("T2" if table_id == "T1" else "T1",),
                ),
            )
        except DomainError as error:
            return error
        return None

    outcomes = dict(zip(bookings, await asyncio.gather(*(move(b) for b in bookings)), strict=True))
    t1, t2 = await reservations(store, "T1"), await reservations(store, "T2")
    assert set(t1) | set(t2) == set(bookings), "a booking was lost"
    assert not set(t1) & set(t2), "a booking holds both tables"
    moved = 0
    for booking_id, (table_id, _) in bookings.items():
        error = outcomes[booking_id]
        if error is None:
            assert booking_id in (t2 if table_id == "T1" else t1), f"{booking_id} did not move"
            moved += 1
        else:
            # Every move touches both tables' day: under this much contention a move may
            # give up (409, try again), and then the booking stays exactly where it was.
            assert error.kind == "conflict", error
            assert booking_id in (t1 if table_id == "T1" else t2), f"{booking_id} half-moved"
    assert moved >= 10, f"only {moved} of 20 moves went through"
    assert overlapping(t1) == []
    assert overlapping(t2) == []


async def test_bookings_racing_across_midnight_on_neighbouring_days_never_overlap(
    clean_store: PostgresEventStore,
) -> None:
    """A late booking on DAY (23:30, two hours, past the close by an override) and an early
    one the next day (00:30, before the opening, by an override) overlap, and live in two
    streams: each decision reads the other's day, which it finds empty. Racing on twelve
    tables at once, one of each pair must be refused, never both placed."""
    store = clean_store
    await open_venue(store, turn_minutes=120)
    tables = [f"T{n}" for n in range(3, 15)]
    await add_tables(store, NOW, {t: f"LATE-{t}" for t in tables}, capacity=4)
    late, early = (DAY, time(23, 30)), (DAY + timedelta(days=1), time(0, 30))

    async def attempt(table_id: str, when: tuple[date, time]) -> str | DomainError:
        booking_id = f"b-{table_id}-{when[0]:%d}"
        try:
            await book_table(
                store,
                BookTable(
                    venue_id=TEST_VENUE,
                    command_id=command_id(),
                    actor=STAFF,
                    now=NOW,
                    booking_id=booking_id,
                    date=when[0],
                    time=when[1],
                    party_size=2,
                    guest_name=f"Night owl at {table_id}",
                    table_ids=(table_id,),
                    override="the kitchen stays open for the party",
                ),
            )
        except DomainError as error:
            return error
        return booking_id

    outcomes = await asyncio.gather(*(attempt(t, when) for t in tables for when in (late, early)))
    for n, table_id in enumerate(tables):
        pair = outcomes[2 * n : 2 * n + 2]
        placed = [o for o in pair if isinstance(o, str)]
        refused = [o for o in pair if isinstance(o, DomainError)]
        assert len(placed) <= 1, f"{table_id} is held twice across midnight: {placed}"
        assert placed, f"neither booking of {table_id} was placed: {refused}"
        assert all(error.kind == "conflict" for error in refused), refused
