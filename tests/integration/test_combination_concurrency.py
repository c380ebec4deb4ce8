"""A hundred parties at once for combinations that share tables, on the real PostgreSQL
store: each contested table is held by exactly one booking at that time, whatever the mix
of combinations named, single tables named and auto-assigned large parties."""

from __future__ import annotations

import asyncio
from datetime import time

from booking_core.domain.commands import (
    Actor,
    AddTable,
    BookTable,
    DefineTableCombination,
)
from booking_core.domain.errors import CombinationOverlap, DomainError, TooMuchContention
from booking_core.domain.values import Shift
from booking_core.handlers import add_table, book_table, change_venue
from booking_core.store.postgres import PostgresEventStore
from tests.integration.test_booking_concurrency import (
    DAY,
    NOW,
    STAFF,
    command_id,
    overlapping,
    reservations,
)
from tests.support.scope import TEST_VENUE
from tests.support.venue import set_hours_and_turns

TABLES = ("T1", "T2", "T3", "T4")
COMBINATIONS = {"A": ("T1", "T2"), "B": ("T2", "T3"), "C": ("T3", "T4")}
"""Three combinations in a row: T2 and T3 are each in two of them."""


async def open_a_row_of_tables(store: PostgresEventStore) -> None:
    await set_hours_and_turns(
        store,
        now=NOW,
        shift=Shift(opens=time(12), closes=time(23)),
        turn_minutes=120,
        buffer_minutes=15,
        time_zone="Europe/London",
    )
    for table_id in TABLES:
        await add_table(
            store,
            AddTable(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=STAFF,
                now=NOW,
                table_id=table_id,
                name=f"ROW-{table_id}",
                capacity=4,
            ),
        )
    for name, table_ids in COMBINATIONS.items():
        await change_venue(
            store,
            DefineTableCombination(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=STAFF,
                now=NOW,
                combination_id=f"c-{name}",
                table_ids=table_ids,
                min_capacity=5,
                capacity=8,
                name=name,
            ),
        )


def request(n: int) -> BookTable:
    """Of every five: combination A, B or C named; T2 or T3 alone; a party of 7 that no
    single table seats, auto-assigned."""
    kind = n % 5
    table_ids: tuple[str, ...] = ()
    party = 7
    if kind < 3:
        table_ids = COMBINATIONS["ABC"[kind]]
        party = 6
    elif kind == 3:
        table_ids, party = (("T2",) if n % 2 else ("T3",)), 2
    return BookTable(
        venue_id=TEST_VENUE,
        command_id=command_id(),
        actor=Actor(user_id=f"u-guest-{n}"),
        now=NOW,
        booking_id=f"b-{n:03d}",
        date=DAY,
        time=time(19, 15 * (n % 3)),  # 19:00, 19:15, 19:30: every turn overlaps the others
        party_size=party,
        guest_name=f"Guest {n}, party of {party}",
        table_ids=table_ids,
    )


async def test_a_hundred_parties_for_overlapping_combinations_hold_each_table_once(
    clean_store: PostgresEventStore,
) -> None:
    store = clean_store
    await open_a_row_of_tables(store)

    async def attempt(command: BookTable) -> str | DomainError:
        try:
            await book_table(store, command)
        except DomainError as error:
            return error
        return command.booking_id

    commands = [request(n) for n in range(100)]
    outcomes = await asyncio.gather(*(attempt(command) for command in commands))

    accepted = {o for o in outcomes if isinstance(o, str)}
    held = {table_id: await reservations(store, table_id) for table_id in TABLES}
    for table_id, bookings in held.items():
        assert overlapping(bookings) == [], table_id
        assert len(bookings) <= 1, (table_id, bookings)  # every request overlaps every other
    for contested in ("T2", "T3"):
        assert len(held[contested]) == 1, f"{contested} is held by exactly one booking"
    assert set().union(*held.values()) == accepted
    refused = [
        (c, o) for c, o in zip(commands, outcomes, strict=True) if isinstance(o, DomainError)
    ]
    assert all(error.kind == "conflict" for _, error in refused), refused
    for command, error in refused:
        if len(command.table_ids) > 1:
            assert isinstance(error, CombinationOverlap | TooMuchContention), error
