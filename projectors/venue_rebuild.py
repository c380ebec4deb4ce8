"""Rebuild one venue's part of the read models while the daemon keeps serving every venue.

Each projection's model holds every venue: a SQL table's rows carry their `venue_id`, a
Redis model keeps a venue's keys under `root + venue_part(venue_id)`. A projection applies
an event only to the rows or keys of the event's venue (`venue_of(stream_id)`), and reads
back only its own tables or keys of that venue, so a venue's part of a model is a
function of that venue's events alone: the part "as of" a token T is what the venue's
events up to T make of an empty model. That is what is built here, beside the live model,
and swapped in; the other venues' rows and keys are never written, and readers of the
venue keep getting answers from the live part until the swap.

**Reading a venue's events** (`VenueReader`): the events after one token and up to
another, of the venue's streams only (`{venue_id}/...`, or a name without `/` for the
default venue), filtered by PostgreSQL, with the store's gap-free rule (only transactions
older than every one still running). Every read names its upper bound, a checkpoint the
daemon reached: the daemon read every event up to it, so all of them were visible then,
and none can appear below it later.

**SQL projections** (`bookings`, `venue`, `stats`), one at a time:

1. Copies of its tables (`CREATE TEMP TABLE <table>__venue_copy (LIKE <table> INCLUDING
   ALL)`: private to this session, so two rebuilds never share one, and gone if it dies).
2. Fill them with the venue's events up to the checkpoint read without a lock, C0, and
   again up to the checkpoint read then, until the venue's events past the copy fit in
   one batch (`PREFILL_ROUNDS` at most): the long part, while the daemon runs on.
3. In one transaction: lock the projection's checkpoint row (`lock_sql_checkpoints`, the
   lock every daemon batch of it takes first) and read it, C >= C0; apply the venue's
   events in (C0, C] to the copies as one batch (a projection may keep state for the
   length of a transaction: the bookings projection's staging table empties only at
   commit); `DELETE` the venue's live rows; `INSERT` the copies' rows (naming the columns,
   generated ones left out). The copies are dropped afterwards.

Why the live part is then exactly "the venue as of C": while the lock is held no batch
of this projection commits, so the live tables stand at C; the copy holds the venue's
events up to C, each applied once (each read starts after the last bound and ends at
the next); the swapped rows replace the venue's whole part and no other (a copy row of
another venue stops the rebuild). The checkpoint does not move, so the daemon's next
batch, read after C, applies what comes after C to the new rows, once. An event applied
twice or missed would show in the stats counters, which are increments. A checkpoint
found behind the copy's bound (a reset while this ran) stops the rebuild.

**Redis projections** (`availability`, `live_status`), one at a time:

1. Fill a copy under a root of this run's own, `{prefix}venue-rebuild:{digest of the
   venue}:{run}:{projection}:`, with the venue's events up to the live checkpoint C
   (read from Redis; a model without one is refused: the daemon is building it from
   nothing). The copy is deleted at the end, swapped or not (a killed run leaves keys
   under `venue-rebuild:` that nothing reads: delete them at leisure).
2. One Lua script (`_swap_venue_redis.lua`): only if the live checkpoint still holds C,
   delete the venue's live keys, `RENAME` the copy's keys into their place and set the
   venue's `version` (availability). Redis runs a script alone, and every daemon write to
   a Redis model is a script that moves its checkpoint; so if it still holds C, every
   write so far came from events up to C (held by the copy too), and every later one
   comes from events after C and lands on the copy's keys.
3. If the checkpoint moved on to C', fill the copy with the venue's events in (C, C'] and
   try again, at most `SWAP_ATTEMPTS` times, then stop with `VenueRebuildFailed` (the live
   model untouched, the copy deleted).

The venue's `version` is set to `{C}+r{random}`, a value no earlier write used: the
availability reads cache parsed snapshots per venue by `version`, and one parsed from the
damaged keys a rebuild is there to replace must not outlive them. (Every other key is
byte for byte what a whole rebuild gives.) Live-status streams are refilled with the same
`XADD`s, explicit ids and cap, in the same order, so they hold the same entries.

`notifications` is never rebuilt: it records messages already sent.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from booking_core.codec import EventCodec
from booking_core.domain.streams import streams_of
from booking_core.store import ORIGIN, ConsistencyToken, RecordedEvent
from booking_core.store.postgres import RECORD_COLUMNS, WITH_KEYS, opened_record
from booking_core.store.venue_filter import in_venue
from projectors.base import KeySpace, RedisProjection, SqlProjection, TableNames
from projectors.checkpoints import (
    lock_sql_checkpoints,
    peek_sql_checkpoint,
    read_redis_checkpoint,
)
from projectors.rebuild import Progress, check_prefix, clear_keys
from projectors.runner import decode_batch
from read_models.availability_keys import NAME as AVAILABILITY
from read_models.availability_keys import VERSION, venue_part

__all__ = [
    "SWAP_ATTEMPTS",
    "VenueReader",
    "VenueRebuildFailed",
    "count_venue_events",
    "rebuild_venue",
    "venue_copy_namespace",
]

log = logging.getLogger("tablebook.projectors")

SWAP_ATTEMPTS = 5
"""How often a Redis copy is caught up to a moved checkpoint before the rebuild gives up."""

PREFILL_ROUNDS = 5
"""How often the SQL copies follow the moving checkpoint before the locked part."""

COPY_SUFFIX = "__venue_copy"
COPY_NAMESPACE = "venue-rebuild:"

_SWAP_LUA = (Path(__file__).parent / "_swap_venue_redis.lua").read_text()
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")

_VENUE_FILTER = f"""
  AND tx < (SELECT tb_read_horizon())
  AND {in_venue("venue")}
"""

_SELECT_VENUE = f"""
SELECT {RECORD_COLUMNS}
FROM events {WITH_KEYS}
WHERE (tx, position) > (%(tx)s::text::xid8, %(position)s)
  AND (tx, position) <= (%(upto_tx)s::text::xid8, %(upto_position)s)
  {_VENUE_FILTER}
ORDER BY events.tx, events.position
LIMIT %(limit)s
"""  # noqa: S608 - built from constants

_COUNT_VENUE = f"""
SELECT count(*) FROM events WHERE true {_VENUE_FILTER}
"""  # noqa: S608 - built from constants


class VenueRebuildFailed(Exception):
    """The venue's part could not be swapped in; the live model is as it was."""


def _venue_params(venue_id: str) -> dict[str, Any]:
    streams_of(venue_id)  # refuses an id no venue can have
    return {"venue": venue_id}


@dataclass(frozen=True)
class VenueReader:
    """Reads one venue's events in the log's order, each read bounded above."""

    pool: AsyncConnectionPool[Any]
    venue_id: str
    batch_size: int = 5000

    async def __call__(
        self, after: ConsistencyToken, upto: ConsistencyToken
    ) -> list[RecordedEvent]:
        """The venue's events after `after` and up to `upto` (at most a batch of them)."""
        if upto <= after:
            return []
        params = {
            **_venue_params(self.venue_id),
            "tx": str(after.tx),
            "position": after.position,
            "upto_tx": str(upto.tx),
            "upto_position": upto.position,
            "limit": self.batch_size,
        }
        async with self.pool.connection() as connection:
            cursor = await connection.execute(_SELECT_VENUE, params)
            rows = await cursor.fetchall()
        return [opened_record(row) for row in rows]


async def count_venue_events(pool: AsyncConnectionPool[Any], venue_id: str) -> int:
    """How many events the venue has (for a progress bar)."""
    async with pool.connection() as connection:
        cursor = await connection.execute(_COUNT_VENUE, _venue_params(venue_id))
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def venue_copy_namespace(venue_id: str, run: str) -> str:
    """The key namespace of one run's Redis copies of a venue: a digest of the venue, so
    that no glob character reaches a SCAN pattern, and the run's own token, so that two
    rebuilds of one venue never write into each other's copy."""
    digest = hashlib.sha256(venue_id.encode()).hexdigest()[:16]
    return f"{COPY_NAMESPACE}{digest}:{run}:"


def _glob_escape(text: str) -> str:
    return _GLOB_SPECIAL.sub(r"\\\1", text)


# --- SQL --------------------------------------------------------------------------------


async def _columns(connection: AsyncConnection[Any], table: str) -> list[str]:
    """The table's columns that can be inserted into (not generated), in order."""
    cursor = await connection.execute(
        "SELECT attname FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped"
        " AND attgenerated = '' ORDER BY attnum",
        (table,),
    )
    return [str(row[0]) for row in await cursor.fetchall()]


async def _fill_sql(
    connection: AsyncConnection[Any],
    projection: SqlProjection,
    copies: TableNames,
    read: VenueReader,
    codec: EventCodec,
    after: ConsistencyToken,
    upto: ConsistencyToken,
    progress: Progress | None,
) -> int:
    """Apply the venue's events in (after, upto] to the copies, a batch per transaction;
    return how many there were."""
    applied = 0
    while records := await read(after, upto):
        async with connection.transaction():
            await projection.apply(connection, copies, decode_batch(codec, records))
        after = records[-1].token
        applied += len(records)
        if progress is not None:
            progress(len(records))
    return applied


async def _read_all(
    read: VenueReader, after: ConsistencyToken, upto: ConsistencyToken
) -> list[RecordedEvent]:
    """Every one of the venue's events in (after, upto], however many batches."""
    found: list[RecordedEvent] = []
    while records := await read(after, upto):
        found += records
        after = records[-1].token
    return found


async def _rebuild_sql(
    projection: SqlProjection,
    *,
    venue_id: str,
    codec: EventCodec,
    pool: AsyncConnectionPool[Any],
    read: VenueReader,
    progress: Progress | None,
) -> ConsistencyToken:
    copies = TableNames({t: f"{t}{COPY_SUFFIX}" for t in projection.tables})
    async with pool.connection() as connection:
        try:
            for live, copy in copies.items():
                await connection.execute(
                    sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(sql.Identifier(copy))
                )
                await connection.execute(
                    sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING ALL)").format(
                        sql.Identifier(copy), sql.Identifier(live)
                    )
                )
            # Follow the checkpoint without the lock until the venue's events past it
            # fit in one batch (or a few rounds have passed): the locked part is short.
            filled = ORIGIN
            for _ in range(PREFILL_ROUNDS):
                unlocked = await peek_sql_checkpoint(connection, projection.name)
                if unlocked < filled:
                    raise _went_back(projection.name, filled, unlocked)
                applied = await _fill_sql(
                    connection, projection, copies, read, codec, filled, unlocked, progress
                )
                filled = unlocked
                if applied < read.batch_size:
                    break
            async with connection.transaction():
                locked = (await lock_sql_checkpoints(connection, [projection.name]))[
                    projection.name
                ]
                if locked < filled:
                    raise _went_back(projection.name, filled, locked)
                # One batch, however long: a projection may keep per-transaction state
                # (the bookings projection's staging table is emptied only at commit).
                rest = await _read_all(read, filled, locked)
                if rest:
                    await projection.apply(connection, copies, decode_batch(codec, rest))
                    if progress is not None:
                        progress(len(rest))
                for live, copy in copies.items():
                    await _swap_table(connection, live, copy, venue_id)
            return locked
        finally:
            if not connection.closed:
                for _, copy in copies.items():
                    await connection.execute(
                        sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(sql.Identifier(copy))
                    )


def _went_back(name: str, was: ConsistencyToken, now: ConsistencyToken) -> VenueRebuildFailed:
    return VenueRebuildFailed(
        f"{name}: the checkpoint went back from {was} to {now} (a reset?); nothing was"
        " swapped, run the rebuild again"
    )


async def _swap_table(
    connection: AsyncConnection[Any], live: str, copy: str, venue_id: str
) -> None:
    """Replace the venue's rows of `live` with the copy's (all of them the venue's)."""
    cursor = await connection.execute(
        sql.SQL("SELECT count(*) FROM {} WHERE venue_id IS DISTINCT FROM %s").format(
            sql.Identifier(copy)
        ),
        (venue_id,),
    )
    strays = await cursor.fetchone()
    if strays and strays[0]:
        raise VenueRebuildFailed(f"{live}: the copy holds rows of another venue")
    columns = sql.SQL(", ").join(map(sql.Identifier, await _columns(connection, live)))
    await connection.execute(
        sql.SQL("DELETE FROM {} WHERE venue_id = %s").format(sql.Identifier(live)), (venue_id,)
    )
    await connection.execute(
        sql.SQL("INSERT INTO {live} ({cols}) SELECT {cols} FROM {copy}").format(
            live=sql.Identifier(live), cols=columns, copy=sql.Identifier(copy)
        )
    )


# --- Redis ------------------------------------------------------------------------------


async def _fill_redis(
    redis: Redis,
    projection: RedisProjection,
    keys: KeySpace,
    read: VenueReader,
    codec: EventCodec,
    after: ConsistencyToken,
    upto: ConsistencyToken,
    progress: Progress | None,
) -> None:
    """Apply the venue's events in (after, upto] to the copy's keys, a batch per
    MULTI/EXEC (nobody else writes under the copy's root)."""
    while records := await read(after, upto):
        commands = projection.commands(keys, decode_batch(codec, records))
        if commands:
            async with redis.pipeline(transaction=True) as pipe:
                for command in commands:
                    pipe.execute_command(*command)
                await pipe.execute()
        after = records[-1].token
        if progress is not None:
            progress(len(records))


def _text(value: bytes | str | int) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _rebuild_redis(
    projection: RedisProjection,
    *,
    venue_id: str,
    codec: EventCodec,
    redis: Redis,
    redis_prefix: str,
    read: VenueReader,
    progress: Progress | None,
    attempts: int,
) -> ConsistencyToken:
    live = KeySpace(redis_prefix, projection.name)
    run = secrets.token_hex(4)
    copy = KeySpace(redis_prefix, projection.name, namespace=venue_copy_namespace(venue_id, run))
    part = venue_part(venue_id)
    # Under the default venue's pattern the script keeps only the default venue's keys.
    live_pattern = _glob_escape(live.root + part) + "*"
    swap = redis.register_script(_SWAP_LUA)
    try:
        filled, detail = ORIGIN, "(never read)"
        for _ in range(attempts):
            checkpoint = await read_redis_checkpoint(redis, live.checkpoint)
            if checkpoint is None:
                raise VenueRebuildFailed(
                    f"{projection.name}: the live model has no checkpoint (lost, or never"
                    " built); the daemon builds it from the first event"
                )
            if checkpoint < filled:
                raise VenueRebuildFailed(
                    f"{projection.name}: the checkpoint went back from {filled} to"
                    f" {checkpoint}; nothing was swapped, run the rebuild again"
                )
            await _fill_redis(redis, projection, copy, read, codec, filled, checkpoint, progress)
            filled = checkpoint
            version = f"{filled}+r{secrets.token_hex(4)}" if projection.name == AVAILABILITY else ""
            outcome, seen = await swap(
                keys=[],
                args=[
                    live.checkpoint,
                    str(filled),
                    live.root,
                    part,
                    live_pattern,
                    copy.root,
                    copy.root + "*",
                    version,
                    VERSION,
                ],
            )
            if _text(outcome) == "OK":
                return filled
            detail = _text(seen)
            log.info(
                "checkpoint moved before the swap; catching the copy up",
                extra={"projection": projection.name, "position": detail},
            )
        raise VenueRebuildFailed(
            f"{projection.name}: the checkpoint moved on {attempts} times before the swap"
            f" (last seen {detail}); nothing was swapped, try again when the log is"
            " quieter"
        )
    finally:
        await clear_keys(redis, copy.root)


# --- both -------------------------------------------------------------------------------


async def rebuild_venue(
    *,
    venue_id: str,
    codec: EventCodec,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    sql_projections: Sequence[SqlProjection] = (),
    redis_projections: Sequence[RedisProjection] = (),
    batch_size: int = 5000,
    progress: Progress | None = None,
    attempts: int = SWAP_ATTEMPTS,
) -> dict[str, ConsistencyToken]:
    """Rebuild the venue's part of each projection and swap it in; return, for each, the
    checkpoint its venue part now stands at (the live checkpoint at the swap)."""
    check_prefix(redis_prefix)
    read = VenueReader(pool, venue_id, batch_size)
    done: dict[str, ConsistencyToken] = {}
    for sql_projection in sql_projections:
        done[sql_projection.name] = await _rebuild_sql(
            sql_projection,
            venue_id=venue_id,
            codec=codec,
            pool=pool,
            read=read,
            progress=progress,
        )
    for redis_projection in redis_projections:
        done[redis_projection.name] = await _rebuild_redis(
            redis_projection,
            venue_id=venue_id,
            codec=codec,
            redis=redis,
            redis_prefix=redis_prefix,
            read=read,
            progress=progress,
            attempts=attempts,
        )
    return done
