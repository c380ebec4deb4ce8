"""The projector machinery with two small projections of its own: exactly once, gap-free,
rebuildable while readers keep reading."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from booking_core.codec import Event, EventCodec
from booking_core.store import ANY, ConsistencyToken, StreamAppend
from booking_core.store.postgres import PostgresEventStore, configure_connection
from projectors.base import Decoded, KeySpace, RedisCommand, TableNames
from projectors.checkpoints import read_sql_checkpoints
from projectors.parking import list_parks
from projectors.rebuild import rebuild
from projectors.runner import GroupRunner, RedisProjectionRunner, SqlProjectionRunner
from read_models.consistency import NotCaughtUp, wait_for_projections


class Happened(Event, frozen=True, tag="Happened"):
    what: str


codec = EventCodec([Happened])


class StreamCounts:
    """Counts events per stream, one upsert per stream per batch."""

    name: ClassVar[str] = "stream_counts"
    tables: ClassVar[tuple[str, ...]] = ("test_stream_counts",)

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        counts = Counter(record.stream_id for record, _ in batch)
        async with connection.cursor() as cursor:
            await cursor.executemany(
                psycopg.sql.SQL(
                    "INSERT INTO {t} AS t (stream_id, events) VALUES (%s, %s)"
                    " ON CONFLICT (stream_id) DO UPDATE SET events = t.events + excluded.events"
                ).format(t=tables["test_stream_counts"]),
                list(counts.items()),
            )


class StreamMarks:
    """Marks each event in a hash per stream: idempotent per (stream, version)."""

    name: ClassVar[str] = "stream_marks"

    def commands(self, keys: KeySpace, batch: Sequence[Decoded]) -> list[RedisCommand]:
        return [
            ("HSET", keys.key("stream", record.stream_id), record.version, event.what)  # type: ignore[attr-defined]
            for record, event in batch
        ]


@pytest.fixture
async def setup(
    pool: AsyncConnectionPool[Any], clean_store: PostgresEventStore
) -> PostgresEventStore:
    async with pool.connection() as connection:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS test_stream_counts"
            " (stream_id text PRIMARY KEY, events int NOT NULL)"
        )
        await connection.execute(
            "TRUNCATE test_stream_counts, projection_checkpoints, projection_parked_venues"
        )
    return clean_store


async def append(store: PostgresEventStore, stream: str, n: int = 1) -> ConsistencyToken:
    result = await store.append(
        [
            StreamAppend(
                stream, ANY, [codec.encode(Happened(what=f"{stream}#{i}")) for i in range(n)]
            )
        ]
    )
    return result.token


async def counts(
    pool: AsyncConnectionPool[Any], table: str = "test_stream_counts"
) -> dict[str, int]:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            psycopg.sql.SQL("SELECT stream_id, events FROM {}").format(
                psycopg.sql.Identifier(table)
            )
        )
        return {row[0]: row[1] for row in await cursor.fetchall()}


async def test_a_sql_projection_applies_each_event_once(
    setup: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    runner = SqlProjectionRunner(StreamCounts(), setup, codec, pool, batch_size=7)
    for n in range(5):
        await append(setup, f"table-{n}", n + 1)
    assert await runner.catch_up() == 15
    assert await runner.catch_up() == 0
    assert await counts(pool) == {f"table-{n}": n + 1 for n in range(5)}


class HorizonHeldOnce(PostgresEventStore):
    """A store whose first read of the log finds nothing, as a read does when a
    transaction of another database ends while it runs and holds its horizon back."""

    held = True

    async def read_all(self, *args: Any, **kwargs: Any) -> Any:
        if self.held:
            self.held = False
            return []
        return await super().read_all(*args, **kwargs)


async def test_catching_up_looks_again_when_a_read_was_held_back_for_a_moment(
    setup: PostgresEventStore, pool: AsyncConnectionPool[Any], database_url: str
) -> None:
    await append(setup, "table-1", 3)
    store = HorizonHeldOnce(pool, database_url)
    runner = SqlProjectionRunner(StreamCounts(), store, codec, pool)
    assert await runner.catch_up() == 3
    assert await counts(pool) == {"table-1": 3}


async def test_events_committed_out_of_order_reach_the_projection(
    setup: PostgresEventStore, pool: AsyncConnectionPool[Any], database_url: str
) -> None:
    runner = SqlProjectionRunner(StreamCounts(), setup, codec, pool)
    held = await psycopg.AsyncConnection.connect(database_url)
    configure_connection(held)
    await held.execute(
        "SELECT tb_append(ARRAY['held'], ARRAY[-1]::bigint[], ARRAY[1], ARRAY['Happened'],"
        " ARRAY[1]::smallint[], ARRAY['{\"what\":\"held\"}']::jsonb[], ARRAY['{}']::jsonb[])"
    )
    await append(setup, "later", 3)
    await runner.catch_up()
    assert await counts(pool) == {}, "nothing after an open transaction may be applied"
    await held.commit()
    await held.close()
    await runner.catch_up()
    assert await counts(pool) == {"held": 1, "later": 3}


async def test_a_rebuild_equals_the_live_model_and_readers_never_see_it_empty(
    setup: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    runner = SqlProjectionRunner(StreamCounts(), setup, codec, pool)
    for n in range(40):
        await append(setup, f"booking-{n % 9}", 25)
    await runner.catch_up()
    live = await counts(pool)
    seen_sizes: list[int] = []
    done = asyncio.Event()

    async def reader() -> None:
        while not done.is_set():
            seen_sizes.append(len(await counts(pool)))
            await asyncio.sleep(0)

    reading = asyncio.create_task(reader())
    token = await rebuild(
        store=setup,
        codec=codec,
        pool=pool,
        redis=redis,
        redis_prefix=redis_prefix,
        sql_projections=[StreamCounts()],
        batch_size=50,
    )
    done.set()
    await reading
    assert await counts(pool) == live
    assert seen_sizes, "the reader never ran during the rebuild"
    assert min(seen_sizes) == len(live), "a reader saw a half-built model"
    assert token == await setup.head()
    await append(setup, "booking-0", 1)
    assert await runner.catch_up() == 1, "the daemon goes on from the rebuilt checkpoint"
    assert (await counts(pool))["booking-0"] == live["booking-0"] + 1


async def test_a_redis_projection_is_rebuilt_after_redis_loses_it(
    setup: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    runner = RedisProjectionRunner(StreamMarks(), setup, codec, redis, redis_prefix)
    keys = KeySpace(redis_prefix, "stream_marks")
    await append(setup, "table-A", 3)
    await runner.catch_up()
    await runner.step()  # caught up: marks the model ready
    assert await redis.hgetall(keys.key("stream", "table-A")) == {
        b"1": b"table-A#0",
        b"2": b"table-A#1",
        b"3": b"table-A#2",
    }
    assert await redis.exists(keys.key("ready"))

    async for key in redis.scan_iter(match=redis_prefix + "*"):
        await redis.delete(key)  # Redis lost everything
    await append(setup, "table-B", 1)
    await runner.step()
    assert not await redis.exists(keys.key("ready")), "half-built: not ready"
    await runner.catch_up()
    await runner.step()
    assert await redis.exists(keys.key("ready"))
    assert await redis.hlen(keys.key("stream", "table-A")) == 3
    assert await redis.hlen(keys.key("stream", "table-B")) == 1


async def test_a_redis_rebuild_swaps_in_and_the_daemon_follows(
    setup: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    runner = RedisProjectionRunner(StreamMarks(), setup, codec, redis, redis_prefix)
    keys = KeySpace(redis_prefix, "stream_marks")
    await append(setup, "table-A", 2)
    await runner.catch_up()
    await redis.hset(keys.key("stream", "ghost"), "1", "not from any event")
    await rebuild(
        store=setup,
        codec=codec,
        pool=pool,
        redis=redis,
        redis_prefix=redis_prefix,
        redis_projections=[StreamMarks()],
    )
    assert not await redis.exists(keys.key("stream", "ghost"))
    assert await redis.hlen(keys.key("stream", "table-A")) == 2
    assert await redis.exists(keys.key("ready"))
    assert not [k async for k in redis.scan_iter(match=redis_prefix + "rebuild:*")]
    await append(setup, "table-A", 1)
    await runner.catch_up()
    assert await redis.hlen(keys.key("stream", "table-A")) == 3


async def test_waiting_for_a_token_returns_once_projections_include_it(
    setup: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    sql_runner = SqlProjectionRunner(StreamCounts(), setup, codec, pool)
    redis_runner = RedisProjectionRunner(StreamMarks(), setup, codec, redis, redis_prefix)
    token = await append(setup, "booking-1")
    options: dict[str, Any] = {
        "pool": pool,
        "redis": redis,
        "redis_prefix": redis_prefix,
        "sql": ["stream_counts"],
        "redis_names": ["stream_marks"],
    }
    with pytest.raises(NotCaughtUp):
        await wait_for_projections(token, timeout=0.1, **options)

    async def later() -> None:
        await asyncio.sleep(0.05)
        await sql_runner.catch_up()
        await redis_runner.catch_up()

    catching_up = asyncio.create_task(later())
    await wait_for_projections(token, timeout=5, **options)
    await catching_up


# --- the daemon's group: one reader for several projections ----------------------------


class OtherCounts(StreamCounts):
    """The same counts under another name, in a table of its own."""

    name: ClassVar[str] = "other_counts"
    tables: ClassVar[tuple[str, ...]] = ("test_other_counts",)

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        own = TableNames({"test_stream_counts": tables.physical("test_other_counts")})
        await super().apply(connection, own, batch)


class Stuck(OtherCounts):
    """Fails on every batch that holds an event about `poison`: its own code's failure."""

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        if any("poison" in event.what for _, event in batch):  # type: ignore[attr-defined]
            raise RuntimeError("cannot project poison")
        await super().apply(connection, tables, batch)


@pytest.fixture
async def other_table(pool: AsyncConnectionPool[Any], setup: PostgresEventStore) -> None:
    async with pool.connection() as connection:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS test_other_counts"
            " (stream_id text PRIMARY KEY, events int NOT NULL)"
        )
        await connection.execute("TRUNCATE test_other_counts")


async def test_a_group_gives_each_member_exactly_what_it_lacks(
    setup: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    other_table: None,
) -> None:
    ahead = SqlProjectionRunner(StreamCounts(), setup, codec, pool)
    await append(setup, "table-A", 5)
    await ahead.catch_up()  # at the fifth event; the others have nothing yet
    await append(setup, "table-A", 3)
    await append(setup, "table-B", 2)
    marks = RedisProjectionRunner(StreamMarks(), setup, codec, redis, redis_prefix)
    behind = SqlProjectionRunner(OtherCounts(), setup, codec, pool)
    group = GroupRunner([ahead, behind, marks], setup, codec, batch_size=4)

    assert await group.catch_up() == 10  # read from the origin, for the two behind
    assert await group.step() == 0
    # StreamCounts adds on every apply: anything applied twice would show here.
    assert await counts(pool) == {"table-A": 8, "table-B": 2}
    assert await counts(pool, "test_other_counts") == {"table-A": 8, "table-B": 2}
    keys = KeySpace(redis_prefix, "stream_marks")
    assert await redis.hlen(keys.key("stream", "table-A")) == 8
    assert await redis.get(keys.key("ready")) == b"1"
    async with pool.connection() as connection:
        checkpoints = await read_sql_checkpoints(connection)
    assert checkpoints["stream_counts"] == checkpoints["other_counts"]


async def test_a_member_that_fails_on_an_event_parks_its_venue_and_the_rest_goes_on(
    setup: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    other_table: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await append(setup, "ven_a/table-A", 2)
    poison = await append(setup, "ven_a/poison", 1)
    await append(setup, "ven_a/table-A", 3)
    await append(setup, "table-B", 2)
    healthy = SqlProjectionRunner(StreamCounts(), setup, codec, pool)
    stuck = SqlProjectionRunner(Stuck(), setup, codec, pool, poll_interval=0.05)
    marks = RedisProjectionRunner(StreamMarks(), setup, codec, redis, redis_prefix)
    group = GroupRunner([healthy, stuck, marks], setup, codec, batch_size=2)
    assert await group.catch_up() == 8
    assert await counts(pool) == {"ven_a/table-A": 5, "ven_a/poison": 1, "table-B": 2}
    keys = KeySpace(redis_prefix, "stream_marks")
    assert await redis.hlen(keys.key("stream", "ven_a/table-A")) == 5
    assert [m.name for m in group.sql] == ["stream_counts", "other_counts"]  # none set apart
    # up to the poison in its venue; the default venue's events all applied
    assert await counts(pool, "test_other_counts") == {"ven_a/table-A": 2, "table-B": 2}
    async with pool.connection() as connection:
        (parked,) = await list_parks(connection)
        checkpoints = await read_sql_checkpoints(connection)
    assert (parked.projection, parked.venue_id, parked.token) == ("other_counts", "ven_a", poison)
    assert (parked.error_class, parked.error_message) == ("RuntimeError", "cannot project poison")
    assert checkpoints["other_counts"] == checkpoints["stream_counts"]  # it moved on
    assert logged(caplog, "venue parked") == ["other_counts"]


async def test_a_rebuild_once_the_cause_is_gone_unparks_the_venue(
    setup: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    other_table: None,
) -> None:
    await append(setup, "ven_a/poison", 1)
    await append(setup, "ven_a/table-A", 3)
    await append(setup, "table-B", 2)
    stuck = SqlProjectionRunner(Stuck(), setup, codec, pool)
    assert await stuck.catch_up() == 6
    assert await counts(pool, "test_other_counts") == {"table-B": 2}
    await rebuild(
        store=setup,
        codec=codec,
        pool=pool,
        redis=redis,
        redis_prefix=redis_prefix,
        sql_projections=[OtherCounts()],
    )
    expected = {"ven_a/poison": 1, "ven_a/table-A": 3, "table-B": 2}
    assert await counts(pool, "test_other_counts") == expected
    async with pool.connection() as connection:
        assert await list_parks(connection) == []
    fixed = SqlProjectionRunner(OtherCounts(), setup, codec, pool)
    await append(setup, "ven_a/table-A", 1)
    assert await fixed.catch_up() == 1
    assert await counts(pool, "test_other_counts") == expected | {"ven_a/table-A": 4}


def logged(caplog: pytest.LogCaptureFixture, message: str) -> list[str]:
    """The projections named by the log lines that say `message`, in name order."""
    return sorted(
        str(getattr(r, "projection", "")) for r in caplog.records if r.getMessage() == message
    )


async def test_a_member_far_behind_catches_up_on_its_own_and_rejoins(
    setup: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    other_table: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="tablebook.projectors")
    ahead = SqlProjectionRunner(StreamCounts(), setup, codec, pool)
    await append(setup, "table-A", 30)
    await ahead.catch_up()
    lost = RedisProjectionRunner(StreamMarks(), setup, codec, redis, redis_prefix, batch_size=3)
    new = SqlProjectionRunner(OtherCounts(), setup, codec, pool, batch_size=3)
    group = GroupRunner([ahead, new, lost], setup, codec, batch_size=3)
    stop = asyncio.Event()
    running = asyncio.create_task(group.run(stop))
    try:
        for n in range(5):  # the one ahead keeps up while the others replay the past
            await append(setup, f"later-{n}", 1)
        for _ in range(300):
            if len(logged(caplog, "caught up; back in the group")) == 2:
                break
            await asyncio.sleep(0.02)
        assert logged(caplog, "far behind; catching up on its own") == [
            "other_counts",
            "stream_marks",
        ]
        assert logged(caplog, "caught up; back in the group") == [
            "other_counts",
            "stream_marks",
        ]
        expected = {"table-A": 30} | {f"later-{n}": 1 for n in range(5)}
        for _ in range(300):
            if await counts(pool, "test_other_counts") == expected == await counts(pool):
                break
            await asyncio.sleep(0.02)
        assert await counts(pool) == expected == await counts(pool, "test_other_counts")
        keys = KeySpace(redis_prefix, "stream_marks")
        assert await redis.hlen(keys.key("stream", "table-A")) == 30
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)


async def test_without_redis_the_sql_members_go_on(
    setup: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    nowhere = Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    try:
        marks = RedisProjectionRunner(StreamMarks(), setup, codec, nowhere, redis_prefix)
        sql = SqlProjectionRunner(StreamCounts(), setup, codec, pool)
        group = GroupRunner([sql, marks], setup, codec)
        await append(setup, "table-A", 4)
        assert await group.catch_up() == 4
        assert await counts(pool) == {"table-A": 4}
        retries = [r for r in caplog.records if r.getMessage() == "server unavailable; retrying"]
        assert [getattr(r, "server", None) for r in retries] == ["Redis"]
    finally:
        await nowhere.aclose()
