"""Read models as plain data, to compare a live model with a rebuild row for row and key
for key."""

from __future__ import annotations

from typing import Any

from psycopg import sql
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.store import EventStore
from projectors.rebuild import rebuild

SQL_TABLES = [table for p in registry.SQL_PROJECTIONS for table in p.tables]


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


async def dump_sql_as_rebuilt(pool: AsyncConnectionPool[Any]) -> dict[str, list[tuple[Any, ...]]]:
    """The SQL read models, to compare with a rebuild: an event applied twice (or not at
    all) shows as a difference. Without a day's open seat minutes: those follow the
    floor as of the batch that last touched the day, so a day before the floor's own
    events differs between batch boundaries (live, rebuild) whatever the servers do."""
    dumped = await dump_sql(pool)
    dumped["rm_daily_stats"] = [row[:-1] for row in dumped["rm_daily_stats"]]
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


async def assert_live_equals_rebuild(
    store: EventStore, pool: AsyncConnectionPool[Any], redis: Redis, prefix: str
) -> None:
    """The live read models equal every projection rebuilt from the first event: an event
    applied twice, or never, shows as a difference. Run it with no daemon applying."""
    live_sql, live_redis = await dump_sql_as_rebuilt(pool), await dump_redis(redis, prefix)
    await rebuild(
        store=store,
        codec=registry.codec,
        pool=pool,
        redis=redis,
        redis_prefix=prefix,
        sql_projections=registry.SQL_PROJECTIONS,
        redis_projections=registry.REDIS_PROJECTIONS,
    )
    assert await dump_sql_as_rebuilt(pool) == live_sql
    assert await dump_redis(redis, prefix) == live_redis
