"""Replays: every read model as it stood at an instant, beside the live ones.

A replay named `friday` lives in the SQL schema `replay_friday` (the projections' tables,
shaped like the live ones, and `replay_info`: the instant, when it was built, how many
events it holds) and under the Redis key namespace `{prefix}replay:friday:`, so the
read functions answer from it when handed the prefix `{prefix}replay:friday:`. The live
models, their checkpoints and the daemon are never touched.

"As it stood at T" means: the events whose `recorded_at` is at or before T, applied in
the log's `(tx, position)` order, exactly as the daemon applies them. `recorded_at` is
the start of the appending transaction, so an append is wholly in or wholly out. An
append begun before T may still be committing, so a replay first waits (bounded) until
no transaction begun at or before T that has written anything is still open, and until
the gap-free reader can see every event up to T; and T may not be in the future, where
the answer would change as events arrive.

A replay of one venue applies only that venue's events (the store's venue filter, chosen
in SQL), so its read models hold that venue as it stood and nothing of any other.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from booking_core.codec import EventCodec
from booking_core.store import ConsistencyToken, EventStore, RecordedEvent
from projectors.base import KeySpace, RedisProjection, SqlProjection, TableNames
from projectors.rebuild import Copies, Progress, check_prefix, clear_keys, fill
from projectors.runner import RedisApplier
from read_models.model_keys import replay_namespace

__all__ = [
    "Replay",
    "ReplayNotSettled",
    "build_replay",
    "check_name",
    "drop_replay",
    "list_replays",
    "replay_prefix",
    "replay_schema",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SCHEMA_PREFIX = "replay_"
_ONE_TICK = timedelta(microseconds=1)  # timestamptz resolution: "< T + 1 tick" is "<= T"


class ReplayNotSettled(Exception):
    """A transaction begun at or before the instant is still open: its events may land."""


@dataclass(frozen=True, slots=True)
class Replay:
    name: str
    as_of: datetime
    built_at: datetime | None
    """None while the replay is being built (or if its build failed)."""
    events: int
    token: ConsistencyToken
    """The last event the replay holds."""


def check_name(name: str) -> str:
    """The name, if it is a safe identifier: lower-case letters, digits, underscores."""
    if not _NAME.match(name):
        raise ValueError(
            f"bad replay name {name!r}: use 1 to 40 lower-case letters, digits and"
            " underscores, starting with a letter"
        )
    return name


def replay_schema(name: str) -> str:
    return _SCHEMA_PREFIX + check_name(name)


def replay_prefix(redis_prefix: str, name: str) -> str:
    """The Redis prefix to hand the read functions to read the replay `name`."""
    return redis_prefix + replay_namespace(check_name(name))


def _copies(
    redis: Redis,
    redis_prefix: str,
    name: str,
    sql_projections: Sequence[SqlProjection],
    redis_projections: Sequence[RedisProjection],
) -> Copies:
    schema = replay_schema(name)
    namespace = replay_namespace(name)
    return Copies(
        sql=[(p, TableNames.in_schema(schema, p.tables)) for p in sql_projections],
        redis=[
            (p, RedisApplier(redis, KeySpace(redis_prefix, p.name, namespace=namespace)))
            for p in redis_projections
        ],
    )


async def _refuse_the_future(connection: AsyncConnection[Any], as_of: datetime) -> None:
    cursor = await connection.execute("SELECT now()")
    row = await cursor.fetchone()
    assert row is not None
    if as_of > row[0]:
        raise ValueError(f"the instant {as_of.isoformat()} is in the future")


async def _wait_until_settled(
    connection: AsyncConnection[Any], as_of: datetime, timeout: float
) -> None:
    """Wait until every event recorded at or before `as_of` is committed and readable."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        cursor = await connection.execute(_UNSETTLED, {"as_of": as_of})
        row = await cursor.fetchone()
        if row is None:
            return
        if time.monotonic() >= deadline:
            raise ReplayNotSettled(
                f"{row[0]} is still open and holds back events recorded up to the instant;"
                " try again once it has ended"
            )
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.5)


# Two things hold events back: a transaction begun by then that has written and may still
# commit events recorded before the instant; and, since reads are gap-free, any open
# transaction older than the newest such event (read_all waits for it to end).
_UNSETTLED = """
SELECT 'a transaction begun at ' || xact_start || ' (pid ' || pid || ')' FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND backend_xid IS NOT NULL AND xact_start <= %(as_of)s
UNION ALL
SELECT 'an older transaction on the server' FROM events
WHERE recorded_at <= %(as_of)s
HAVING max(tx) >= pg_snapshot_xmin(pg_current_snapshot())
LIMIT 1
"""


async def _write_info(
    connection: AsyncConnection[Any], schema: str, replay: Replay, *, create: bool = False
) -> None:
    info = sql.Identifier(schema, "replay_info")
    if create:
        await connection.execute(
            sql.SQL(
                "CREATE TABLE {} (name text NOT NULL, as_of timestamptz NOT NULL,"
                " built_at timestamptz, events bigint NOT NULL, tx bigint NOT NULL,"
                " position bigint NOT NULL)"
            ).format(info)
        )
    await connection.execute(sql.SQL("DELETE FROM {}").format(info))
    await connection.execute(
        sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s)").format(info),
        (
            replay.name,
            replay.as_of,
            replay.built_at,
            replay.events,
            replay.token.tx,
            replay.token.position,
        ),
    )


async def build_replay(
    *,
    name: str,
    as_of: datetime,
    store: EventStore,
    codec: EventCodec,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    sql_projections: Sequence[SqlProjection],
    redis_projections: Sequence[RedisProjection],
    batch_size: int = 5000,
    progress: Progress | None = None,
    settle_timeout: float = 10.0,
    venue: str | None = None,
) -> Replay:
    """Build the replay `name` of the given projections as they stood at `as_of`,
    replacing an earlier replay of that name; of the venue `venue` (an id) alone if
    given."""
    check_prefix(redis_prefix)
    schema = replay_schema(name)
    copies = _copies(redis, redis_prefix, name, sql_projections, redis_projections)
    applied = 0

    def count(events: int) -> None:
        nonlocal applied
        applied += events
        if progress is not None:
            progress(events)

    async def read(after: ConsistencyToken) -> list[RecordedEvent]:
        return await store.read_all(
            after, batch_size, venue=venue, recorded_before=as_of + _ONE_TICK
        )

    async with pool.connection() as connection:
        await _refuse_the_future(connection, as_of)
        await _wait_until_settled(connection, as_of, settle_timeout)
        await drop_replay(pool, redis, redis_prefix, name)
        await connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        started = Replay(name, as_of, None, 0, ConsistencyToken(0, 0))
        await _write_info(connection, schema, started, create=True)
        await copies.create(connection, redis)
        token = await fill(copies, read, codec, connection, progress=count)
        for _, applier in copies.redis:
            await applier.mark_ready()
        cursor = await connection.execute("SELECT now()")
        row = await cursor.fetchone()
        assert row is not None
        built = Replay(name, as_of, row[0], applied, token)
        await _write_info(connection, schema, built)
    return built


async def list_replays(pool: AsyncConnectionPool[Any]) -> list[Replay]:
    """Every replay in the database, by name."""
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT n.nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid"
            " WHERE c.relname = 'replay_info' AND starts_with(n.nspname, %s) ORDER BY 1",
            (_SCHEMA_PREFIX,),
        )
        schemas = [str(row[0]) for row in await cursor.fetchall()]
        replays = []
        for schema in schemas:
            cursor = await connection.execute(
                sql.SQL(
                    "SELECT name, as_of, built_at, events, tx, position FROM {} LIMIT 1"
                ).format(sql.Identifier(schema, "replay_info"))
            )
            row = await cursor.fetchone()
            if row is not None:
                token = ConsistencyToken(int(row[4]), int(row[5]))
                replays.append(Replay(row[0], row[1], row[2], int(row[3]), token))
    return replays


async def drop_replay(
    pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str, name: str
) -> bool:
    """Drop the replay's schema and Redis keys; False if there was no such schema."""
    check_prefix(redis_prefix)
    schema = replay_schema(name)
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)
        )
        existed = await cursor.fetchone() is not None
        await connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
    await clear_keys(redis, replay_prefix(redis_prefix, name))
    return existed
