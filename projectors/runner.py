"""The projector daemon: every projection follows the event log on its own checkpoint.

Each projection runs as its own task: read a batch after its checkpoint (gap-free, see
`booking_core.store`), decode it, apply it together with the checkpoint move, repeat;
when caught up, sleep until an append is announced (LISTEN) or the poll interval passes,
but keep looking while an announced event is still held back (`Follower`).
SIGTERM or Ctrl-C lets the batch in hand finish, then the daemon exits 0.

One structured log line per batch: projection, events, position, lag.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from booking_core.codec import EventCodec
from booking_core.store import ORIGIN, ConsistencyToken, EventStore, RecordedEvent
from booking_core.store.subscription import Follower
from projectors.base import Decoded, KeySpace, RedisProjection, SqlProjection, TableNames
from projectors.checkpoints import (
    lock_sql_checkpoint,
    parse_checkpoint,
    peek_sql_checkpoint,
    write_sql_checkpoint,
)

__all__ = [
    "ProjectionRunner",
    "RedisApplier",
    "RedisProjectionRunner",
    "SqlProjectionRunner",
    "decode_batch",
    "run_until_stopped",
]

log = logging.getLogger("tablebook.projectors")

_APPLY_LUA = (Path(__file__).parent / "_apply_redis.lua").read_text()
_encode_json = msgspec.json.Encoder().encode


def decode_batch(codec: EventCodec, records: Sequence[RecordedEvent]) -> list[Decoded]:
    return [(record, codec.decode(record)) for record in records]


def _lag_seconds(records: Sequence[RecordedEvent]) -> float:
    return max(0.0, (datetime.now(UTC) - records[-1].recorded_at).total_seconds())


class StaleCheckpoint(Exception):
    """Someone else (a rebuild's swap) moved the checkpoint: reload it and go on."""


class RedisApplier:
    """Runs a Redis projection's batch atomically with its checkpoint (one Lua call)."""

    def __init__(self, redis: Redis, keys: KeySpace) -> None:
        self._redis = redis
        self._keys = keys
        self._script = redis.register_script(_APPLY_LUA)

    @property
    def root(self) -> str:
        return self._keys.root

    @property
    def ready_key(self) -> str:
        return self._keys.key("ready")

    async def checkpoint(self) -> ConsistencyToken | None:
        return parse_checkpoint(await self._redis.get(self._keys.checkpoint))

    async def apply(
        self,
        projection: RedisProjection,
        after: ConsistencyToken | None,
        batch: Sequence[Decoded],
    ) -> ConsistencyToken:
        token = batch[-1][0].token
        commands = projection.commands(self._keys, batch)
        if after is None:
            # Built from nothing: not readable until it has caught up (see mark_ready).
            commands.insert(0, ("DEL", self.ready_key))
        args: list[str | bytes] = [
            "" if after is None else str(after),
            str(token),
            _encode_json(commands),
        ]
        try:
            await self._script(keys=[self._keys.checkpoint], args=args)
        except ResponseError as error:
            if str(error).startswith("STALE"):
                raise StaleCheckpoint(str(error)) from error
            raise
        return token

    async def mark_ready(self) -> None:
        await self._redis.set(self.ready_key, "1")


class ProjectionRunner:
    """Follows the log for one projection until told to stop."""

    def __init__(
        self,
        name: str,
        store: EventStore,
        codec: EventCodec,
        *,
        batch_size: int = 1000,
        poll_interval: float = 1.0,
    ) -> None:
        self.name = name
        self._store = store
        self._codec = codec
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._read_up_to: ConsistencyToken | None = None

    async def step(self) -> int:
        """Apply at most one batch; return how many events it held."""
        raise NotImplementedError

    async def _read(self, after: ConsistencyToken) -> tuple[list[RecordedEvent], list[Decoded]]:
        records = await self._store.read_all(after, self._batch_size)
        self._read_up_to = after  # until the batch is applied, this is where it stands
        return records, decode_batch(self._codec, records)

    def _log_batch(self, records: Sequence[RecordedEvent], seconds: float) -> None:
        log.info(
            "batch applied",
            extra={
                "projection": self.name,
                "events": len(records),
                "position": str(records[-1].token),
                "lag_s": round(_lag_seconds(records), 3),
                "apply_ms": round(seconds * 1000, 1),
            },
        )

    async def run(self, stop: asyncio.Event) -> None:
        async with self._store.wakeups() as wakeups:
            follower = Follower(wakeups, self._poll_interval)
            while not stop.is_set():
                try:
                    applied = await self.step()
                except Exception:
                    log.exception("batch failed; retrying", extra={"projection": self.name})
                    await _sleep_or_stop(stop, self._poll_interval)
                    continue
                if applied:
                    follower.found()
                else:
                    await follower.wait(stop, self._read_up_to)

    async def catch_up(self) -> int:
        """Apply batches until none is left; return how many events were applied."""
        total = 0
        while applied := await self.step():
            total += applied
        return total


class SqlProjectionRunner(ProjectionRunner):
    def __init__(
        self,
        projection: SqlProjection,
        store: EventStore,
        codec: EventCodec,
        pool: AsyncConnectionPool[Any],
        **options: Any,
    ) -> None:
        super().__init__(projection.name, store, codec, **options)
        self.projection = projection
        self._pool = pool
        self._tables = TableNames.live(projection.tables)

    async def step(self) -> int:
        """Read a batch, then apply it with the checkpoint in one short transaction.

        The events are read before the transaction starts: a transaction that holds an
        id keeps every reader's horizon (`pg_snapshot_xmin`) behind it, so it should
        live no longer than the writes need. If the checkpoint moved meanwhile (a
        rebuild swapped the tables in), the batch is dropped and read again.
        """
        async with self._pool.connection() as connection:
            after = await peek_sql_checkpoint(connection, self.name)
            records, batch = await self._read(after)
            if not records:
                return 0
            began = time.perf_counter()
            async with connection.transaction():
                if await lock_sql_checkpoint(connection, self.name) != after:
                    return 0
                await self.projection.apply(connection, self._tables, batch)
                await write_sql_checkpoint(connection, self.name, records[-1].token)
        self._log_batch(records, time.perf_counter() - began)
        return len(records)


class RedisProjectionRunner(ProjectionRunner):
    def __init__(
        self,
        projection: RedisProjection,
        store: EventStore,
        codec: EventCodec,
        redis: Redis,
        redis_prefix: str,
        **options: Any,
    ) -> None:
        super().__init__(projection.name, store, codec, **options)
        self.projection = projection
        self._applier = RedisApplier(redis, KeySpace(redis_prefix, projection.name))

    async def step(self) -> int:
        after = await self._applier.checkpoint()
        records, batch = await self._read(after or ORIGIN)
        if not records:
            if after is not None:
                await self._applier.mark_ready()
            return 0
        began = time.perf_counter()
        try:
            await self._applier.apply(self.projection, after, batch)
        except StaleCheckpoint:
            log.info("checkpoint moved elsewhere; reloading", extra={"projection": self.name})
            return 0
        self._log_batch(records, time.perf_counter() - began)
        return len(records)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run_until_stopped(runners: Sequence[ProjectionRunner], stop: asyncio.Event) -> None:
    """Run every projection until `stop` is set; each finishes its batch in hand first."""
    log.info("projectors started", extra={"projections": ",".join(r.name for r in runners)})
    await asyncio.gather(*(runner.run(stop) for runner in runners))
    log.info("projectors stopped")
