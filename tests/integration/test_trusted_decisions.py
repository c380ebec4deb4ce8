"""A booking's first attempt decides on the process's cached states without reading them
(`execute(..., trust_cache=True)`). A stale cache must cost a second attempt, never a
different answer: a slot another process freed is booked, a slot another process took is
refused, and processes racing with warm caches never double-book a table."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Collection, Mapping
from datetime import time
from typing import Any

import msgspec
import pytest
from psycopg_pool import AsyncConnectionPool

from booking_core.domain.commands import BookTable, CancelBooking
from booking_core.domain.errors import DomainError, TableAlreadyBooked, TooMuchContention
from booking_core.domain.personal import ERASED
from booking_core.handlers import BookingResult, book_table, cancel_booking
from booking_core.store import RecordedEvent
from booking_core.store.postgres import PostgresEventStore
from tests.integration.test_booking_concurrency import (
    NOW,
    STAFF,
    command_id,
    open_venue,
    overlapping,
    reservations,
)
from tests.integration.test_cached_decisions import guest
from tests.integration.test_sealed_events import erased_event
from tests.support.scope import TEST_VENUE


class CountingReads(PostgresEventStore):
    """A process that counts the stream reads it makes."""

    reads = 0

    async def read_streams(
        self, stream_ids: Collection[str], from_versions: Mapping[str, int] | None = None
    ) -> dict[str, list[RecordedEvent]]:
        self.reads += 1
        return await super().read_streams(stream_ids, from_versions)


def book(booking_id: str, at: time, table_id: str = "T1") -> BookTable:
    return msgspec.structs.replace(guest(booking_id, at), table_ids=(table_id,))


def cancel(booking_id: str) -> CancelBooking:
    return CancelBooking(
        venue_id=TEST_VENUE, command_id=command_id(), actor=STAFF, now=NOW, booking_id=booking_id
    )


@pytest.fixture
async def two_processes(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any], database_url: str
) -> tuple[CountingReads, PostgresEventStore]:
    """Ours, warm, and theirs: two store objects on one database, each its own cache."""
    await open_venue(clean_store, turn_minutes=120)
    ours = CountingReads(pool, database_url)
    await book_table(ours, book("b-warm", time(9)))  # folds the venue, T1 and its day
    return ours, PostgresEventStore(pool, database_url)


async def test_a_warm_process_books_the_streams_it_wrote_last_without_a_read(
    two_processes: tuple[CountingReads, PostgresEventStore],
) -> None:
    ours, _ = two_processes
    ours.reads = 0
    result = await book_table(ours, book("b-1", time(12)))
    assert ours.reads == 0
    assert result.attempts == 1
    assert set(await reservations(ours, "T1")) == {"b-warm", "b-1"}


async def test_a_slot_another_process_freed_is_booked_though_the_cache_says_taken(
    two_processes: tuple[CountingReads, PostgresEventStore],
) -> None:
    ours, theirs = two_processes
    await book_table(ours, book("b-1", time(19)))
    await cancel_booking(theirs, cancel("b-1"))  # our cache still holds T1 at 19:00

    result = await book_table(ours, book("b-2", time(19)))
    assert result.attempts == 2  # refused on the cached states, accepted on fresh reads
    assert set(await reservations(ours, "T1")) == {"b-warm", "b-2"}


async def test_a_slot_another_process_took_is_refused_though_the_cache_says_free(
    two_processes: tuple[CountingReads, PostgresEventStore],
) -> None:
    ours, theirs = two_processes
    await book_table(theirs, book("b-theirs", time(19)))  # our cache has T1 free at 19:00

    with pytest.raises(TableAlreadyBooked):
        await book_table(ours, book("b-ours", time(19)))
    assert set(await reservations(ours, "T1")) == {"b-warm", "b-theirs"}


async def test_processes_racing_with_warm_caches_never_double_book(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any], database_url: str
) -> None:
    await open_venue(clean_store, turn_minutes=120)
    processes = [PostgresEventStore(pool, database_url) for _ in range(3)]
    rng = random.Random(7)
    hours = [time(h) for h in range(9, 22)]
    booked: list[str] = []

    async def worker(n: int, store: PostgresEventStore) -> list[DomainError]:
        refused: list[DomainError] = []
        for i in range(25):
            if booked and rng.random() < 0.3:
                victim = booked.pop(rng.randrange(len(booked)))
                try:
                    await cancel_booking(store, cancel(victim))
                except DomainError as error:
                    refused.append(error)
                continue
            booking_id = f"b-{n}-{i}"
            try:
                result: BookingResult = await book_table(
                    store, book(booking_id, rng.choice(hours), rng.choice(("T1", "T2")))
                )
            except DomainError as error:
                refused.append(error)
            else:
                assert result.booking.status == "confirmed"
                booked.append(booking_id)
            await asyncio.sleep(0)
        return refused

    outcomes = await asyncio.gather(*(worker(n, p) for n, p in enumerate(processes)))
    refusals = [error for errors in outcomes for error in errors]
    assert not [e for e in refusals if isinstance(e, TooMuchContention)]
    assert all(e.kind == "conflict" for e in refusals), refusals
    for table_id in ("T1", "T2"):
        held = await reservations(clean_store, table_id)
        assert overlapping(held) == []
    assert set(booked) <= {b for t in ("T1", "T2") for b in await reservations(clean_store, t)}


async def test_auto_assign_on_a_stale_cache_takes_the_table_a_fresh_read_would(
    two_processes: tuple[CountingReads, PostgresEventStore],
) -> None:
    ours, theirs = two_processes
    first = await book_table(ours, guest("b-1", time(19)))  # the first table in rank order
    (taken,) = first.booking.details.table_ids  # type: ignore[union-attr]
    await cancel_booking(theirs, cancel("b-1"))  # our cache still holds it at 19:00

    again = await book_table(ours, guest("b-2", time(19)))
    assert again.booking.details.table_ids == (taken,)  # type: ignore[union-attr]
    assert again.attempts == 2


async def test_a_log_written_again_to_the_same_versions_is_told_apart_by_its_events(
    two_processes: tuple[CountingReads, PostgresEventStore], pool: AsyncConnectionPool[Any]
) -> None:
    """The store emptied (as a restore from a backup may leave it) and written again by
    another process to the very versions our cache holds, with other events: our cached
    T1 has 12:00 taken and 20:00 free, the log now has 20:00 taken. Versions alone would
    accept a second booking at 20:00."""
    ours, theirs = two_processes
    await book_table(ours, book("b-1", time(12)))

    async with pool.connection() as connection:
        await connection.execute("TRUNCATE events, streams, idempotency_keys RESTART IDENTITY")
    await open_venue(theirs, turn_minutes=120)
    await book_table(theirs, book("b-warm", time(9)))
    await book_table(theirs, book("b-2", time(20)))  # T1's day at the version we cached

    with pytest.raises(TableAlreadyBooked):
        await book_table(ours, book("b-3", time(20)))
    assert set(await reservations(ours, "T1")) == {"b-warm", "b-2"}


async def test_a_booking_erased_after_it_was_placed_here_is_read_as_erased_here(
    two_processes: tuple[CountingReads, PostgresEventStore],
) -> None:
    """A booking's own stream is never kept from the append that placed it: an erasure
    changes what its event reads as without adding one, and only a read compares it."""
    ours, _ = two_processes
    placed = await book_table(ours, book("b-1", time(12)))
    person = placed.booking.details.person  # type: ignore[union-attr]
    assert person is not None
    gone, _ = await ours.erase({TEST_VENUE: [person]}, erased_event)
    assert gone == [(TEST_VENUE, person)]

    cancelled = await cancel_booking(ours, cancel("b-1"))
    assert cancelled.booking.details.guest_name == ERASED  # type: ignore[union-attr]


async def test_a_command_sent_again_is_answered_from_the_log_not_from_the_cache(
    two_processes: tuple[CountingReads, PostgresEventStore],
) -> None:
    """Our cache holds the command's own events: the answer is still the log's (read
    now), a duplicate with the first write's token."""
    ours, _ = two_processes
    command = book("b-1", time(12))
    first = await book_table(ours, command)
    ours.reads = 0

    again = await book_table(ours, command)
    assert again.duplicate
    assert again.token == first.token
    assert again.attempts == 2  # found applied in the cached states: decided on reads
    assert ours.reads > 0
    assert set(await reservations(ours, "T1")) == {"b-warm", "b-1"}


async def test_a_command_the_cache_says_was_applied_is_placed_if_the_log_lost_it(
    two_processes: tuple[CountingReads, PostgresEventStore], pool: AsyncConnectionPool[Any]
) -> None:
    """The store emptied (a restore from a backup taken before the booking) and written
    again up to the versions our cache holds: the command sent again is decided on the
    log, which does not have it, and placed; answering it as a duplicate from the cache
    would lose the booking."""
    ours, theirs = two_processes
    command = book("b-1", time(12))
    await book_table(ours, command)

    async with pool.connection() as connection:
        await connection.execute("TRUNCATE events, streams, idempotency_keys RESTART IDENTITY")
    await open_venue(theirs, turn_minutes=120)
    await book_table(theirs, book("b-warm", time(9)))
    await book_table(theirs, book("b-other", time(20)))  # T1's day at the version we cached

    again = await book_table(ours, command)
    assert not again.duplicate
    assert again.token is not None
    assert set(await reservations(ours, "T1")) == {"b-warm", "b-other", "b-1"}
