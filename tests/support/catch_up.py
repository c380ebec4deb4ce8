"""Bring one projection up to the newest event, however long other transactions on the
server (other test runs included) hold the gap-free read back."""

from __future__ import annotations

import asyncio
from typing import Any

from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from booking_core.store import ORIGIN, ConsistencyToken
from projectors.checkpoints import read_redis_checkpoint, read_sql_checkpoints
from projectors.runner import ProjectionRunner
from read_models.consistency import redis_checkpoint_key

__all__ = ["last_token", "redis_caught_up", "sql_caught_up"]


async def last_token(pool: AsyncConnectionPool[Any]) -> ConsistencyToken:
    """The newest committed event, held back or not."""
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT tx::text::bigint, position FROM events ORDER BY tx DESC, position DESC LIMIT 1"
        )
        row = await cursor.fetchone()
    return ConsistencyToken(int(row[0]), int(row[1])) if row else ORIGIN


async def _until(runner: ProjectionRunner, reached: Any, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        await runner.catch_up()
        await runner.step()
        if await reached():
            return
        assert asyncio.get_running_loop().time() < deadline, f"{runner.name} never caught up"
        await asyncio.sleep(0.01)


async def sql_caught_up(
    runner: ProjectionRunner, pool: AsyncConnectionPool[Any], timeout: float = 30.0
) -> None:
    target = await last_token(pool)

    async def reached() -> bool:
        async with pool.connection() as connection:
            checkpoints = await read_sql_checkpoints(connection)
        return checkpoints.get(runner.name, ORIGIN) >= target

    await _until(runner, reached, timeout)


async def redis_caught_up(
    runner: ProjectionRunner,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    prefix: str,
    timeout: float = 30.0,
) -> None:
    target = await last_token(pool)
    key = redis_checkpoint_key(prefix, runner.name)

    async def reached() -> bool:
        return (await read_redis_checkpoint(redis, key) or ORIGIN) >= target

    await _until(runner, reached, timeout)
