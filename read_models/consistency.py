"""Read-your-writes: wait, bounded, until projections include a given write.

A write answers with its consistency token `(tx, position)`; a projection includes it
once its checkpoint is at or past the token, since checkpoints advance in the same
`(tx, position)` order as tokens.

A token whose transaction has not even begun names no write (it was made up, or belongs
to another database): no projection will ever reach it, so it is refused at once rather
than after the whole wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from booking_core.store import ConsistencyToken
from read_models.model_keys import redis_checkpoint_key

__all__ = ["NotCaughtUp", "UnknownToken", "redis_checkpoint_key", "wait_for_projections"]


class NotCaughtUp(Exception):
    """The projections did not include the write within the time allowed."""

    def __init__(self, token: ConsistencyToken, waited: float) -> None:
        self.token = token
        self.waited = waited
        super().__init__(f"read models have not caught up with {token} after {waited:.1f}s")


class UnknownToken(Exception):
    """The token names a transaction that has not begun: no write of ours gave it."""

    def __init__(self, token: ConsistencyToken) -> None:
        self.token = token
        super().__init__(f"X-Consistency-Token {token} names no write of this service")


async def _from_the_future(pool: AsyncConnectionPool[Any], token: ConsistencyToken) -> bool:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::numeric <= %s",
            (token.tx,),
        )
        row = await cursor.fetchone()
    return bool(row and row[0])


async def _sql_behind(
    pool: AsyncConnectionPool[Any], names: Sequence[str], token: ConsistencyToken
) -> bool:
    if not names:
        return False
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT count(*) FROM projection_checkpoints"
            " WHERE name = ANY(%s) AND (tx, position) >= (%s, %s)",
            (list(names), token.tx, token.position),
        )
        row = await cursor.fetchone()
    return row is None or int(row[0]) < len(names)


async def _redis_behind(
    redis: Redis, prefix: str, names: Sequence[str], token: ConsistencyToken
) -> bool:
    if not names:
        return False
    values = await redis.mget([redis_checkpoint_key(prefix, n) for n in names])
    for value in values:
        if value is None:
            return True
        text = value.decode() if isinstance(value, bytes) else str(value)
        if ConsistencyToken.parse(text) < token:
            return True
    return False


async def wait_for_projections(
    token: ConsistencyToken,
    *,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    sql: Sequence[str] = (),
    redis_names: Sequence[str] = (),
    timeout: float = 5.0,
) -> None:
    """Return once every named projection includes `token`; raise NotCaughtUp after
    `timeout` seconds. Checks back quickly at first, then less often. Raise UnknownToken
    at once for a token no write can have given."""
    began = time.monotonic()
    pause = 0.002
    checked = False
    while await _sql_behind(pool, sql, token) or await _redis_behind(
        redis, redis_prefix, redis_names, token
    ):
        if not checked:
            checked = True
            if await _from_the_future(pool, token):
                raise UnknownToken(token)
        waited = time.monotonic() - began
        if waited >= timeout:
            raise NotCaughtUp(token, waited)
        await asyncio.sleep(min(pause, timeout - waited))
        pause = min(pause * 2, 0.05)
