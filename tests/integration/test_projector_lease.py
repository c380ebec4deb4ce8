"""Projector daemons in pairs: one lease in PostgreSQL, one holder at a time, a standby
that takes over when the holder stops renewing, and a stale holder's batch refused.

Each test has a lease of its own. A lease meant to run out has a short time (`SECONDS`);
one that must stay held through the test has a long one (`HELD`), so that a slow machine
renewing late cannot end it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any, ClassVar

import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from booking_core.codec import Event, EventCodec
from booking_core.store import ANY, ORIGIN, StreamAppend
from booking_core.store.postgres import PostgresEventStore
from projectors.base import Decoded, KeySpace, RedisCommand, TableNames
from projectors.checkpoints import read_sql_checkpoints
from projectors.lease import Lease, LeaseLost, Tenure, read_leases
from projectors.parking import list_parks
from projectors.runner import (
    RedisProjectionRunner,
    SqlProjectionRunner,
    apply_sql_together,
    decode_batch,
)
from tablebook.projector_commands import show_status

SECONDS = 0.6
HELD = 3.0


class Seated(Event, frozen=True, tag="Seated"):
    party: str


codec = EventCodec([Seated])


class SeatCounts:
    """Counts events per stream: an event applied twice shows as one too many."""

    name: ClassVar[str] = "lease_seat_counts"
    tables: ClassVar[tuple[str, ...]] = ("test_lease_seat_counts",)

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        for record, _ in batch:
            await connection.execute(
                psycopg.sql.SQL(
                    "INSERT INTO {t} AS t (stream_id, events) VALUES (%s, 1)"
                    " ON CONFLICT (stream_id) DO UPDATE SET events = t.events + 1"
                ).format(t=tables["test_lease_seat_counts"]),
                (record.stream_id,),
            )


class RefusesEveryEvent:
    """A Redis projection that fails on every event: each one parks its venue."""

    name: ClassVar[str] = "lease_refusals"

    def commands(self, keys: KeySpace, batch: Sequence[Decoded]) -> list[RedisCommand]:
        raise ValueError("this projection takes no event")


Pair = Callable[[float, float], tuple[Lease, Lease]]


@pytest.fixture
async def pair_of_daemons(pool: AsyncConnectionPool[Any]) -> AsyncIterator[Pair]:
    """Makes two daemons' sides of one lease, each with its lease time; the sessions they
    still hold end with the test."""
    made: list[Lease] = []

    def make(a_seconds: float, b_seconds: float) -> tuple[Lease, Lease]:
        name = f"test-{uuid.uuid4().hex[:8]}"
        a = Lease(pool, name, "daemon-A", seconds=a_seconds)
        b = Lease(pool, name, "daemon-B", seconds=b_seconds)
        made.extend((a, b))
        return a, b

    yield make
    for lease in made:
        await lease.close()


@pytest.fixture
def two_daemons(pair_of_daemons: Pair) -> tuple[Lease, Lease]:
    """Two daemons' sides of one lease, both with the short time."""
    return pair_of_daemons(SECONDS, SECONDS)


async def taken(lease: Lease) -> Tenure:
    tenure = await lease.try_take()
    assert tenure is not None, f"{lease.holder} could not take the lease"
    return tenure


async def held_by(pool: AsyncConnectionPool[Any], name: str) -> tuple[str, int]:
    async with pool.connection() as connection:
        state = next(s for s in await read_leases(connection) if s.name == name)
    return state.holder, state.epoch


@pytest.fixture
async def store(
    pool: AsyncConnectionPool[Any], clean_store: PostgresEventStore
) -> PostgresEventStore:
    async with pool.connection() as connection:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS test_lease_seat_counts"
            " (stream_id text PRIMARY KEY, events int NOT NULL)"
        )
        await connection.execute("TRUNCATE test_lease_seat_counts")
        await connection.execute(
            "DELETE FROM projection_checkpoints WHERE name = %s", (SeatCounts.name,)
        )
    await clean_store.append(
        [StreamAppend("table-WINDOW-4", ANY, [codec.encode(Seated(party=f"party of {n}"))
                                              for n in range(2, 7)])]
    )  # fmt: skip
    return clean_store


async def seat_counts(pool: AsyncConnectionPool[Any]) -> dict[str, int]:
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT stream_id, events FROM test_lease_seat_counts")
        return {row[0]: row[1] for row in await cursor.fetchall()}


async def test_of_two_daemons_only_one_holds_the_lease(
    pool: AsyncConnectionPool[Any], pair_of_daemons: Pair, database_url: str,
    redis_url: str, redis_prefix: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("COLUMNS", "200")
    a, b = pair_of_daemons(HELD, HELD)
    first = await taken(a)
    assert await b.try_take() is None, "the lease is held: the other daemon stands by"
    assert await a.renew(first)
    assert await b.try_take() is None
    assert await held_by(pool, a.name) == ("daemon-A", first.epoch)

    await show_status(database_url, redis_url, redis_prefix)
    line = next(row for row in capsys.readouterr().out.splitlines() if a.name in row)
    assert "daemon-A" in line
    assert "held" in line

    await a.release(first)
    second = await b.try_take()
    assert second is not None, "a released lease is free at once"
    assert second.epoch == first.epoch + 1


async def test_when_the_holder_stops_renewing_the_standby_takes_over_within_the_lease(
    pool: AsyncConnectionPool[Any],
    pair_of_daemons: Pair,
) -> None:
    a, b = pair_of_daemons(SECONDS, HELD)
    stale = await taken(a)  # and never renewed, as by a daemon that died
    stop = asyncio.Event()
    working: list[tuple[int, float]] = []

    async def work(tenure: Tenure) -> None:
        working.append((tenure.epoch, time.monotonic()))
        await tenure.stopped.wait()

    began = time.monotonic()
    standby = asyncio.create_task(b.hold(stop, work))
    try:
        while not working:
            assert time.monotonic() - began < SECONDS * 3, "the standby never took over"
            await asyncio.sleep(0.02)
        epoch, at = working[0]
        assert epoch == stale.epoch + 1
        assert at - began >= SECONDS * 0.5, "taken while the holder's lease still ran"
        assert await held_by(pool, a.name) == ("daemon-B", epoch)

        assert not await a.renew(stale), "the old holder learns it lost the lease"
        assert stale.lost
        assert stale.stopped.is_set()
        await asyncio.sleep(SECONDS * 1.5)  # the new holder renews its lease all along
        assert await held_by(pool, a.name) == ("daemon-B", epoch)
        assert len(working) == 1
    finally:
        stop.set()
        await standby
    assert await held_by(pool, a.name) == ("", epoch), "released on the way out"


async def test_a_stale_holders_sql_batch_is_refused_and_the_new_holders_applied_once(
    pool: AsyncConnectionPool[Any],
    store: PostgresEventStore,
    pair_of_daemons: Pair,
) -> None:
    a, b = pair_of_daemons(SECONDS, HELD)
    stale = await taken(a)
    await asyncio.sleep(SECONDS * 1.2)
    current = await taken(b)
    # A holder that was paused in the middle of a round still counts its lease as good:
    # only the fence, in the batch's own transaction, can tell it otherwise.
    stale.extend(time.monotonic())

    batch = decode_batch(codec, await store.read_all(ORIGIN, 100))
    refused = SqlProjectionRunner(SeatCounts(), store, codec, pool, tenure=stale)
    with pytest.raises(LeaseLost):
        await apply_sql_together([refused], batch, ORIGIN)
    assert await seat_counts(pool) == {}
    async with pool.connection() as connection:
        assert SeatCounts.name not in await read_sql_checkpoints(connection, [SeatCounts.name])
    assert stale.lost
    assert stale.stopped.is_set()
    with pytest.raises(LeaseLost):
        await refused.step()

    holder = SqlProjectionRunner(SeatCounts(), store, codec, pool, tenure=current)
    assert await holder.catch_up() == 5
    assert await seat_counts(pool) == {"table-WINDOW-4": 5}


async def test_a_stale_holder_cannot_park_a_venue_for_a_redis_projection(
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    store: PostgresEventStore,
    pair_of_daemons: Pair,
) -> None:
    """A Redis projection's park is a PostgreSQL write: fenced like a SQL batch, or a
    holder paused past its term would park a venue its successor goes on projecting."""
    a, b = pair_of_daemons(SECONDS, HELD)
    stale = await taken(a)
    await asyncio.sleep(SECONDS * 1.2)
    await taken(b)
    stale.extend(time.monotonic())  # paused: by its own count, still the holder

    runner = RedisProjectionRunner(
        RefusesEveryEvent(), store, codec, redis, redis_prefix, pool=pool, tenure=stale
    )
    with pytest.raises(LeaseLost):
        await runner.catch_up()
    async with pool.connection() as connection:
        assert [p for p in await list_parks(connection) if p.projection == runner.name] == []
    assert stale.lost


async def test_a_takeover_waits_for_the_batch_under_way_and_then_refuses_its_sender(
    pool: AsyncConnectionPool[Any],
    pair_of_daemons: Pair,
) -> None:
    a, b = pair_of_daemons(SECONDS, HELD)  # b waits for the row's lock up to its lease time
    old = await taken(a)
    async with pool.connection() as connection:
        async with connection.transaction():
            await old.fence(connection)
            batch = asyncio.create_task(connection.execute("SELECT pg_sleep(%s)", (SECONDS * 2,)))
            await asyncio.sleep(SECONDS * 1.2)  # the lease runs out while the batch works
            taking = asyncio.create_task(b.try_take())
            await asyncio.sleep(0.15)
            assert not taking.done(), "taken while the old holder's batch was under way"
            await batch
        new = await taking
        assert new is not None
        assert new.epoch == old.epoch + 1
        old.extend(time.monotonic())
        with pytest.raises(LeaseLost):
            async with connection.transaction():
                await old.fence(connection)


async def test_a_holder_frozen_in_the_middle_of_a_batch_does_not_hold_the_next_one_back(
    pool: AsyncConnectionPool[Any],
    database_url: str,
    two_daemons: tuple[Lease, Lease],
) -> None:
    a, b = two_daemons
    frozen = await taken(a)
    connection = await psycopg.AsyncConnection.connect(database_url)
    try:
        await frozen.fence(connection)  # a batch begun, then the process stopped
        began = time.monotonic()
        while await b.try_take() is None:
            assert time.monotonic() - began < SECONDS * 4, "the frozen batch held the lease"
            await asyncio.sleep(0.05)
        with pytest.raises(psycopg.Error):
            await connection.execute("SELECT 1")  # the server ended the frozen session
        assert connection.closed
    finally:
        await connection.close()


async def test_two_daemons_take_turns_and_a_stopping_holder_hands_over_at_once(
    pool: AsyncConnectionPool[Any],
    pair_of_daemons: Pair,
) -> None:
    leases = pair_of_daemons(HELD, HELD)
    stops = {lease.holder: asyncio.Event() for lease in leases}
    turns: list[tuple[str, float, float]] = []
    working: dict[str, float] = {}
    started = asyncio.Event()

    def work_of(holder: str) -> Callable[[Tenure], Coroutine[Any, Any, None]]:
        async def work(tenure: Tenure) -> None:
            working[holder] = time.monotonic()
            started.set()
            await tenure.stopped.wait()
            turns.append((holder, working.pop(holder), time.monotonic()))

        return work

    daemons = [asyncio.create_task(x.hold(stops[x.holder], work_of(x.holder))) for x in leases]
    try:
        await asyncio.wait_for(started.wait(), HELD)
        await asyncio.sleep(SECONDS)
        assert len(working) == 1, "both daemons worked at once"
        first = next(iter(working))
        stops[first].set()
        began = time.monotonic()
        while len(working) < 1 or first in working:
            assert time.monotonic() - began < HELD / 2, "the standby waited for the lease time"
            await asyncio.sleep(0.02)
    finally:
        for stop in stops.values():
            stop.set()
        await asyncio.gather(*daemons)
    assert [holder for holder, _, _ in turns] == [first, next(h for h in stops if h != first)]
    assert turns[0][2] <= turns[1][1], "the second turn began before the first ended"


async def test_a_holder_whose_process_died_is_replaced_at_once(
    pair_of_daemons: Pair,
) -> None:
    a, b = pair_of_daemons(HELD, HELD)
    dead = await taken(a)
    assert await b.try_take() is None
    await dead.session.close()  # as kill -9 closes it: the server ends the session
    began = time.monotonic()
    while (successor := await b.try_take()) is None:
        assert time.monotonic() - began < HELD / 2, "waited for the dead holder's time"
        await asyncio.sleep(0.02)
    assert successor.epoch == dead.epoch + 1
