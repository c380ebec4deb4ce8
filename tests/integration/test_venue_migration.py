"""A deployment of before there were venues becomes the default venue: its read models
gain their `venue_id` with no event touched, and a rebuild afterwards equals them.

The models of before are made the way the migration found them: a history is projected,
then the schema is taken back to 0007 (the read-model tables lose `venue_id` and get their
keys of before back, as the single-venue projections wrote them) and brought forward
again. The log itself is never written by the migration, but for sealing personal fields (0013):
its events as read are compared too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic import command
from msgspec.structs import astuple
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.domain.streams import DEFAULT_STREAMS
from booking_core.store.postgres import (
    RECORD_COLUMNS,
    WITH_KEYS,
    PostgresEventStore,
    opened_record,
)
from projectors.rebuild import rebuild
from projectors.runner import ProjectionRunner, RedisProjectionRunner, SqlProjectionRunner
from tablebook.database import (
    alembic_config,
    create_database,
    drop_database,
    migrate,
    open_pool,
    with_database,
)
from tests.support.models import dump_redis, dump_sql
from tests.support.story import Story


@pytest.fixture
async def scratch(database_url: str) -> AsyncIterator[str]:
    name = f"tb_migration_{uuid.uuid4().hex[:10]}"
    url = with_database(database_url, name)
    create_database(database_url, name)
    migrate(url)
    try:
        yield url
    finally:
        drop_database(database_url, name)


def _runners(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, prefix: str
) -> list[ProjectionRunner]:
    return [
        *(SqlProjectionRunner(p, store, registry.codec, pool) for p in registry.SQL_PROJECTIONS),
        *(
            RedisProjectionRunner(p, store, registry.codec, redis, prefix)
            for p in registry.REDIS_PROJECTIONS
        ),
    ]


async def catch_up(all_runners: list[ProjectionRunner]) -> None:
    for runner in all_runners:
        await runner.catch_up()
        await runner.step()  # caught up: Redis models are marked ready


async def _events(pool: AsyncConnectionPool[Any]) -> list[tuple[Any, ...]]:
    """The log as read: personal fields opened, and without their persons (taken back
    before 0013, the log is opened; brought forward again, it is sealed under new ones)."""
    async with pool.connection() as connection:
        cursor = await connection.execute(
            f"SELECT {RECORD_COLUMNS} FROM events {WITH_KEYS} ORDER BY position"
        )
        records = [opened_record(row) for row in await cursor.fetchall()]
    return [
        (*astuple(record)[:6], _without_person(record.data), *astuple(record)[7:])
        for record in records
    ]


def _without_person(data: bytes) -> dict[str, Any]:
    payload = json.loads(data)
    payload.pop("person", None)
    return {name: value for name, value in payload.items() if value is not None}


async def test_the_default_venue_after_the_migration_is_what_a_rebuild_gives(
    scratch: str, redis: Redis, redis_prefix: str
) -> None:
    pool = await open_pool(scratch, min_size=1, max_size=4)
    try:
        store = PostgresEventStore(pool, scratch)
        story = Story(seed=5, streams=DEFAULT_STREAMS)
        for writes in story.opening():
            await store.append(writes)
        for _ in range(150):
            step = story.random_step()
            if step:
                await store.append(step)
        prefix = f"{redis_prefix}migration:"
        await catch_up(_runners(store, pool, redis, prefix))
        log_before = await _events(pool)
        await pool.close()

        config = alembic_config(scratch)
        command.downgrade(config, "0007")
        command.upgrade(config, "head")

        pool = await open_pool(scratch, min_size=1, max_size=4)
        store = PostgresEventStore(pool, scratch)
        assert await _events(pool) == log_before
        # The daemon, started again, catches up: a projection new with the migration (the
        # venue directory) reads the log from its start; the others have nothing new.
        await catch_up(_runners(store, pool, redis, prefix))
        migrated_sql, live_redis = await dump_sql(pool), await dump_redis(redis, prefix)
        assert migrated_sql["rm_bookings"], "the history left bookings to migrate"
        await rebuild(
            store=store,
            codec=registry.codec,
            pool=pool,
            redis=redis,
            redis_prefix=prefix,
            sql_projections=registry.SQL_PROJECTIONS,
            redis_projections=registry.REDIS_PROJECTIONS,
            batch_size=101,
        )
        assert await dump_sql(pool) == migrated_sql
        assert await dump_redis(redis, prefix) == live_redis
    finally:
        await pool.close()
