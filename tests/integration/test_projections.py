"""The real projections over a restaurant's fortnight: each read model says what the
events say, and a rebuild from scratch gives the same models row for row, key for key."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.store.postgres import PostgresEventStore
from projectors.rebuild import rebuild
from projectors.runner import ProjectionRunner, RedisProjectionRunner, SqlProjectionRunner
from read_models.availability import ModelNotReady, slots_for, tables_at
from read_models.live_status_keys import stream_key
from tests.support.models import clear_read_models, dump_redis, dump_sql
from tests.support.scope import TEST_VENUE
from tests.support.story import TABLES, Story, tell_guest_profiles

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
async def store(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> PostgresEventStore:
    await clear_read_models(pool, redis, redis_prefix)
    return clean_store


def runners(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, prefix: str
) -> list[ProjectionRunner]:
    found: list[ProjectionRunner] = [
        SqlProjectionRunner(p, store, registry.codec, pool) for p in registry.SQL_PROJECTIONS
    ]
    found += [
        RedisProjectionRunner(p, store, registry.codec, redis, prefix)
        for p in registry.REDIS_PROJECTIONS
    ]
    return found


async def tell(store: PostgresEventStore, story: Story, steps: int) -> None:
    for writes in story.opening():
        await store.append(writes)
    for _ in range(steps):
        step = story.random_step()
        if step:
            await store.append(step)


async def catch_up(all_runners: list[ProjectionRunner]) -> None:
    for runner in all_runners:
        await runner.catch_up()
        await runner.step()  # caught up: Redis models are marked ready


async def test_every_read_model_says_what_the_events_say(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    story = Story()
    await tell(store, story, 400)
    await catch_up(runners(store, pool, redis, redis_prefix))

    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT id, status, table_ids, party_size FROM rm_bookings"
        )
        rows = {r[0]: (r[1], r[2], r[3]) for r in await cursor.fetchall()}
    assert rows == {
        booking_id: (held.status, [held.table_id], held.party_size)
        for booking_id, held in story.bookings.items()
    }

    expected: dict[Any, Counter[str]] = {}
    for held in story.bookings.values():
        totals = expected.setdefault(held.service_date, Counter())
        if held.status == "cancelled":
            totals["cancellations"] += 1
            continue
        totals["bookings"] += 1
        if held.status == "no_show":
            totals["no_shows"] += 1
        else:
            totals["covers"] += held.party_size
            totals["booked_seat_minutes"] += held.party_size * 120
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT service_date, bookings, covers, cancellations, no_shows,"
            " booked_seat_minutes, open_seat_minutes FROM rm_daily_stats"
        )
        stats = {r[0]: r[1:] for r in await cursor.fetchall()}
    seats = sum(capacity for _, capacity, _, _ in TABLES.values())
    for day, counts in expected.items():
        assert stats[day][:5] == (
            counts["bookings"],
            counts["covers"],
            counts["cancellations"],
            counts["no_shows"],
            counts["booked_seat_minutes"],
        ), day
        open_minutes = 0 if day in story.closed else 9 * 60 * seats  # shifts of 4 and 5 hours
        assert stats[day][5] == open_minutes, day

    confirmed = next((b, h) for b, h in sorted(story.bookings.items()) if h.status == "confirmed")
    held = confirmed[1]
    answer = await tables_at(
        redis,
        redis_prefix,
        venue_id=TEST_VENUE,
        day=held.service_date,
        at=held.sitting,
        party_size=2,
        now=NOW,
    )
    statuses = {t.table_id: t.status for t in answer.tables}
    assert statuses[held.table_id] == "booked"
    for table_id, day, sitting in story.free:
        if (day, sitting) == (held.service_date, held.sitting):
            assert statuses[table_id] == "available", table_id
    assert answer.end_time == time(held.sitting.hour + 2, 0)

    slots = await slots_for(
        redis, redis_prefix, venue_id=TEST_VENUE, day=held.service_date, party_size=2, now=NOW
    )
    by_time = {s.time: s.tables_available for s in slots}
    two_seaters = {"T1", "T2", "T3", "T4"}  # min capacity <= 2 <= capacity
    free_at_sitting = sum(
        1
        for table_id, day, sitting in story.free
        if table_id in two_seaters and (day, sitting) == (held.service_date, held.sitting)
    )
    assert by_time[held.sitting] == free_at_sitting
    assert time(12, 0) in by_time
    assert time(14, 15) not in by_time, "a two-hour turn at 14:15 runs past the 16:00 close"

    entries = await redis.xrange(stream_key(redis_prefix, TEST_VENUE, held.service_date))
    assert entries, "table status changes reach the live stream"
    ids = [_entry_id(entry_id) for entry_id, _ in entries]
    assert ids == sorted(ids)


async def test_a_rebuild_from_scratch_equals_the_live_models(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    story = Story(seed=11)
    await tell(store, story, 300)
    for writes in story.waitlist_evening():
        await store.append(writes)
    await tell_guest_profiles(store, story, TEST_VENUE)
    all_runners = runners(store, pool, redis, redis_prefix)
    await catch_up(all_runners)
    live_sql, live_redis = await dump_sql(pool), await dump_redis(redis, redis_prefix)

    await rebuild(
        store=store,
        codec=registry.codec,
        pool=pool,
        redis=redis,
        redis_prefix=redis_prefix,
        sql_projections=registry.SQL_PROJECTIONS,
        redis_projections=registry.REDIS_PROJECTIONS,
        batch_size=97,
    )
    assert await dump_sql(pool) == live_sql
    assert await dump_redis(redis, redis_prefix) == live_redis


async def test_availability_reads_refuse_a_model_that_redis_lost(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    story = Story(seed=3)
    await tell(store, story, 30)
    await catch_up(runners(store, pool, redis, redis_prefix))
    day = story.start
    await tables_at(redis, redis_prefix, venue_id=TEST_VENUE, day=day, at=time(18, 0), now=NOW)
    async for key in redis.scan_iter(match=redis_prefix + "*"):
        await redis.delete(key)
    with pytest.raises(ModelNotReady):
        await tables_at(redis, redis_prefix, venue_id=TEST_VENUE, day=day, at=time(18, 0), now=NOW)
    with pytest.raises(ModelNotReady):
        await slots_for(redis, redis_prefix, venue_id=TEST_VENUE, day=day, party_size=2, now=NOW)
    await rebuild(
        store=store,
        codec=registry.codec,
        pool=pool,
        redis=redis,
        redis_prefix=redis_prefix,
        redis_projections=[p for p in registry.REDIS_PROJECTIONS if p.name == "availability"],
    )
    assert (
        await tables_at(redis, redis_prefix, venue_id=TEST_VENUE, day=day, at=time(18, 0), now=NOW)
    ).tables


def _entry_id(raw: object) -> tuple[int, ...]:
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return tuple(int(part) for part in text.split("-"))


async def test_the_waitlist_model_follows_each_party_to_its_table_or_away(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    story = Story(seed=5)
    for writes in [*story.opening(), *story.waitlist_evening()]:
        await store.append(writes)
    await catch_up(runners(store, pool, redis, redis_prefix))

    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT guest_name, status, times_notified, booking_id IS NOT NULL, waited_minutes,"
            " removed_reason, venue_id FROM rm_waitlist ORDER BY added_version"
        )
        rows = await cursor.fetchall()
    assert rows == [
        ("Ada, walk-in", "seated", 1, True, 14, None, TEST_VENUE),
        ("Grace, walk-in", "removed", 0, False, None, "went elsewhere", TEST_VENUE),
        ("Alan, walk-in", "waiting", 1, False, None, None, TEST_VENUE),
        ("Edsger, walk-in", "waiting", 0, False, None, None, TEST_VENUE),
    ]


async def test_table_combinations_reach_the_floor_and_availability(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    story = Story()
    await tell(store, story, 0)
    await catch_up(runners(store, pool, redis, redis_prefix))

    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT id, table_ids, min_capacity, capacity FROM rm_table_combinations"
            " WHERE venue_id = %s ORDER BY id",
            (TEST_VENUE,),
        )
        rows = await cursor.fetchall()
    assert rows == [("c-garden", ["T4", "T5"], 7, 10), ("c-windows", ["T1", "T2"], 3, 4)]

    day = (NOW + timedelta(days=3)).date()
    answer = await tables_at(
        redis, redis_prefix, venue_id=TEST_VENUE, day=day, at=time(19), party_size=8, now=NOW
    )
    assert [(c.combination_id, c.status, c.fits_party) for c in answer.combinations] == [
        ("c-windows", "available", False),
        ("c-garden", "available", True),
    ]
    slots = await slots_for(
        redis, redis_prefix, venue_id=TEST_VENUE, day=day, party_size=9, now=NOW
    )
    assert {s.time: s.tables_available for s in slots}[time(19)] == 1, "the garden pair"
