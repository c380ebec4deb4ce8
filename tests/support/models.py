"""Read models as plain data, to compare a live model with a rebuild row for row and key
for key."""

from __future__ import annotations

from typing import Any

from psycopg import sql
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.store import ConsistencyToken, EventStore
from projectors.rebuild import rebuild
from read_models.consistency import wait_for_projections

SQL_TABLES = [table for p in registry.SQL_PROJECTIONS for table in p.tables]

SQL_NAMES = [p.name for p in registry.SQL_PROJECTIONS] + list(registry.PROCESS_MANAGER_NAMES)
REDIS_NAMES = [p.name for p in registry.REDIS_PROJECTIONS]


async def dump_sql(
    pool: AsyncConnectionPool[Any], schema: str | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model table's rows: the live ones, or those of another schema."""
    dumped: dict[str, list[tuple[Any, ...]]] = {}
    async with pool.connection() as connection:
        for table in SQL_TABLES:
            name = sql.Identifier(schema, table) if schema else sql.Identifier(table)
            cursor = await connection.execute(
                sql.SQL("SELECT * FROM {} ORDER BY 1, 2").format(name)
            )
            dumped[table] = sorted((tuple(row) for row in await cursor.fetchall()), key=repr)
    return dumped


async def dump_redis(redis: Redis, prefix: str) -> dict[str, Any]:
    dumped: dict[str, Any] = {}
    async for raw in redis.scan_iter(match=prefix + "*", count=1000):
        key = raw.decode()
        kind_raw = await redis.type(key)
        kind = kind_raw.decode() if isinstance(kind_raw, bytes) else str(kind_raw)
        if kind == "hash":
            dumped[key] = await redis.hgetall(key)
        elif kind == "stream":
            dumped[key] = await redis.xrange(key)
        else:
            dumped[key] = await redis.get(key)
    return dumped


async def clear_read_models(pool: AsyncConnectionPool[Any], redis: Redis, prefix: str) -> None:
    async with pool.connection() as connection:
        await connection.execute(
            sql.SQL("TRUNCATE {}, projection_checkpoints").format(
                sql.SQL(", ").join(map(sql.Identifier, SQL_TABLES))
            )
        )
    async for key in redis.scan_iter(match=prefix + "*", count=1000):
        await redis.delete(key)


async def booking_rows(pool: AsyncConnectionPool[Any]) -> dict[str, tuple[str, int]]:
    """Each booking's status and party size, as the bookings read model has them."""
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT id, status, party_size FROM rm_bookings")
        return {r[0]: (r[1], r[2]) for r in await cursor.fetchall()}


async def assert_equal_to_a_rebuild(
    store: EventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    prefix: str,
) -> None:
    """The live read models equal their rebuild from the first event (swapped in): an
    event applied twice, or not at all, shows as a difference."""
    live_sql, live_redis = await dump_sql(pool), await dump_redis(redis, prefix)
    await rebuild(
        store=store,
        codec=registry.codec,
        pool=pool,
        redis=redis,
        redis_prefix=prefix,
        sql_projections=registry.SQL_PROJECTIONS,
        redis_projections=registry.REDIS_PROJECTIONS,
    )
    assert await dump_sql(pool) == live_sql
    assert await dump_redis(redis, prefix) == live_redis


async def all_caught_up(
    token: ConsistencyToken,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    prefix: str,
    timeout: float = 30,
) -> None:
    """Wait until every read model and the process managers include `token`."""
    await wait_for_projections(
        token,
        pool=pool,
        redis=redis,
        redis_prefix=prefix,
        sql=SQL_NAMES,
        redis_names=REDIS_NAMES,
        timeout=timeout,
    )
