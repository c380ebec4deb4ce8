"""Pacing holds across tables, whatever the load: a hundred guests book a hundred different
tables at one paced start at once, on the real PostgreSQL store, and exactly the window's
limit of them get in."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from booking_core.codec import codec
from booking_core.domain.commands import (
    Actor,
    AddTable,
    BookTable,
    CancelBooking,
)
from booking_core.domain.errors import DomainError, PacingLimitReached
from booking_core.domain.events import PacingReleased, PacingTaken
from booking_core.domain.values import PacingRule, Shift
from booking_core.handlers import add_table, book_table, cancel_booking
from booking_core.handlers._session import RetryPolicy
from booking_core.store.postgres import PostgresEventStore
from tests.support.scope import STREAMS, TEST_VENUE
from tests.support.venue import set_hours_and_turns

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
DAY = date(2026, 12, 24)
STAFF = Actor(user_id="u-maitre-d", role="admin")
TABLES = 100
ids = itertools.count()


def command_id() -> str:
    return f"c-pacing-{next(ids)}"


async def open_paced_venue(store: PostgresEventStore, rule: PacingRule) -> None:
    await set_hours_and_turns(
        store,
        now=NOW,
        shift=Shift(opens=time(17, 0), closes=time(23, 0)),
        turn_minutes=90,
        time_zone="Europe/London",
        pacing=(rule,),
    )
    for n in range(TABLES):
        await add_table(
            store,
            AddTable(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=STAFF,
                now=NOW,
                table_id=f"T{n:03d}",
                name=f"TABLE-{n:03d}",
                capacity=4,
            ),
        )


async def paced_covers(store: PostgresEventStore) -> dict[str, int]:
    """The starts counted on DAY, folded from its pacing stream."""
    held: dict[str, int] = {}
    for record in await store.read_stream(STREAMS.pacing(DAY)):
        event = codec.decode(record)
        if isinstance(event, PacingTaken):
            held[event.booking_id] = event.covers
        elif isinstance(event, PacingReleased):
            held.pop(event.booking_id, None)
    return held


async def book_all(
    stores: Callable[[], PostgresEventStore], party_size: int
) -> list[str | DomainError]:
    """Each booking through a store from `stores`: one shared store is one process, whose
    paced bookings of a day take turns; a store each is a hundred processes, whose
    bookings race at the append."""

    async def attempt(n: int) -> str | DomainError:
        booking_id = f"b-{n:03d}"
        try:
            await book_table(
                stores(),
                BookTable(
                    venue_id=TEST_VENUE,
                    command_id=command_id(),
                    actor=Actor(user_id=f"u-guest-{n}"),
                    now=NOW,
                    booking_id=booking_id,
                    date=DAY,
                    time=time(19, 0),
                    party_size=party_size,
                    guest_name=f"Guest {n}",
                    table_ids=(f"T{n:03d}",),
                ),
                retry=RetryPolicy(attempts=TABLES),
            )
        except DomainError as error:
            return error
        return booking_id

    return await asyncio.gather(*(attempt(n) for n in range(TABLES)))


def apart(pool: AsyncConnectionPool[Any], url: str) -> Callable[[], PostgresEventStore]:
    """A store of its own for each booking (with its own cache of folded states), on the
    same database: a process each."""
    return lambda: PostgresEventStore(pool, url)


@pytest.mark.parametrize("processes", ["a process each", "one process"])
@pytest.mark.parametrize(
    ("rule", "party_size", "accepted"),
    [
        (PacingRule(per_minutes=30, max_bookings=10), 2, 10),
        (PacingRule(per_minutes=30, max_covers=24), 3, 8),
    ],
    ids=["bookings", "covers"],
)
async def test_a_hundred_bookings_on_a_hundred_tables_take_exactly_the_windows_limit(
    clean_store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    rule: PacingRule,
    party_size: int,
    accepted: int,
    processes: str,
) -> None:
    store = clean_store
    await open_paced_venue(store, rule)
    stores = apart(pool, database_url) if processes == "a process each" else lambda: store

    outcomes = await book_all(stores, party_size)

    placed = {o for o in outcomes if isinstance(o, str)}
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(placed) == accepted
    assert all(isinstance(error, PacingLimitReached) for error in refused), {
        type(error).__name__ for error in refused
    }
    assert await paced_covers(store) == dict.fromkeys(placed, party_size)


async def test_a_cancelled_booking_gives_its_place_to_exactly_one_of_the_racers(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any], database_url: str
) -> None:
    store = clean_store
    await open_paced_venue(store, PacingRule(per_minutes=30, max_bookings=10))
    first = {o for o in await book_all(apart(pool, database_url), 2) if isinstance(o, str)}
    gone = sorted(first)[0]
    await cancel_booking(
        store,
        CancelBooking(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=Actor(user_id=f"u-guest-{int(gone[2:])}"),
            now=NOW,
            booking_id=gone,
        ),
    )

    again = [o for o in await book_all(apart(pool, database_url), 2) if isinstance(o, str)]

    assert len(again) == 1
    assert set(await paced_covers(store)) == (first - {gone}) | set(again)
