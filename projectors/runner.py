"""The projector daemon: every projection follows the event log on its own checkpoint.

Each projection runs as its own task: read a batch after its checkpoint (gap-free, see
`booking_core.store`), decode it, apply it together with the checkpoint move, repeat;
when caught up, sleep until an append is announced (LISTEN) or the poll interval passes,
but keep looking while an announced event is still held back (`Follower`).
SIGTERM or Ctrl-C lets the batch in hand finish, then the daemon exits 0.

An event a projection's code cannot apply parks its venue for that projection, and the
other venues' events go on being applied (`projectors.parking`); each round first resumes
the venues an operator unparked.

Where several daemons run (`projectors.lease`), each runner is given the tenure of the
lease it runs under: a SQL batch checks it in its own transaction (the fence), a Redis
batch is not sent once it has run out, and `LeaseLost` ends the runner's work quietly.

One structured log line per batch: projection, events, position, lag.
"""

from __future__ import annotations

import asyncio
import bisect
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
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from booking_core.codec import EventCodec
from booking_core.domain.streams import venue_of
from booking_core.store import ORIGIN, ConsistencyToken, EventStore, RecordedEvent
from booking_core.store.subscription import Follower
from projectors import metrics
from projectors.base import (
    Decoded,
    KeySpace,
    RedisCommand,
    RedisProjection,
    SqlProjection,
    TableNames,
)
from projectors.checkpoints import (
    create_sql_checkpoints,
    lock_sql_checkpoints,
    parse_checkpoint,
    peek_sql_checkpoint,
    read_sql_checkpoints,
    write_sql_checkpoints,
)
from projectors.lease import LeaseLost, Tenure
from projectors.parking import (
    Held,
    apply_sql_part,
    clear_park,
    held_venues,
    is_held,
    lock_park,
    park,
    resume_requested,
    venue_events,
)
from resilience.backoff import Backoff, log_retry
from resilience.faults import POSTGRES, REDIS, SERVER_FAULTS, unavailable_server

__all__ = [
    "GroupRunner",
    "ProjectionRunner",
    "RedisApplier",
    "RedisProjectionRunner",
    "SqlProjectionRunner",
    "decode_batch",
    "grouped",
    "run_until_stopped",
]

log = logging.getLogger("tablebook.projectors")

_APPLY_LUA = (Path(__file__).parent / "_apply_redis.lua").read_text()
_READY_LUA = (Path(__file__).parent / "_ready_redis.lua").read_text()
# `catch_up`: how often, and after what pause, a read that found nothing is tried again
# while the log's head lies further on.
_SECOND_LOOKS = 3
_SECOND_LOOK_PAUSE = 0.01
_encode_json = msgspec.json.Encoder().encode


def decode_batch(codec: EventCodec, records: Sequence[RecordedEvent]) -> list[Decoded]:
    return [(record, codec.decode(record)) for record in records]


def _token_of(item: Decoded) -> ConsistencyToken:
    return item[0].token


def part_after(
    batch: Sequence[Decoded], read_after: ConsistencyToken, checkpoint: ConsistencyToken
) -> list[Decoded]:
    """What of `batch`, read after `read_after`, lies past `checkpoint`: nothing if the
    checkpoint is behind where the batch starts (applying it would skip events)."""
    if checkpoint < read_after:
        return []
    return list(batch[bisect.bisect_right(batch, checkpoint, key=_token_of) :])


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
    def keys(self) -> KeySpace:
        return self._keys

    @property
    def redis(self) -> Redis:
        return self._redis

    @property
    def checkpoint_key(self) -> str:
        return self._keys.checkpoint

    @property
    def ready_key(self) -> str:
        return self._keys.ready

    async def checkpoint(self) -> ConsistencyToken | None:
        return parse_checkpoint(await self._redis.get(self._keys.checkpoint))

    async def apply(
        self,
        projection: RedisProjection,
        after: ConsistencyToken | None,
        batch: Sequence[Decoded],
    ) -> ConsistencyToken:
        token = batch[-1][0].token
        await self.run(after, token, projection.commands(self._keys, batch))
        return token

    async def run(
        self, after: ConsistencyToken | None, token: ConsistencyToken, commands: list[RedisCommand]
    ) -> None:
        """Run `commands` and move the checkpoint from `after` to `token`, atomically, if
        the checkpoint is still `after` (StaleCheckpoint otherwise)."""
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

    async def mark_ready(self, checkpoint: ConsistencyToken | None = None) -> None:
        """Mark the model readable; with `checkpoint`, only while the model's checkpoint
        is still that one (see `mark_all_ready`)."""
        if checkpoint is None:
            await self._redis.set(self.ready_key, "1")
        else:
            await RedisApplier.mark_all_ready([(self, checkpoint)])

    @staticmethod
    async def mark_all_ready(caught_up: Sequence[tuple[RedisApplier, ConsistencyToken]]) -> None:
        """Mark several models readable in one round trip (they share one Redis), each
        only while its checkpoint is still the one it was found caught up at: a model
        lost meanwhile (a failover to a master that has not got it) stays unready, and
        is built again from the start."""
        redis = caught_up[0][0].redis
        await redis.register_script(_READY_LUA)(
            keys=[
                key
                for applier, _ in caught_up
                for key in (applier.checkpoint_key, applier.ready_key)
            ],
            args=[str(checkpoint) for _, checkpoint in caught_up],
        )


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
        tenure: Tenure | None = None,
    ) -> None:
        """With `tenure`, nothing is applied once that holding of the lease is over."""
        self.name = name
        self._store = store
        self._codec = codec
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self.tenure = tenure
        self._read_up_to: ConsistencyToken | None = None

    async def step(self) -> int:
        """Apply at most one batch; return how many events it held."""
        raise NotImplementedError

    async def _read(self, after: ConsistencyToken) -> tuple[list[RecordedEvent], list[Decoded]]:
        records = await self._store.read_all(after, self._batch_size)
        self._read_up_to = after  # until the batch is applied, this is where it stands
        return records, decode_batch(self._codec, records)

    def log_batch(self, batch: Sequence[RecordedEvent] | Sequence[Decoded], seconds: float) -> None:
        """One structured line for a batch applied (records, or decoded records)."""
        records = [item[0] if isinstance(item, tuple) else item for item in batch]
        metrics.batch_applied(self.name, len(records), seconds)
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
        """Follow the log until `stop` is set. A server that goes away never ends it: the
        round is tried again after a backoff, one log line per retry."""
        backoff = Backoff()
        async with self._store.wakeups() as wakeups:
            follower = Follower(wakeups, self._poll_interval)
            while not stop.is_set():
                try:
                    applied = await self.step()
                except Exception as error:
                    await self._failed(error, backoff, stop)
                    continue
                backoff.succeeded()
                if applied:
                    follower.found()
                else:
                    await follower.wait(stop, self._read_up_to)

    async def _failed(self, error: Exception, backoff: Backoff, stop: asyncio.Event) -> None:
        """Wait before the next round: with backoff when a server is unavailable (one
        line), the poll interval after any other error (with its traceback). A lost
        lease has set `stop` and said so already."""
        if isinstance(error, LeaseLost):
            return
        server = unavailable_server(error)
        metrics.round_failed(self.name, unavailable=server is not None)
        if server is None:
            log.exception("batch failed; retrying", extra={"projection": self.name})
            await _sleep_or_stop(stop, self._poll_interval)
            return
        delay = backoff.failed()
        log_retry(log, server, backoff, delay, error, projection=self.name)
        await _sleep_or_stop(stop, delay)

    async def catch_up(self) -> int:
        """Apply batches until none is left; return how many events were applied.

        A read can find nothing though events wait: a transaction of another database
        that ends while the read runs holds its horizon back for that moment
        (`tb_read_horizon` cannot tell its database any more). So when a read finds
        nothing and the log's head, asked afresh, lies further on, the runner looks
        again (a few times, briefly) before it counts itself caught up."""
        total = 0
        second_looks = _SECOND_LOOKS
        while True:
            applied = await self.step()
            total += applied
            if applied:
                continue
            at = self._read_up_to
            if second_looks == 0 or at is None or await self._store.head() <= at:
                return total
            second_looks -= 1
            await asyncio.sleep(_SECOND_LOOK_PAUSE)


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
        self.pool = pool
        self.tables = TableNames.live(projection.tables)

    async def step(self) -> int:
        """Read a batch, then apply it with the checkpoint in one short transaction.

        The events are read before the transaction starts: a transaction that holds an
        id keeps every reader's horizon (`pg_snapshot_xmin`) behind it, so it should
        live no longer than the writes need.
        """
        await resume_unparked(self.pool, [self])
        async with self.pool.connection() as connection:
            after = await peek_sql_checkpoint(connection, self.name)
        records, batch = await self._read(after)
        if not records:
            return 0
        return (await apply_sql_together([self], batch, after)).get(self.name, 0)

    async def resume(self, venue_id: str) -> None:
        """Apply the parked venue's held-back events, from the failing one up to the
        checkpoint, and lift the park: one transaction that holds the checkpoint's lock,
        so the venue's later events cannot be applied before these."""
        async with self.pool.connection() as connection, connection.transaction():
            checkpoint = (await lock_sql_checkpoints(connection, [self.name]))[self.name]
            parked = await lock_park(connection, self.name, venue_id)
            if parked is None or parked.resume_requested_at is None:
                return
            records = await venue_events(self._store, venue_id, parked.token, checkpoint)
            if self.tenure is not None:
                # After the read (over other connections, however long it takes): the
                # fence ends a transaction left idle past the lease time.
                await self.tenure.fence(connection)
            held: Held = {}
            batch = decode_batch(self._codec, records)
            await apply_sql_part(connection, self.projection, self.tables, batch, held)
            if venue_id not in held:
                await clear_park(connection, self.name, venue_id, parked.token)


async def apply_sql_together(
    members: Sequence[SqlProjectionRunner], batch: Sequence[Decoded], after: ConsistencyToken
) -> dict[str, int]:
    """Apply to each member what of `batch` (read after `after`) lies past its checkpoint,
    with the checkpoints' moves, in one transaction; return how many events each took.

    The checkpoints are locked first. If one moved meanwhile (a rebuild swapped its
    tables in), only what lies past it is applied; if it went back (a reset), nothing.
    A parked venue's events are held back, and an event a member fails on parks its
    venue (`projectors.parking`); the checkpoints move past both. The members share one
    pool, and the tenure of the lease they run under, if any: fenced, nothing is applied
    once it is over.
    """
    began = time.perf_counter()
    tenure = members[0].tenure
    try:
        async with members[0].pool.connection() as connection, connection.transaction():
            if tenure is not None:
                await tenure.fence(connection)
            locked = await lock_sql_checkpoints(connection, [m.name for m in members])
            parts = [(m, part_after(batch, after, locked[m.name])) for m in members]
            held = await held_venues(connection, [m.name for m, part in parts if part])
            for member, part in parts:
                if part:
                    venues = held.setdefault(member.name, {})
                    await apply_sql_part(connection, member.projection, member.tables, part, venues)
            moved = {m.name: part[-1][0].token for m, part in parts if part}
            if moved:
                await write_sql_checkpoints(connection, moved)
    except Exception:
        if tenure is not None:
            # Cut short by the lease's end (the server ends a frozen holder's batch):
            # the lease's matter, not the projections'.
            tenure.ensure_held()
        raise
    seconds = time.perf_counter() - began
    for member, part in parts:
        if part:
            member.log_batch(part, seconds)
    return {m.name: len(part) for m, part in parts if part}


class RedisProjectionRunner(ProjectionRunner):
    def __init__(
        self,
        projection: RedisProjection,
        store: EventStore,
        codec: EventCodec,
        redis: Redis,
        redis_prefix: str,
        *,
        pool: AsyncConnectionPool[Any] | None = None,
        **options: Any,
    ) -> None:
        """With `pool` (where parks are kept), an event the projection fails on parks its
        venue; without, the failure stops the projection, as it used to."""
        super().__init__(projection.name, store, codec, **options)
        self.projection = projection
        self.applier = RedisApplier(redis, KeySpace(redis_prefix, projection.name))
        self.pool = pool

    async def step(self) -> int:
        if self.pool is not None:
            await resume_unparked(self.pool, [self])
        after = await self.applier.checkpoint()
        records, batch = await self._read(after or ORIGIN)
        if not records:
            if after is not None:
                await self.applier.mark_ready(after)
            return 0
        return len(records) if await self.apply_part(after, batch) else 0

    async def apply_part(self, after: ConsistencyToken | None, part: Sequence[Decoded]) -> bool:
        """Apply `part`, read after `after`, with the checkpoint's move; False if the
        checkpoint had moved elsewhere (nothing applied: read again)."""
        began = time.perf_counter()
        held = await self._held()
        todo = [item for item in part if not is_held(held, item[0])]
        self._ensure_held()
        try:
            try:
                commands = self.projection.commands(self.applier.keys, todo) if todo else []
                await self.applier.run(after, part[-1][0].token, commands)
            except StaleCheckpoint:
                raise
            except Exception as error:
                if self.pool is None or unavailable_server(error):
                    raise
                log.warning(
                    "batch failed; applying its events one at a time",
                    extra={"projection": self.name},
                )
                await self._apply_one_at_a_time(after, part, held)
        except StaleCheckpoint:
            log.info("checkpoint moved elsewhere; reloading", extra={"projection": self.name})
            return False
        self.log_batch(part, time.perf_counter() - began)
        return True

    def _ensure_held(self) -> None:
        """No Redis batch once the lease has run out by our count; one already sent is
        refused by its checkpoint if another holder has moved it meanwhile."""
        if self.tenure is not None:
            self.tenure.ensure_held()

    async def _held(self) -> Held:
        if self.pool is None:
            return {}
        async with self.pool.connection() as connection:
            return (await held_venues(connection, [self.name])).get(self.name, {})

    async def _park(self, record: RecordedEvent, error: Exception, held: Held) -> None:
        """Park the record's venue: under the lease's fence, so a holder that has lost
        the lease (paused past its term) cannot park a venue its successor projects."""
        assert self.pool is not None
        self._ensure_held()
        async with self.pool.connection() as connection, connection.transaction():
            if self.tenure is not None:
                await self.tenure.fence(connection)
            await park(connection, self.name, record, error)
        held[venue_of(record.stream_id)] = record.token

    async def _apply_one_at_a_time(
        self, after: ConsistencyToken | None, part: Sequence[Decoded], held: Held
    ) -> None:
        """Apply `part` event by event, each with its checkpoint move; one that fails
        parks its venue (recorded before the checkpoint moves past it)."""
        at = after
        for item in part:
            record = item[0]
            if is_held(held, record):
                continue
            self._ensure_held()
            try:
                commands = self.projection.commands(self.applier.keys, [item])
                await self.applier.run(at, record.token, commands)
            except StaleCheckpoint:
                raise
            except Exception as error:
                if unavailable_server(error):
                    raise
                await self._park(record, error, held)
                continue
            at = record.token
        last = part[-1][0].token
        if at != last:
            self._ensure_held()
            await self.applier.run(at, last, [])

    async def resume(self, venue_id: str) -> None:
        """Apply the parked venue's held-back events, from the failing one up to the
        checkpoint (which stays where it is), then lift the park. Applying an event again
        is harmless: the commands are idempotent per event."""
        assert self.pool is not None
        checkpoint = await self.applier.checkpoint()
        async with self.pool.connection() as connection:
            parked = await lock_park(connection, self.name, venue_id)
        if parked is None or parked.resume_requested_at is None:
            return
        found = (
            []
            if checkpoint is None
            else await venue_events(self._store, venue_id, parked.token, checkpoint)
        )
        for item in decode_batch(self._codec, found):
            self._ensure_held()
            try:
                commands = self.projection.commands(self.applier.keys, [item])
                await self.applier.run(checkpoint, checkpoint or ORIGIN, commands)
            except StaleCheckpoint:
                return  # the checkpoint moved: resumed on a later round
            except Exception as error:
                if unavailable_server(error):
                    raise
                await self._park(item[0], error, {})
                return
        async with self.pool.connection() as connection, connection.transaction():
            if self.tenure is not None:
                await self.tenure.fence(connection)
            await clear_park(connection, self.name, venue_id, parked.token)


Member = SqlProjectionRunner | RedisProjectionRunner


async def resume_unparked(pool: AsyncConnectionPool[Any], members: Sequence[Member]) -> None:
    """Resume the members' venues that an operator unparked (`projectors.parking`)."""
    by_name = {m.name: m for m in members}
    async with pool.connection() as connection:
        wanted = await resume_requested(connection, list(by_name))
    for name, venue_id in wanted:
        await by_name[name].resume(venue_id)


_TRANSIENT = SERVER_FAULTS
"""Errors of the connection, not of a projection: the round is tried again later."""

_NOT_ITS_OWN: tuple[type[BaseException], ...] = (*SERVER_FAULTS, LeaseLost)
"""Errors that say nothing about a projection's code: never a reason to set it apart."""


class GroupRunner(ProjectionRunner):
    """Several projections fed by one reader: the daemon's way of running them.

    Each round reads every member's checkpoint (one SQL query, one Redis MGET), reads and
    decodes one batch after the furthest-behind of them, then applies to each member the
    part of the batch past its own checkpoint: the SQL members together in one
    transaction that locks and moves all their checkpoints, each Redis member in its own
    checked script, all at once. Per batch that is one read of the log instead of one per
    projection, and one SQL transaction instead of one per SQL projection. The members
    share one PostgreSQL pool and one Redis client.

    No member holds the others back for long:
    - one more than a batch behind the leader (a Redis model that was lost, a projection
      just added) catches up on its own and then rejoins;
    - one whose own code fails is set apart for good and retried by its own runner, so a
      projection stuck on an event stops only itself;
    - connection errors fail the round, which is tried again after a backoff;
      Redis being unreachable does not stop the SQL members, and is tried again after
      a backoff of its own.
    """

    def __init__(
        self, members: Sequence[Member], store: EventStore, codec: EventCodec, **options: Any
    ) -> None:
        super().__init__(",".join(m.name for m in members), store, codec, **options)
        self.sql = [m for m in members if isinstance(m, SqlProjectionRunner)]
        self.redis = [m for m in members if isinstance(m, RedisProjectionRunner)]
        self._apart: list[asyncio.Task[None]] = []
        self._stop: asyncio.Event | None = None  # while `run` runs
        self._redis_backoff = Backoff()
        self._redis_retry_at = 0.0  # while Redis is away, the SQL members go on alone

    async def step(self) -> int:
        sql, redis = list(self.sql), list(self.redis)
        pool = sql[0].pool if sql else next((m.pool for m in redis if m.pool), None)
        if pool is not None:
            await resume_unparked(pool, [*sql, *(m for m in redis if m.pool is not None)])
        sql_at = await self._sql_checkpoints(sql)
        redis_at = await self._redis_checkpoints(redis)
        redis = [m for m in redis if m.name in redis_at]  # Redis may not have answered
        at = [*sql_at.values(), *(ORIGIN if t is None else t for t in redis_at.values())]
        if not at:
            self._read_up_to = None  # nothing to follow for
            return 0
        after = min(at)
        records, batch = await self._read(after)
        if not records:
            caught_up = [(m.applier, t) for m in redis if (t := redis_at[m.name]) is not None]
            if caught_up:
                await RedisApplier.mark_all_ready(caught_up)
            return 0
        last = records[-1].token
        applied = await asyncio.gather(
            self._apply_sql([m for m in sql if sql_at[m.name] < last], batch, after),
            *(self._apply_redis(m, redis_at[m.name], batch, after) for m in redis),
        )
        if len(records) == self._batch_size:
            behind: list[Member] = [m for m in sql if sql_at[m.name] < last]
            behind += [m for m in redis if (redis_at[m.name] or ORIGIN) < last]
            if len(behind) < len(sql) + len(redis):  # and some already had the whole batch
                for member in behind:
                    self._catch_up_apart(member)
        return len(records) if any(applied) else 0

    async def _sql_checkpoints(self, sql: list[SqlProjectionRunner]) -> dict[str, ConsistencyToken]:
        if not sql:
            return {}
        names = [m.name for m in sql]
        async with sql[0].pool.connection() as connection:
            found = await read_sql_checkpoints(connection, names)
            if len(found) < len(names):  # a first batch: rows to lock, made outside it
                await create_sql_checkpoints(connection, names)
        return {name: found.get(name, ORIGIN) for name in names}

    async def _redis_checkpoints(
        self, redis: list[RedisProjectionRunner]
    ) -> dict[str, ConsistencyToken | None]:
        """Each Redis member's checkpoint (None: never built, or lost); none if Redis did
        not answer, so that the SQL members go on without it."""
        if not redis:
            return {}
        if time.monotonic() < self._redis_retry_at:
            return {}
        try:
            raw = await redis[0].applier.redis.mget([m.applier.checkpoint_key for m in redis])
        except (RedisConnectionError, RedisTimeoutError) as error:
            delay = self._redis_backoff.failed()
            self._redis_retry_at = time.monotonic() + delay
            log_retry(log, REDIS, self._redis_backoff, delay, error, projection=self.name)
            return {}
        self._redis_backoff.succeeded()
        return {m.name: parse_checkpoint(r) for m, r in zip(redis, raw, strict=True)}

    async def _apply_sql(
        self, members: list[SqlProjectionRunner], batch: list[Decoded], after: ConsistencyToken
    ) -> bool:
        if not members:
            return False
        try:
            return bool(await apply_sql_together(members, batch, after))
        except _NOT_ITS_OWN:
            raise
        except Exception:
            log.warning("batch failed in the group; applying one at a time", exc_info=True)
        applied = False
        for member in members:
            try:
                applied = bool(await apply_sql_together([member], batch, after)) or applied
            except _NOT_ITS_OWN:
                raise
            except Exception:
                log.exception("projection failed; set apart", extra={"projection": member.name})
                self._set_apart(member)
        return applied

    async def _apply_redis(
        self,
        member: RedisProjectionRunner,
        since: ConsistencyToken | None,
        batch: list[Decoded],
        after: ConsistencyToken,
    ) -> bool:
        part = list(batch) if since is None else part_after(batch, after, since)
        if not part:
            return False
        try:
            return await member.apply_part(since, part)
        except _NOT_ITS_OWN:
            raise
        except Exception:
            log.exception("projection failed; set apart", extra={"projection": member.name})
            self._set_apart(member)
            return False

    def _leave(self, member: Member) -> bool:
        """Take `member` out of the group; False if it was not in it."""
        members: list[Any] = self.sql if isinstance(member, SqlProjectionRunner) else self.redis
        if member not in members:
            return False
        members.remove(member)
        return True

    def _set_apart(self, member: Member) -> None:
        """Leave `member` out of the group; while the group runs, its own runner runs it."""
        metrics.round_failed(member.name, unavailable=False)
        if self._leave(member) and self._stop is not None:
            self._apart.append(asyncio.create_task(self._run_alone(member, self._stop)))

    async def _run_alone(self, member: Member, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await member.run(stop)
            except Exception:
                log.exception(
                    "projection stopped; starting again", extra={"projection": member.name}
                )
                await _sleep_or_stop(stop, self._poll_interval)

    def _join(self, member: Member) -> None:
        if isinstance(member, SqlProjectionRunner):
            self.sql.append(member)
        else:
            self.redis.append(member)

    def _catch_up_apart(self, member: Member) -> None:
        """Let a member more than a batch behind catch up on its own, then rejoin."""
        if self._stop is not None and self._leave(member):
            self._apart.append(asyncio.create_task(self._catch_up(member, self._stop)))

    async def _catch_up(self, member: Member, stop: asyncio.Event) -> None:
        log.info("far behind; catching up on its own", extra={"projection": member.name})
        backoff = Backoff()
        while not stop.is_set():
            try:
                applied = await member.step()
            except LeaseLost:
                return  # the lease's end has set `stop`
            except _TRANSIENT as error:
                delay = backoff.failed()
                server = unavailable_server(error) or POSTGRES
                log_retry(log, server, backoff, delay, error, projection=member.name)
                await _sleep_or_stop(stop, delay)
                continue
            except Exception:
                log.exception("projection failed; set apart", extra={"projection": member.name})
                await self._run_alone(member, stop)
                return
            backoff.succeeded()
            if not applied:
                break
        if not stop.is_set():
            self._join(member)
            log.info("caught up; back in the group", extra={"projection": member.name})

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        try:
            await super().run(stop)
        finally:
            if not stop.is_set():
                for task in self._apart:
                    task.cancel()
            await asyncio.gather(*self._apart, return_exceptions=True)
            self._stop = None


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run_until_stopped(runners: Sequence[ProjectionRunner], stop: asyncio.Event) -> None:
    """Run every projection until `stop` is set; each finishes its batch in hand first."""
    log.info("projectors started", extra={"projections": ",".join(r.name for r in runners)})
    await asyncio.gather(*(runner.run(stop) for runner in runners))
    log.info("projectors stopped")


def grouped(
    runners: Sequence[SqlProjectionRunner | RedisProjectionRunner],
    store: EventStore,
    codec: EventCodec,
    **options: Any,
) -> list[ProjectionRunner]:
    """The runners as the daemon runs them: one group fed by one reader (see `GroupRunner`)."""
    if len(runners) < 2:
        return list(runners)
    return [GroupRunner(runners, store, codec, **options)]
