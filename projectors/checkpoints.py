"""Where each projection stands: SQL projections in a table, Redis ones beside their keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection
from redis.asyncio import Redis

from booking_core.store import ORIGIN, ConsistencyToken

__all__ = [
    "create_sql_checkpoints",
    "lock_sql_checkpoints",
    "parse_checkpoint",
    "peek_sql_checkpoint",
    "read_redis_checkpoint",
    "read_sql_checkpoints",
    "write_sql_checkpoints",
]


async def peek_sql_checkpoint(connection: AsyncConnection[Any], name: str) -> ConsistencyToken:
    """The projection's checkpoint, read without a lock (the origin if it has none)."""
    cursor = await connection.execute(
        "SELECT tx, position FROM projection_checkpoints WHERE name = %s", (name,)
    )
    row = await cursor.fetchone()
    return ConsistencyToken(int(row[0]), int(row[1])) if row else ORIGIN


async def create_sql_checkpoints(connection: AsyncConnection[Any], names: Sequence[str]) -> None:
    """Checkpoint rows (at the origin) for those of `names` that have none."""
    await connection.execute(
        "INSERT INTO projection_checkpoints (name) SELECT unnest(%s::text[])"
        " ON CONFLICT DO NOTHING",
        (sorted(names),),
    )


async def lock_sql_checkpoints(
    connection: AsyncConnection[Any], names: Sequence[str]
) -> dict[str, ConsistencyToken]:
    """Projections' checkpoints, row-locked until the caller's transaction ends.

    The lock makes a batch and a rebuild's swap take turns: whoever holds it decides
    what the projection's tables contain. Everyone takes the locks through here, in one
    order (by name, bytewise), so that two lockers never wait on each other."""
    ordered = sorted(names)

    async def lock() -> dict[str, ConsistencyToken]:
        cursor = await connection.execute(
            "SELECT name, tx, position FROM projection_checkpoints WHERE name = ANY(%s)"
            ' ORDER BY name COLLATE "C" FOR UPDATE',
            (ordered,),
        )
        return {r[0]: ConsistencyToken(int(r[1]), int(r[2])) for r in await cursor.fetchall()}

    found = await lock()
    if len(found) < len(ordered):  # better made beforehand: these rows lock out of order
        await create_sql_checkpoints(connection, ordered)
        found = await lock()
    return found


async def write_sql_checkpoints(
    connection: AsyncConnection[Any], tokens: dict[str, ConsistencyToken]
) -> None:
    """Move several checkpoints in one statement (rows locked by `lock_sql_checkpoints`)."""
    names = list(tokens)
    await connection.execute(
        "UPDATE projection_checkpoints AS c SET tx = n.tx, position = n.position,"
        " updated_at = now()"
        " FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS n(name, tx, position)"
        " WHERE c.name = n.name",
        (names, [tokens[n].tx for n in names], [tokens[n].position for n in names]),
    )


async def read_sql_checkpoints(
    connection: AsyncConnection[Any], names: Sequence[str] | None = None
) -> dict[str, ConsistencyToken]:
    """Every checkpoint, or only those of `names` (without a lock)."""
    if names is None:
        cursor = await connection.execute("SELECT name, tx, position FROM projection_checkpoints")
    else:
        cursor = await connection.execute(
            "SELECT name, tx, position FROM projection_checkpoints WHERE name = ANY(%s)",
            (list(names),),
        )
    return {row[0]: ConsistencyToken(int(row[1]), int(row[2])) for row in await cursor.fetchall()}


def parse_checkpoint(raw: bytes | str | None) -> ConsistencyToken | None:
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else raw
    return ConsistencyToken.parse(text)


async def read_redis_checkpoint(redis: Redis, key: str) -> ConsistencyToken | None:
    """None when the key is missing: the model was never built, or Redis lost it."""
    return parse_checkpoint(await redis.get(key))
