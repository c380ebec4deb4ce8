"""The availability reads keep parsed snapshots per model version (the checkpoint): no
change to the model may be answered from a snapshot of an earlier version, and a model
that is gone or being built is refused however much is cached."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.store.postgres import PostgresEventStore
from projectors.availability import AvailabilityProjection
from projectors.rebuild import rebuild
from projectors.runner import RedisProjectionRunner
from read_models import availability
from read_models.availability import ModelNotReady, TablesAt, slots_for, tables_at
from read_models.availability_keys import BOOKING, VERSION, interval_field, venue_part
from tests.support.models import clear_read_models
from tests.support.scope import TEST_VENUE
from tests.support.story import Story

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
async def store(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> PostgresEventStore:
    await clear_read_models(pool, redis, redis_prefix)
    availability.clear_cache()
    return clean_store


def runner(
    store: PostgresEventStore, redis: Redis, prefix: str, batch_size: int = 1000
) -> RedisProjectionRunner:
    return RedisProjectionRunner(
        AvailabilityProjection(), store, registry.codec, redis, prefix, batch_size=batch_size
    )


async def catch_up(projector: RedisProjectionRunner) -> None:
    await projector.catch_up()
    await projector.step()  # caught up: marked ready


async def opened(store: PostgresEventStore, story: Story) -> None:
    for writes in story.opening():
        await store.append(writes)


async def place(store: PostgresEventStore, story: Story) -> tuple[str, str, date, time]:
    """A new booking: its id, table, service date and sitting."""
    writes = story.place()
    assert writes is not None
    await store.append(writes)
    booking_id = max(story.bookings)
    held = story.bookings[booking_id]
    return booking_id, held.table_id, held.service_date, held.sitting


async def status(redis: Redis, prefix: str, table_id: str, day: date, at: time) -> str:
    found = await tables_at(redis, prefix, venue_id=TEST_VENUE, day=day, at=at, now=NOW)
    return {t.table_id: t.status for t in found.tables}[table_id]


async def read_twice(redis: Redis, prefix: str, day: date, at: time) -> TablesAt:
    """Read twice: the second answer comes from the cache, and must equal the first."""
    first = await tables_at(redis, prefix, venue_id=TEST_VENUE, day=day, at=at, now=NOW)
    assert await tables_at(redis, prefix, venue_id=TEST_VENUE, day=day, at=at, now=NOW) == first
    return first


async def test_a_new_booking_is_read_once_the_model_has_it(
    store: PostgresEventStore, redis: Redis, redis_prefix: str
) -> None:
    story = Story(seed=5)
    await opened(store, story)
    projector = runner(store, redis, redis_prefix)
    await catch_up(projector)
    _, table_id, day, sitting = await place(store, story)
    await read_twice(redis, redis_prefix, day, sitting)
    slots = await slots_for(
        redis, redis_prefix, venue_id=TEST_VENUE, day=day, party_size=2, now=NOW
    )
    assert await status(redis, redis_prefix, table_id, day, sitting) == "available"

    await catch_up(projector)
    assert await status(redis, redis_prefix, table_id, day, sitting) == "booked"
    fewer = await slots_for(
        redis, redis_prefix, venue_id=TEST_VENUE, day=day, party_size=2, now=NOW
    )
    if table_id in {"T1", "T2", "T3", "T4"}:  # the tables a party of two fits
        assert next(s for s in fewer if s.time == sitting).tables_available == (
            next(s for s in slots if s.time == sitting).tables_available - 1
        )


async def test_a_rebuild_swap_is_read_at_once(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    story = Story(seed=6)
    await opened(store, story)
    await catch_up(runner(store, redis, redis_prefix))
    _, table_id, day, sitting = await place(store, story)
    await read_twice(redis, redis_prefix, day, sitting)
    assert await status(redis, redis_prefix, table_id, day, sitting) == "available"

    # The daemon has not seen the booking; the rebuild has, and swaps its copy in.
    await rebuild(
        store=store,
        codec=registry.codec,
        pool=pool,
        redis=redis,
        redis_prefix=redis_prefix,
        redis_projections=[AvailabilityProjection()],
    )
    assert await status(redis, redis_prefix, table_id, day, sitting) == "booked"


async def test_no_checkpoint_means_no_cached_answer(
    store: PostgresEventStore, redis: Redis, redis_prefix: str
) -> None:
    story = Story(seed=8)
    await opened(store, story)
    projector = runner(store, redis, redis_prefix)
    booking_id, table_id, day, sitting = await place(store, story)
    await catch_up(projector)
    await read_twice(redis, redis_prefix, day, sitting)
    assert await status(redis, redis_prefix, table_id, day, sitting) == "booked"

    # Whatever happens to a venue's keys without a version (in a model without a
    # checkpoint), it is read afresh each time.
    root = f"{redis_prefix}availability:"
    venue_root = root + venue_part(TEST_VENUE)
    await redis.delete(root + "checkpoint", venue_root + VERSION)
    await redis.hdel(
        f"{venue_root}day:{day.isoformat()}", interval_field(table_id, BOOKING, booking_id)
    )
    assert await status(redis, redis_prefix, table_id, day, sitting) == "available"


async def test_a_lost_model_is_refused_then_rebuilt_in_place(
    store: PostgresEventStore, redis: Redis, redis_prefix: str
) -> None:
    story = Story(seed=9)
    await opened(store, story)
    for _ in range(20):
        await place(store, story)
    _, table_id, day, sitting = await place(store, story)
    await catch_up(runner(store, redis, redis_prefix))
    known = await read_twice(redis, redis_prefix, day, sitting)
    slots = await slots_for(
        redis, redis_prefix, venue_id=TEST_VENUE, day=day, party_size=2, now=NOW
    )
    assert {t.table_id: t.status for t in known.tables}[table_id] == "booked"

    async for key in redis.scan_iter(match=redis_prefix + "*"):
        await redis.delete(key)
    with pytest.raises(ModelNotReady):
        await tables_at(redis, redis_prefix, venue_id=TEST_VENUE, day=day, at=sitting, now=NOW)
    with pytest.raises(ModelNotReady):
        await slots_for(redis, redis_prefix, venue_id=TEST_VENUE, day=day, party_size=2, now=NOW)

    # The daemon builds it again where it was; not readable until it has caught up.
    projector = runner(store, redis, redis_prefix, batch_size=5)
    assert await projector.step() == 5
    with pytest.raises(ModelNotReady):
        await tables_at(redis, redis_prefix, venue_id=TEST_VENUE, day=day, at=sitting, now=NOW)
    await catch_up(projector)
    assert (
        await tables_at(redis, redis_prefix, venue_id=TEST_VENUE, day=day, at=sitting, now=NOW)
        == known
    )
    assert (
        await slots_for(redis, redis_prefix, venue_id=TEST_VENUE, day=day, party_size=2, now=NOW)
        == slots
    )


async def test_a_read_allowed_to_be_stale_trails_by_no_more_than_it_allows(
    store: PostgresEventStore, redis: Redis, redis_prefix: str
) -> None:
    """Without a consistency token the API lets a read trust a checkpoint it saw moments
    ago; a read that may not be stale asks again, and later reads see what it saw."""
    story = Story(seed=7)
    await opened(store, story)
    projector = runner(store, redis, redis_prefix)
    await catch_up(projector)
    _, table_id, day, sitting = await place(store, story)

    async def seen(max_staleness: float) -> str:
        found = await tables_at(
            redis,
            redis_prefix,
            venue_id=TEST_VENUE,
            day=day,
            at=sitting,
            now=NOW,
            max_staleness=max_staleness,
        )
        return {t.table_id: t.status for t in found.tables}[table_id]

    assert await seen(60) == "available"
    await catch_up(projector)
    assert await seen(60) == "available"  # within the minute it allows: the old version
    assert await seen(0) == "booked"  # asks Redis, and remembers the new checkpoint
    assert await seen(60) == "booked"
    assert await seen(0.000001) == "booked"
