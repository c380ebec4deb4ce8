"""Rebuilding one venue's part of the read models while the daemon serves every venue:
the venue's rows and keys come out as a whole rebuild makes them, whatever lands in the
log meanwhile, and no other venue's row or key is written."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import time
from pathlib import Path
from typing import Any

import msgspec
import pytest
from psycopg import sql
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.domain.streams import DEFAULT_VENUE_ID, local_name, streams_of
from booking_core.store import ORIGIN, StreamAppend
from booking_core.store.postgres import PostgresEventStore
from projectors.checkpoints import read_redis_checkpoint, read_sql_checkpoints
from projectors.rebuild import rebuild
from projectors.runner import (
    RedisProjectionRunner,
    SqlProjectionRunner,
    grouped,
    run_until_stopped,
)
from projectors.venue_rebuild import VenueRebuildFailed, rebuild_venue
from read_models.availability import clear_cache, tables_at
from read_models.availability_keys import venue_part
from read_models.model_keys import model_root, ready_key, redis_checkpoint_key
from tests.support.catch_up import last_token
from tests.support.models import SQL_TABLES, clear_read_models, dump_redis, dump_sql
from tests.support.story import Story, tell_guest_profiles

OTHER_VENUE = "west-end"
NOW = Story().now
TABLEBOOK = [sys.executable, "-m", "tablebook.cli"]


@pytest.fixture
async def store(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> PostgresEventStore:
    await clear_read_models(pool, redis, redis_prefix)
    clear_cache()
    return clean_store


def in_venue(writes: Sequence[StreamAppend], venue_id: str) -> list[StreamAppend]:
    """A story's writes, moved to the venue's streams."""
    prefix = streams_of(venue_id).venue.removesuffix("venue")
    return [msgspec.structs.replace(w, stream_id=prefix + local_name(w.stream_id)) for w in writes]


class Venue:
    """One venue's story, told into the store."""

    def __init__(self, venue_id: str, story: Story) -> None:
        self.venue_id = venue_id
        self.story = story

    async def open(self, store: PostgresEventStore, steps: int) -> None:
        for writes in [*self.story.opening(), *self.story.waitlist_evening()]:
            await store.append(in_venue(writes, self.venue_id))
        await self.tell(store, steps)
        await tell_guest_profiles(
            store, self.story, self.venue_id, lambda writes: in_venue(writes, self.venue_id)
        )

    async def tell(self, store: PostgresEventStore, steps: int) -> int:
        told = 0
        for _ in range(steps):
            step = self.story.random_step()
            if step:
                await store.append(in_venue(step, self.venue_id))
                told += 1
        return told


def two_venues(first: str, second: str) -> tuple[Venue, Venue]:
    # Booking and block ids come from the story's counter: far apart, they never meet.
    return Venue(first, Story(seed=21)), Venue(second, Story(seed=22, counter=50_000))


@contextlib.asynccontextmanager
async def daemon(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    prefix: str,
    batch_size: int = 1000,
) -> AsyncIterator[None]:
    """The projector daemon as `tablebook projectors run` runs it (notifications aside);
    a small `batch_size` keeps it a little behind the log."""
    runners: list[SqlProjectionRunner | RedisProjectionRunner] = [
        SqlProjectionRunner(p, store, registry.codec, pool) for p in registry.SQL_PROJECTIONS
    ]
    runners += [
        RedisProjectionRunner(p, store, registry.codec, redis, prefix)
        for p in registry.REDIS_PROJECTIONS
    ]
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_until_stopped(
            grouped(runners, store, registry.codec, poll_interval=0.05, batch_size=batch_size),
            stop,
        )
    )
    try:
        yield
    finally:
        stop.set()
        await task


async def caught_up(pool: AsyncConnectionPool[Any], redis: Redis, prefix: str) -> None:
    """Wait until every read model has reached the newest event, and the Redis ones say
    they are ready (a model built from nothing says so once it has caught up)."""
    target = await last_token(pool)
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        async with pool.connection() as connection:
            sql_at = await read_sql_checkpoints(connection)
        at = [sql_at.get(p.name, ORIGIN) for p in registry.SQL_PROJECTIONS]
        for projection in registry.REDIS_PROJECTIONS:
            key = redis_checkpoint_key(prefix, projection.name)
            at.append(await read_redis_checkpoint(redis, key) or ORIGIN)
        ready = [
            await redis.exists(ready_key(model_root(prefix, p.name)))
            for p in registry.REDIS_PROJECTIONS
        ]
        if min(at) >= target and all(ready):
            return
        assert asyncio.get_running_loop().time() < deadline, "the daemon never caught up"
        await asyncio.sleep(0.05)


def owns(root: str, venue_id: str, key: str) -> bool:
    """Whether a model's key (under `root`) is the venue's."""
    rest = key.removeprefix(root)
    if venue_id != DEFAULT_VENUE_ID:
        return rest.startswith(venue_part(venue_id))
    return "/" not in rest and rest not in ("checkpoint", "ready")


async def venue_rows(pool: AsyncConnectionPool[Any], venue_id: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    async with pool.connection() as connection:
        for table in SQL_TABLES:
            cursor = await connection.execute(
                sql.SQL("SELECT * FROM {} WHERE venue_id = %s").format(sql.Identifier(table)),
                (venue_id,),
            )
            found[table] = sorted((tuple(r) for r in await cursor.fetchall()), key=repr)
    return found


async def venue_keys(redis: Redis, prefix: str, venue_id: str) -> dict[str, Any]:
    dumped = await dump_redis(redis, prefix)
    roots = [model_root(prefix, p.name) for p in registry.REDIS_PROJECTIONS]
    return {
        key: value
        for key, value in dumped.items()
        if any(key.startswith(root) and owns(root, venue_id, key) for root in roots)
    }


async def damage(
    pool: AsyncConnectionPool[Any], redis: Redis, prefix: str, venue_id: str
) -> list[str]:
    """Spoil some of the venue's rows and keys, and plant some that no event made; return
    the planted keys."""
    async with pool.connection() as connection:
        await connection.execute(
            "UPDATE rm_daily_stats SET bookings = bookings + 1000, covers = covers - 3"
            " WHERE venue_id = %s",
            (venue_id,),
        )
        await connection.execute(
            "DELETE FROM rm_bookings WHERE id IN"
            " (SELECT id FROM rm_bookings WHERE venue_id = %s ORDER BY id LIMIT 5)",
            (venue_id,),
        )
        await connection.execute(
            "UPDATE rm_bookings SET party_size = 99 WHERE id IN"
            " (SELECT id FROM rm_bookings WHERE venue_id = %s ORDER BY id DESC LIMIT 5)",
            (venue_id,),
        )
        await connection.execute("DELETE FROM rm_tables WHERE venue_id = %s", (venue_id,))
        await connection.execute(
            "UPDATE rm_daily_breakdown SET bookings = bookings + 7 WHERE venue_id = %s",
            (venue_id,),
        )
        await connection.execute(
            "UPDATE rm_guests SET tags = '{spoilt}', name = 'Nobody' WHERE venue_id = %s",
            (venue_id,),
        )
        await connection.execute(
            "DELETE FROM rm_guest_bookings WHERE venue_id = %s AND status = 'completed'",
            (venue_id,),
        )
    part = venue_part(venue_id)
    availability = model_root(prefix, "availability") + part
    live_status = model_root(prefix, "live_status") + part
    planted = [availability + "day:1999-01-01", live_status + "date:1999-01-01"]
    await redis.hset(planted[0], "T1|b|nobody", "0,1")
    await redis.xadd(planted[1], {"table_id": "T1"}, id="1-1")
    await redis.hset(availability + "tables", "T1", "{}")
    async for key in redis.scan_iter(match=availability + "day:*"):
        if key.decode() != planted[0]:
            await redis.delete(key)
            break
    async for key in redis.scan_iter(match=live_status + "date:*"):
        if key.decode() != planted[1]:
            first: Any = await redis.xrange(key, count=1)
            await redis.xdel(key, first[0][0])
            break
    return planted


async def whole_rebuild(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, prefix: str
) -> None:
    await rebuild(
        store=store,
        codec=registry.codec,
        pool=pool,
        redis=redis,
        redis_prefix=prefix,
        sql_projections=registry.SQL_PROJECTIONS,
        redis_projections=registry.REDIS_PROJECTIONS,
    )


def availability_version(prefix: str, venue_id: str) -> str:
    return model_root(prefix, "availability") + venue_part(venue_id) + "version"


@pytest.mark.parametrize("rebuilt", [DEFAULT_VENUE_ID, OTHER_VENUE])
async def test_one_venue_is_rebuilt_while_both_venues_take_bookings(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    rebuilt: str,
) -> None:
    other = OTHER_VENUE if rebuilt == DEFAULT_VENUE_ID else DEFAULT_VENUE_ID
    first, second = two_venues(rebuilt, other)
    await first.open(store, 150)
    await second.open(store, 150)
    async with daemon(store, pool, redis, redis_prefix, batch_size=3):
        await caught_up(pool, redis, redis_prefix)
        await damage(pool, redis, redis_prefix, rebuilt)
        planted = await damage(pool, redis, redis_prefix, other)

        # Quiet: the other venue's rows and keys are exactly as they were.
        rows_before = await venue_rows(pool, other)
        keys_before = await venue_keys(redis, redis_prefix, other)
        quiet = await rebuild_venue(
            venue_id=rebuilt,
            codec=registry.codec,
            pool=pool,
            redis=redis,
            redis_prefix=redis_prefix,
            sql_projections=registry.SQL_PROJECTIONS,
            redis_projections=registry.REDIS_PROJECTIONS,
        )
        assert await venue_rows(pool, other) == rows_before
        assert await venue_keys(redis, redis_prefix, other) == keys_before

        # Busy: both venues take bookings before, during and after the rebuild.
        await damage(pool, redis, redis_prefix, rebuilt)
        rebuilding = asyncio.Event()
        finished = asyncio.Event()
        told_during = 0

        async def trade() -> None:
            nonlocal told_during
            after = 0
            while after < 10:
                told = await first.tell(store, 3) + await second.tell(store, 3)
                if finished.is_set():
                    after += 1
                elif rebuilding.is_set():
                    told_during += told
                await asyncio.sleep(0.005)

        trading = asyncio.create_task(trade())
        await asyncio.sleep(0.1)
        rebuilding.set()
        busy = await rebuild_venue(
            venue_id=rebuilt,
            codec=registry.codec,
            pool=pool,
            redis=redis,
            redis_prefix=redis_prefix,
            sql_projections=registry.SQL_PROJECTIONS,
            redis_projections=registry.REDIS_PROJECTIONS,
            batch_size=13,
        )
        finished.set()
        await trading
        await caught_up(pool, redis, redis_prefix)
    assert told_during > 0, "events landed while the rebuild ran"
    assert min(busy.values()) > max(quiet.values())
    assert await last_token(pool) > max(busy.values()), "events landed after the swaps"

    # The other venue's planted rows and keys are still there: never written.
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT count(*) FROM rm_daily_stats WHERE venue_id = %s AND bookings >= 1000",
            (other,),
        )
        spoilt = await cursor.fetchone()
        assert spoilt == (len(rows_before["rm_daily_stats"]),)
        cursor = await connection.execute(
            "SELECT count(*) FROM rm_tables WHERE venue_id = %s", (other,)
        )
        assert await cursor.fetchone() == (0,)
    for key in planted:
        assert await redis.exists(key)

    # With the other venue rebuilt too, every model is what a whole rebuild makes of it.
    last = await rebuild_venue(
        venue_id=other,
        codec=registry.codec,
        pool=pool,
        redis=redis,
        redis_prefix=redis_prefix,
        sql_projections=registry.SQL_PROJECTIONS,
        redis_projections=registry.REDIS_PROJECTIONS,
    )
    live_sql, live_redis = await dump_sql(pool), await dump_redis(redis, redis_prefix)
    await whole_rebuild(store, pool, redis, redis_prefix)
    whole_sql, whole_redis = await dump_sql(pool), await dump_redis(redis, redis_prefix)
    # A venue's availability `version` is the last write's token, or, set by a venue
    # rebuild, the token the rebuild stood at with a mark no write used before (see the
    # next test); a whole rebuild writes the last event's.
    swapped_at = {rebuilt: busy["availability"], other: last["availability"]}
    for venue_id, token in swapped_at.items():
        key = availability_version(redis_prefix, venue_id)
        version, written = live_redis.pop(key).decode(), whole_redis.pop(key).decode()
        if version != written:
            assert version.startswith(f"{token}+r"), (version, written)
    assert live_sql == whole_sql
    assert live_redis == whole_redis


async def test_a_reader_forgets_what_it_read_from_damaged_keys(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    first, second = two_venues(OTHER_VENUE, DEFAULT_VENUE_ID)
    await first.open(store, 40)
    await second.open(store, 40)
    async with daemon(store, pool, redis, redis_prefix):
        await caught_up(pool, redis, redis_prefix)
        day, at = first.story.start, time(18, 0)

        async def floor() -> Any:
            return await tables_at(
                redis, redis_prefix, venue_id=OTHER_VENUE, day=day, at=at, now=NOW
            )

        healthy = await floor()
        tables = model_root(redis_prefix, "availability") + venue_part(OTHER_VENUE) + "tables"
        await redis.delete(tables)  # without moving the venue's version
        clear_cache()
        damaged = await floor()  # cached under the version it was read with
        assert damaged != healthy
        await rebuild_venue(
            venue_id=OTHER_VENUE,
            codec=registry.codec,
            pool=pool,
            redis=redis,
            redis_prefix=redis_prefix,
            redis_projections=registry.REDIS_PROJECTIONS,
        )
        assert await floor() == healthy


async def test_a_model_the_daemon_has_not_built_is_not_rebuilt_for_a_venue(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    first, _ = two_venues(OTHER_VENUE, DEFAULT_VENUE_ID)
    await first.open(store, 5)
    with pytest.raises(VenueRebuildFailed, match="no checkpoint"):
        await rebuild_venue(
            venue_id=OTHER_VENUE,
            codec=registry.codec,
            pool=pool,
            redis=redis,
            redis_prefix=redis_prefix,
            redis_projections=registry.REDIS_PROJECTIONS,
        )
    assert not [k async for k in redis.scan_iter(match=redis_prefix + "*")]


async def test_the_command_rebuilds_one_venue_and_refuses_what_it_cannot(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    database_url: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    first, second = two_venues(OTHER_VENUE, DEFAULT_VENUE_ID)
    await first.open(store, 30)
    await second.open(store, 30)
    async with daemon(store, pool, redis, redis_prefix):
        await caught_up(pool, redis, redis_prefix)
    await damage(pool, redis, redis_prefix, OTHER_VENUE)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix,
    }

    def tablebook(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*TABLEBOOK, *argv], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )

    other_rows = await venue_rows(pool, DEFAULT_VENUE_ID)
    done = tablebook("projectors", "rebuild", "--all", "--venue", OTHER_VENUE)
    assert done.returncode == 0, done.stderr
    assert "rebuilt" in done.stderr
    assert await venue_rows(pool, DEFAULT_VENUE_ID) == other_rows
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT count(*) FROM rm_tables WHERE venue_id = %s", (OTHER_VENUE,)
        )
        assert await cursor.fetchone() == (6,)

    unknown = tablebook("projectors", "rebuild", "stats", "--venue", "nowhere")
    assert unknown.returncode == 2
    assert "unknown venue 'nowhere'" in unknown.stderr
    refused = tablebook("projectors", "rebuild", "notifications", "--venue", OTHER_VENUE)
    assert refused.returncode == 2
    assert "would send them again" in refused.stderr


async def test_a_checkpoint_that_keeps_moving_leaves_the_live_model_as_it_was(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    first, second = two_venues(OTHER_VENUE, DEFAULT_VENUE_ID)
    await first.open(store, 60)
    await second.open(store, 60)
    async with daemon(store, pool, redis, redis_prefix):
        await caught_up(pool, redis, redis_prefix)
        planted = await damage(pool, redis, redis_prefix, OTHER_VENUE)
        finished = asyncio.Event()

        async def trade() -> None:  # at the other venue: the checkpoint moves all the same
            while not finished.is_set():
                await second.tell(store, 1)
                await asyncio.sleep(0.002)

        trading = asyncio.create_task(trade())
        try:
            with pytest.raises(VenueRebuildFailed, match="moved on 1 times"):
                await rebuild_venue(
                    venue_id=OTHER_VENUE,
                    codec=registry.codec,
                    pool=pool,
                    redis=redis,
                    redis_prefix=redis_prefix,
                    redis_projections=registry.REDIS_PROJECTIONS,
                    batch_size=1,
                    attempts=1,
                )
        finally:
            finished.set()
            await trading
        for key in planted:
            assert await redis.exists(key), "nothing was swapped"
        assert not [k async for k in redis.scan_iter(match=redis_prefix + "venue-rebuild:*")]

        await caught_up(pool, redis, redis_prefix)
        await rebuild_venue(
            venue_id=OTHER_VENUE,
            codec=registry.codec,
            pool=pool,
            redis=redis,
            redis_prefix=redis_prefix,
            redis_projections=registry.REDIS_PROJECTIONS,
        )
        for key in planted:
            assert not await redis.exists(key)
        assert not [k async for k in redis.scan_iter(match=redis_prefix + "venue-rebuild:*")]


@pytest.fixture
async def listed_venues(database_url: str) -> AsyncIterator[AsyncConnectionPool[Any]]:
    """A pool that sees a venue list, `rm_venues`, in a schema of its own."""
    async with AsyncConnectionPool(
        database_url,
        min_size=1,
        max_size=2,
        kwargs={"autocommit": True, "options": "-c search_path=venue_list,public"},
        open=False,
    ) as listed:
        async with listed.connection() as connection:
            await connection.execute("DROP SCHEMA IF EXISTS venue_list CASCADE")
            await connection.execute("CREATE SCHEMA venue_list")
            await connection.execute(
                "CREATE TABLE venue_list.rm_venues (LIKE public.rm_venues INCLUDING ALL)"
            )
            await connection.execute(
                "INSERT INTO venue_list.rm_venues"
                " (id, slug, name, time_zone, version, created_at, updated_at)"
                " VALUES (%s, 'the-west', 'The West', 'UTC', 1, now(), now()),"
                " ('corner', %s, 'Corner', 'UTC', 1, now(), now())",
                (OTHER_VENUE, OTHER_VENUE + "-slug"),
            )
        try:
            yield listed
        finally:
            async with listed.connection() as connection:
                await connection.execute("DROP SCHEMA venue_list CASCADE")


async def test_a_venue_is_named_by_id_or_slug(
    store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    listed_venues: AsyncConnectionPool[Any],
) -> None:
    from tablebook.venue_lookup import resolve_venue

    first, second = two_venues(OTHER_VENUE, DEFAULT_VENUE_ID)
    await first.open(store, 1)
    await second.open(store, 1)

    assert await resolve_venue(listed_venues, "the-west") == OTHER_VENUE
    assert await resolve_venue(listed_venues, OTHER_VENUE) == OTHER_VENUE
    assert await resolve_venue(listed_venues, "corner") == "corner"
    # Not listed, but the log has its streams.
    assert await resolve_venue(listed_venues, DEFAULT_VENUE_ID) == DEFAULT_VENUE_ID
    with pytest.raises(ValueError, match="unknown venue 'nowhere'"):
        await resolve_venue(listed_venues, "nowhere")

    # Without a venue list, only an id with streams in the log.
    assert await resolve_venue(pool, OTHER_VENUE) == OTHER_VENUE
    assert await resolve_venue(pool, DEFAULT_VENUE_ID) == DEFAULT_VENUE_ID
    for unknown in ("the-west", "corner", "a/b"):
        with pytest.raises(ValueError, match="unknown venue"):
            await resolve_venue(pool, unknown)
