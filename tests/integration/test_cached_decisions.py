"""Decisions made from folds cached by an earlier command are the decisions a fresh read
would give: another process resizing or retiring a table, or closing a date, and the
store being emptied under a running process, are all seen by the next booking."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import time, timedelta
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from booking_core.domain.booking import Confirmed
from booking_core.domain.commands import (
    Actor,
    AddClosure,
    AddTable,
    BookTable,
    ChangeTable,
    RetireTable,
)
from booking_core.domain.errors import ClosedOnDate, NoTableAvailable
from booking_core.handlers import (
    BookingResult,
    add_table,
    book_table,
    change_table,
    change_venue,
    retire_table,
)
from booking_core.store import AppendResult, IdempotencyKey, RecordedEvent, StreamAppend
from booking_core.store.postgres import PostgresEventStore
from tests.integration.test_booking_concurrency import DAY, NOW, STAFF, command_id, open_venue
from tests.support.scope import TEST_VENUE


async def open_with_three_tables(store: PostgresEventStore) -> None:
    await open_venue(store, turn_minutes=120)  # WINDOW-4 (T1), GARDEN-4 (T2)
    await add_table(
        store,
        AddTable(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=STAFF,
            now=NOW,
            table_id="T3",
            name="TERRACE-4",
            capacity=4,
        ),
    )  # fmt: skip


Rival = Callable[[], Awaitable[object]]


def guest(booking_id: str, at: time, *, days_later: int = 0) -> BookTable:
    return BookTable(
        venue_id=TEST_VENUE,
        command_id=command_id(),
        actor=Actor(user_id=f"u-{booking_id}"),
        now=NOW,
        booking_id=booking_id,
        date=DAY + timedelta(days=days_later),
        time=at,
        party_size=2,
        guest_name=f"Guest {booking_id}",
    )


def tables_of(result: BookingResult) -> tuple[str, ...]:
    assert isinstance(result.booking, Confirmed)
    return result.booking.details.table_ids


def another_process(pool: AsyncConnectionPool[Any], database_url: str) -> PostgresEventStore:
    """A second store object on the same database: its own cache, as in another process."""
    return PostgresEventStore(pool, database_url)


async def test_a_warm_cache_never_books_a_table_another_process_resized_or_retired(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any], database_url: str
) -> None:
    ours, theirs = clean_store, another_process(pool, database_url)
    await open_with_three_tables(ours)
    first = await book_table(ours, guest("b-1", time(12)))
    assert tables_of(first) == ("T2",)  # GARDEN-4: smallest, then by name

    resize = ChangeTable(
        venue_id=TEST_VENUE,
        command_id=command_id(),
        actor=STAFF,
        now=NOW,
        table_id="T2",
        capacity=1,
    )
    await change_table(theirs, resize)
    second = await book_table(ours, guest("b-2", time(18)))
    assert tables_of(second) == ("T3",)

    await retire_table(
        theirs,
        RetireTable(
            venue_id=TEST_VENUE, command_id=command_id(), actor=STAFF, now=NOW, table_id="T1"
        ),
    )
    with pytest.raises(NoTableAvailable):
        await book_table(ours, guest("b-3", time(18)))


async def test_a_warm_cache_never_books_a_date_another_process_closed(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any], database_url: str
) -> None:
    ours, theirs = clean_store, another_process(pool, database_url)
    await open_with_three_tables(ours)
    await book_table(ours, guest("b-1", time(12), days_later=1))

    closure = AddClosure(
        venue_id=TEST_VENUE,
        command_id=command_id(),
        actor=STAFF,
        now=NOW,
        date=DAY + timedelta(days=1),
        reason="x",
    )
    await change_venue(theirs, closure)

    with pytest.raises(ClosedOnDate):
        await book_table(ours, guest("b-2", time(18), days_later=1))


class RivalAfterFirstRead(PostgresEventStore):
    """A process whose first read, or first append if it reads nothing (a decision on
    cached states), once armed is preceded or followed at once by another process's
    command: it decides from what it read or had cached before that command landed."""

    def __init__(self, pool: AsyncConnectionPool[Any], url: str) -> None:
        super().__init__(pool, url)
        self._rival: Rival | None = None

    def arm(self, rival: Rival) -> None:
        self._rival = rival

    async def read_streams(
        self, stream_ids: Collection[str], from_versions: Mapping[str, int] | None = None
    ) -> dict[str, list[RecordedEvent]]:
        found = await super().read_streams(stream_ids, from_versions)
        await self._rival_lands()
        return found

    async def append(
        self, streams: Sequence[StreamAppend], *, idempotency: IdempotencyKey | None = None
    ) -> AppendResult:
        await self._rival_lands()
        return await super().append(streams, idempotency=idempotency)

    async def _rival_lands(self) -> None:
        rival, self._rival = self._rival, None
        if rival is not None:
            await rival()


@pytest.mark.parametrize("change", ["resize", "retire", "close"])
async def test_a_change_landing_between_a_warm_read_and_the_append_is_never_decided_past(
    clean_store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    change: str,
) -> None:
    theirs = clean_store
    await open_with_three_tables(theirs)

    async def rival() -> None:
        if change == "resize":  # GARDEN-4, the table auto-assign would take, seats one
            await change_table(
                theirs,
                ChangeTable(
                    venue_id=TEST_VENUE,
                    command_id=command_id(),
                    actor=STAFF,
                    now=NOW,
                    table_id="T2",
                    capacity=1,
                ),
            )
        elif change == "retire":
            retire = RetireTable(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=STAFF,
                now=NOW,
                table_id="T2",
                cancel_bookings=True,
            )
            await retire_table(theirs, retire)
        else:
            closure = AddClosure(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=STAFF,
                now=NOW,
                date=DAY,
                reason="x",
            )
            await change_venue(theirs, closure)

    ours = RivalAfterFirstRead(pool, database_url)
    await book_table(ours, guest("b-warm", time(9)))  # every stream folded and cached
    ours.arm(rival)

    if change == "close":
        with pytest.raises(ClosedOnDate):
            await book_table(ours, guest("b-1", time(12)))
    else:
        assert tables_of(await book_table(ours, guest("b-1", time(12)))) == ("T3",)


async def test_a_store_emptied_under_a_running_process_is_decided_from_what_it_holds_now(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    await open_with_three_tables(clean_store)
    await book_table(clean_store, guest("b-1", time(12)))

    async with pool.connection() as connection:
        await connection.execute("TRUNCATE events, streams, idempotency_keys RESTART IDENTITY")
    await open_with_three_tables(clean_store)
    await change_venue(
        clean_store,
        AddClosure(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=STAFF,
            now=NOW,
            date=DAY,
            reason="refit",
        ),
    )

    with pytest.raises(ClosedOnDate):  # not BookingAlreadyExists from the fold of before
        await book_table(clean_store, guest("b-1", time(12)))
