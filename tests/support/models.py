"""Read models as plain data, to compare a live model with a rebuild row for row and key
for key."""

from __future__ import annotations

from typing import Any

from psycopg import sql
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry

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
