"""Rebuild projections from the first event into fresh copies, then swap them in.

Reads keep answering from the live model the whole time: the copy is filled beside it
(`<table>__rebuild` tables, a `rebuild:` Redis key root), caught up to the head, and then
swapped in at once: for SQL in one transaction that holds the projection's checkpoint
lock (so the daemon's next batch waits and then continues from the copy's checkpoint),
for Redis in one Lua script. Several projections rebuilt together share one pass over
the log. A rebuild applies every event, so the venues parked for a rebuilt projection
(`projectors.parking`) are unparked by its swap.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from booking_core.codec import EventCodec
from booking_core.store import ORIGIN, ConsistencyToken, EventStore, RecordedEvent
from projectors.base import Decoded, KeySpace, RedisProjection, SqlProjection, TableNames
from projectors.checkpoints import lock_sql_checkpoints, write_sql_checkpoints
from projectors.parking import forget_parks
from projectors.runner import RedisApplier, decode_batch

__all__ = ["Copies", "Progress", "Reader", "check_prefix", "clear_keys", "fill", "rebuild"]

Progress = Callable[[int], None]
"""Called with the number of events just applied."""

_SWAP_LUA = (Path(__file__).parent / "_swap_redis.lua").read_text()
_SAFE_PREFIX = re.compile(r"^[A-Za-z0-9:_.-]*$")


Reader = Callable[[ConsistencyToken], Awaitable[list[RecordedEvent]]]
"""Reads the next batch of the log after a token: an empty batch means the end."""


@dataclass(frozen=True)
class Copies:
    """Where a fill writes: each SQL projection's tables and each Redis projection's keys,
    none of them the live ones."""

    sql: Sequence[tuple[SqlProjection, TableNames]] = ()
    redis: Sequence[tuple[RedisProjection, RedisApplier]] = ()

    async def create(self, connection: AsyncConnection[Any], redis: Redis) -> None:
        """Fresh, empty copies: the SQL tables shaped like the live ones, no Redis keys."""
        for _, tables in self.sql:
            for live, _ in tables.items():
                await connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(tables[live]))
                await connection.execute(
                    sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                        tables[live], sql.Identifier(live)
                    )
                )
        for _, applier in self.redis:
            await clear_keys(redis, applier.root)


async def fill(
    copies: Copies,
    read: Reader,
    codec: EventCodec,
    connection: AsyncConnection[Any],
    *,
    after: ConsistencyToken = ORIGIN,
    progress: Progress | None = None,
) -> ConsistencyToken:
    """Apply everything `read` returns after `after` to the copies; return the last token.

    The next batch is read, and the Redis models written, while the SQL models take the
    current batch: the waits overlap.
    """
    redis_after: ConsistencyToken | None = None if after == ORIGIN else after
    reading = asyncio.ensure_future(read(after))
    while records := await reading:
        reading = asyncio.ensure_future(read(records[-1].token))
        batch = decode_batch(codec, records)

        async def apply_sql(batch: list[Decoded] = batch) -> None:
            async with connection.transaction():
                for projection, tables in copies.sql:
                    await projection.apply(connection, tables, batch)

        async def apply_redis(
            batch: list[Decoded] = batch, since: ConsistencyToken | None = redis_after
        ) -> None:
            for projection, applier in copies.redis:
                await applier.apply(projection, since, batch)

        await asyncio.gather(apply_sql(), apply_redis())
        after = redis_after = records[-1].token
        if progress is not None:
            progress(len(records))
    return after


async def _index_names(connection: AsyncConnection[Any], table: str) -> dict[str, str]:
    """Index definitions (with the table name taken out) to index names."""
    cursor = await connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        " AND tablename = %s",
        (table,),
    )
    found: dict[str, str] = {}
    for name, definition in await cursor.fetchall():
        shape = re.sub(r"^CREATE (UNIQUE )?INDEX \S+ ON \S+", r"\1", str(definition))
        found[shape] = str(name)
    return found


async def _swap_sql(
    connection: AsyncConnection[Any], tables: TableNames, name: str, token: ConsistencyToken
) -> None:
    """Replace the live tables with the copies; the caller holds the checkpoint lock."""
    for live, copy in tables.items():
        wanted = await _index_names(connection, live)
        await connection.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(live)))
        await connection.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(copy), sql.Identifier(live)
            )
        )
        # Keep the migrations' index names, so later migrations can still name them.
        for shape, current in (await _index_names(connection, live)).items():
            target = wanted.get(shape)
            if target and target != current:
                await connection.execute(
                    sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                        sql.Identifier(current), sql.Identifier(target)
                    )
                )
    await write_sql_checkpoints(connection, {name: token})


async def clear_keys(redis: Redis, root: str) -> None:
    """Delete every key under `root`."""
    async for key in redis.scan_iter(match=root + "*", count=1000):
        await redis.delete(key)


async def rebuild(
    *,
    store: EventStore,
    codec: EventCodec,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    sql_projections: Sequence[SqlProjection] = (),
    redis_projections: Sequence[RedisProjection] = (),
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> ConsistencyToken:
    """Rebuild the given projections from position zero and swap them in."""
    check_prefix(redis_prefix)
    copies = Copies(
        sql=[(p, TableNames.rebuild(p.tables)) for p in sql_projections],
        redis=[
            (p, RedisApplier(redis, KeySpace(redis_prefix, p.name, rebuilding=True)))
            for p in redis_projections
        ],
    )

    async def read(after: ConsistencyToken) -> list[RecordedEvent]:
        return await store.read_all(after, batch_size)

    async with pool.connection() as connection:
        await copies.create(connection, redis)
        token = await fill(copies, read, codec, connection, progress=progress)
        async with connection.transaction():
            # The last stretch and the swap happen under every checkpoint lock, so no
            # daemon batch can slip in between.
            await lock_sql_checkpoints(connection, [p.name for p in sql_projections])
            token = await fill(copies, read, codec, connection, after=token, progress=progress)
            for sql_projection, tables in copies.sql:
                await _swap_sql(connection, tables, sql_projection.name, token)
            await forget_parks(connection, [p.name for p in sql_projections])
        swap = redis.register_script(_SWAP_LUA)
        for redis_projection, applier in copies.redis:
            live = KeySpace(redis_prefix, redis_projection.name)
            await swap(keys=[], args=[live.root, applier.root, live.ready])
        await forget_parks(connection, [p.name for p in redis_projections])
    return token


def check_prefix(redis_prefix: str) -> None:
    if not _SAFE_PREFIX.match(redis_prefix):
        raise ValueError(f"unsafe Redis prefix {redis_prefix!r}")
