"""A decision holds the streams it read as empty until it commits, as it holds the ones it
read with events: of two decisions that each write one stream and read the other as
empty (two bookings of one table on neighbouring service days), the second to commit is
refused, whichever order their appends take the streams in. Without this, both commit,
each blind to the other's event: a double booking across midnight."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from booking_core.codec import codec
from booking_core.domain.events import TableAdded
from booking_core.store import NO_STREAM, ConcurrencyError, StreamAppend
from booking_core.store.postgres import PostgresEventStore

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
FIRST, SECOND = "table-a", "table-b"  # the append takes streams in the order of their ids


def written(stream_id: str) -> StreamAppend:
    event = TableAdded(table_id=stream_id, name=stream_id, capacity=4, added_at=NOW)
    return StreamAppend(stream_id, NO_STREAM, [codec.encode(event)])


def read_empty(stream_id: str) -> StreamAppend:
    return StreamAppend(stream_id, NO_STREAM, [])


async def waiting_for_a_lock(pool: AsyncConnectionPool[Any], task: asyncio.Task[Any]) -> bool:
    """True once another backend of this database waits for a lock; False if `task` ends
    first (it did not wait)."""
    async with pool.connection() as connection:
        for _ in range(200):
            if task.done():
                return False
            cursor = await connection.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            row = await cursor.fetchone()
            if row and row[0]:
                return True
            await asyncio.sleep(0.02)
    raise AssertionError("the second append neither waited nor ended")


@pytest.mark.parametrize("read_before", [False, True], ids=["never-read", "read-before"])
@pytest.mark.parametrize("ours", [FIRST, SECOND], ids=["ours-writes-first", "ours-writes-second"])
async def test_of_two_decisions_reading_each_others_stream_as_empty_only_one_commits(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any], ours: str, read_before: bool
) -> None:
    store = clean_store
    theirs = SECOND if ours == FIRST else FIRST
    if read_before:  # both streams already read as empty by an earlier decision
        await store.append([written("table-c"), read_empty(FIRST), read_empty(SECOND)])

    async with pool.connection() as connection, connection.transaction():
        # `_call_append` on our connection: the append stays open until we commit.
        await store._call_append([written(ours), read_empty(theirs)], None, [], {}, connection)
        racing = asyncio.create_task(store.append([written(theirs), read_empty(ours)]))
        assert await waiting_for_a_lock(pool, racing), (
            "the other decision committed beside ours, blind to our event"
        )
    with pytest.raises(ConcurrencyError) as refused:
        await racing
    assert refused.value.stream_id == ours
    assert await store.stream_version(ours) == 1
    assert await store.stream_version(theirs) == 0
    assert await store.read_stream(theirs) == []


async def test_a_stream_read_as_empty_is_written_from_version_zero(
    clean_store: PostgresEventStore,
) -> None:
    store = clean_store
    await store.append([written(FIRST), read_empty(SECOND)])
    result = await store.append([written(SECOND)])
    assert result.versions == {SECOND: 1}
    [event] = await store.read_stream(SECOND)
    assert event.version == 1
    with pytest.raises(ConcurrencyError):
        await store.append([written(SECOND)])
