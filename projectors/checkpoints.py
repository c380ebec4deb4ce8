"""Where each projection stands: SQL projections in a table, Redis ones beside their keys."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from redis.asyncio import Redis

from booking_core.store import ORIGIN, ConsistencyToken

__all__ = [
    "lock_sql_checkpoint",
    "parse_checkpoint",
    "peek_sql_checkpoint",
    "read_redis_checkpoint",
    "read_sql_checkpoints",
    "write_sql_checkpoint",
]


async def peek_sql_checkpoint(connection: AsyncConnection[Any], name: str) -> ConsistencyToken:
    """The projection's checkpoint, read without a lock (the origin if it has none)."""
    cursor = await connection.execute(
        "SELECT tx, position FROM projection_checkpoints WHERE name = %s", (name,)
    )
    row = await cursor.fetchone()
    return ConsistencyToken(int(row[0]), int(row[1])) if row else ORIGIN


async def lock_sql_checkpoint(connection: AsyncConnection[Any], name: str) -> ConsistencyToken:
    """The projection's checkpoint, row-locked until the caller's transaction ends.

    The lock makes a batch and a rebuild's swap take turns: whoever holds it decides
    what the projection's tables contain.
    """
    await connection.execute(
        "INSERT INTO projection_checkpoints (name) VALUES (%s) ON CONFLICT DO NOTHING", (name,)
    )
    cursor = await connection.execute(
        "SELECT tx, position FROM projection_checkpoints WHERE name = %s FOR UPDATE", (name,)
    )
    row = await cursor.fetchone()
    assert row is not None
    return ConsistencyToken(int(row[0]), int(row[1]))


async def write_sql_checkpoint(
    connection: AsyncConnection[Any], name: str, token: ConsistencyToken
) -> None:
    await connection.execute(
        "INSERT INTO projection_checkpoints (name, tx, position, updated_at)"
        " VALUES (%s, %s, %s, now())"
        " ON CONFLICT (name) DO UPDATE SET tx = excluded.tx, position = excluded.position,"
        " updated_at = now()",
        (name, token.tx, token.position),
    )


async def read_sql_checkpoints(connection: AsyncConnection[Any]) -> dict[str, ConsistencyToken]:
    cursor = await connection.execute("SELECT name, tx, position FROM projection_checkpoints")
    return {row[0]: ConsistencyToken(int(row[1]), int(row[2])) for row in await cursor.fetchall()}


def parse_checkpoint(raw: bytes | str | None) -> ConsistencyToken | None:
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else raw
    return ConsistencyToken.parse(text)


async def read_redis_checkpoint(redis: Redis, key: str) -> ConsistencyToken | None:
    """None when the key is missing: the model was never built, or Redis lost it."""
    return parse_checkpoint(await redis.get(key))
