"""The PostgreSQL store under concurrent writers: nothing lost, nothing twice, in order."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import defaultdict
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from booking_core.store import (
    ANY,
    ORIGIN,
    ConcurrencyError,
    ConsistencyToken,
    NewEvent,
    RecordedEvent,
    StreamAppend,
)
from booking_core.store.postgres import PostgresEventStore, configure_connection
from booking_core.store.subscription import subscribe
from tests.integration.test_sealed_events import settled

EVENT = NewEvent(type="TableReserved", data=b'{"table":"WINDOW-4"}')

APPEND_ONE = (
    "SELECT tb_append(ARRAY[%s], ARRAY[-1]::bigint[], ARRAY[1], ARRAY['Held']::text[],"
    " ARRAY[1]::smallint[], ARRAY['{}']::jsonb[], ARRAY['{}']::jsonb[])"
)


async def test_an_event_committed_after_later_positions_is_never_skipped(
    clean_store: PostgresEventStore, database_url: str
) -> None:
    store = clean_store
    await store.append([StreamAppend("before", ANY, [EVENT])])
    checkpoint = (await store.read_all())[-1].token

    held = await psycopg.AsyncConnection.connect(database_url)
    configure_connection(held)
    await held.execute(APPEND_ONE, ("held-open",))  # takes the lower position, then waits
    for n in range(3):
        await store.append([StreamAppend(f"after-{n}", ANY, [EVENT])])

    assert await store.read_all(after=checkpoint) == [], "later commits wait for the open one"
    async with held.cursor() as cursor:
        await cursor.execute("SELECT min(position) FROM events WHERE stream_id LIKE 'after-%'")
        row = await cursor.fetchone()
    assert row is not None
    naive_checkpoint = row[0]  # a `position > checkpoint` reader would already be past here

    await held.commit()
    await held.close()

    seen = await store.read_all(after=checkpoint)
    assert [e.stream_id for e in seen] == ["held-open", "after-0", "after-1", "after-2"]
    held_event = seen[0]
    assert held_event.position < naive_checkpoint, "the held event really was out of order"


async def test_eight_writers_and_a_tailing_reader_see_every_event_once_in_stream_order(
    pool: AsyncConnectionPool[Any], clean_store: PostgresEventStore
) -> None:
    store = clean_store
    committed: dict[str, list[int]] = defaultdict(list)
    conflicts = 0
    deadline = time.monotonic() + 4.0
    writers_done = asyncio.Event()

    async def writer(number: int) -> None:
        nonlocal conflicts
        rng = random.Random(number)
        while time.monotonic() < deadline:
            shared = f"shared-{rng.randrange(3)}"
            own = f"own-{number}"
            streams = [own] if rng.random() < 0.5 else [own, shared]
            expected = {s: await store.stream_version(s) for s in streams}
            try:
                result = await store.append(
                    [StreamAppend(s, expected[s], [EVENT] * rng.randint(1, 3)) for s in streams]
                )
            except ConcurrencyError:
                conflicts += 1
                continue
            for stream_id, version in result.versions.items():
                committed[stream_id].extend(range(expected[stream_id] + 1, version + 1))

    async def holder() -> None:
        # Keeps forcing out-of-order commits: append inside a transaction, sleep, commit.
        while time.monotonic() < deadline:
            async with pool.connection() as connection, connection.transaction():
                cursor = await connection.execute(APPEND_ONE, ("slow",))
                row = await cursor.fetchone()
                assert row is not None
                await asyncio.sleep(0.05)
            committed["slow"].append(_version_of(row[0], "slow"))

    seen: list[RecordedEvent] = []

    async def reader() -> None:
        token = ORIGIN
        while True:
            finished = writers_done.is_set()
            batch = await store.read_all(after=token, limit=200)
            seen.extend(batch)
            if batch:
                token = batch[-1].token
            elif finished:
                return
            else:
                await asyncio.sleep(0.005)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(n) for n in range(8)), holder())
    writers_done.set()
    await asyncio.wait_for(reading, 30)

    positions = [e.position for e in seen]
    assert len(positions) == len(set(positions)), "an event was seen twice"
    tokens = [e.token for e in seen]
    assert tokens == sorted(tokens), "read_all went backwards"
    by_stream: dict[str, list[int]] = defaultdict(list)
    for e in seen:
        by_stream[e.stream_id].append(e.version)
    for stream_id, versions in by_stream.items():
        assert versions == list(range(1, len(versions) + 1)), stream_id
    assert {s: sorted(v) for s, v in committed.items()} == dict(by_stream)
    total = sum(len(v) for v in by_stream.values())
    assert total > 200, f"too little load to mean anything: {total} events"
    assert conflicts > 0, "shared streams never clashed: the test did not test concurrency"
    assert await store.head() == max(tokens, default=ConsistencyToken(0, 0))


def _version_of(raw: bytes, stream_id: str) -> int:
    return int(json.loads(raw)["versions"][stream_id])


async def test_an_open_transaction_in_another_database_does_not_hold_readers_back(
    clean_store: PostgresEventStore, database_url: str
) -> None:
    """The read horizon counts only this database's transactions: a session idle in a
    transaction elsewhere on the server (it has written, so it holds an id) is ignored."""
    store = clean_store
    elsewhere = await psycopg.AsyncConnection.connect(database_url.rsplit("/", 1)[0] + "/postgres")
    try:
        await elsewhere.execute("CREATE TEMP TABLE holds_an_id (n int)")
        await elsewhere.execute("INSERT INTO holds_an_id VALUES (1)")  # now idle in transaction
        await store.append([StreamAppend("while-elsewhere-waits", ANY, [EVENT])])
        # Other runs' transactions ending on the server may hold a read back for a moment
        # (the horizon counts a transaction that ended as it was looked at); the one idle
        # here never ends while the test waits, so it is not what the reads wait for.
        seen = await settled(store.read_all, 1)
        assert [e.stream_id for e in seen] == ["while-elsewhere-waits"]
        deadline = asyncio.get_running_loop().time() + 10
        while (head := await store.head()) != seen[-1].token:
            assert asyncio.get_running_loop().time() < deadline, f"head stayed at {head}"
            await asyncio.sleep(0.01)
    finally:
        await elsewhere.rollback()
        await elsewhere.close()


async def test_a_follower_reads_an_announced_event_as_soon_as_the_horizon_passes_it(
    clean_store: PostgresEventStore, database_url: str
) -> None:
    """An append is announced while an older transaction that writes no events holds the
    horizon back; that transaction ends without announcing anything. The follower keeps
    looking and delivers the event well before its (here very long) poll interval."""
    store = clean_store
    stop = asyncio.Event()
    delivered: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def follow() -> None:
        async for batch in subscribe(store, stop=stop, poll_interval=60):
            if any(e.stream_id == "announced-early" for e in batch):
                delivered.set_result(time.monotonic())
                stop.set()

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.1)  # the follower is waiting on its LISTEN connection
    holder = await psycopg.AsyncConnection.connect(database_url)
    try:
        await holder.execute("SELECT pg_current_xact_id()")  # takes an id: the horizon stops
        await store.append([StreamAppend("announced-early", ANY, [EVENT])])
        await asyncio.sleep(0.6)  # past the follower's first round of quick retries
        assert not delivered.done(), "the horizon should have held the event back"
        await holder.commit()  # no events, so no announcement
        released = time.monotonic()
    finally:
        await holder.close()
    reached = await asyncio.wait_for(delivered, 10)
    await asyncio.wait_for(follower, 5)
    assert reached - released < 1.0, f"delivered {reached - released:.2f} s after the horizon"
