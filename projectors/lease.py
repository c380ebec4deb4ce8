"""The projector lease: of the daemons that run the same projections, one applies them.

Two or more `tablebook projectors run` may run at once; they compete for a lease kept in
PostgreSQL (`projector_leases`, one row per lease). The one holding it applies the
projections; the others stand by, looking every twelfth of the lease's time. A standby
takes the lease when its holder's server session has ended, or once its time has run out:

- the holder keeps open the connection it took the lease on, and the row names that
  session (process id and start). A holder that dies (kill -9, a crash, the OOM killer)
  takes its session with it, so a standby sees it gone and takes over at its next look;
- the holder renews the lease every third of its time, so one that is frozen or cut off
  from PostgreSQL (its session still open) is replaced once its time has run out.

Every time is PostgreSQL's (`clock_timestamp()`): the daemons' clocks may disagree with
it and with each other, and never decide who holds the lease. A holder measures only
durations on its own clock: having asked for a renewal at `t` (monotonic), it counts its
lease as good until `t` plus the lease's time, which PostgreSQL, having received the
request after `t`, cannot end sooner.

Each taking of the lease is a *tenure* with its own epoch, one more than the last. The
epoch is the fencing token: a SQL batch checks, in its own transaction and under a key-
share lock of the lease row, that the lease is still held by its tenure and not run out
(`Tenure.fence`). A taking locks the row for update, so it waits for the batches under
way and every later batch of the old tenure sees the new epoch and is refused: a paused
or cut-off holder that wakes up applies nothing. The same check arms PostgreSQL's
`idle_in_transaction_session_timeout` for the batch, so a holder frozen in the middle of
one cannot keep its locks (and the next holder) waiting. Redis batches are fenced by their
checkpoint: the script applies a batch only if the checkpoint is still the one it was
read after (`projectors.runner.RedisApplier`), so a stale holder's batch finds it moved
and is dropped; the holder also stops sending them once its own count has run out.
What a Redis projection writes to PostgreSQL (parking a venue whose event fails, lifting
the park) goes under the SQL fence, so a stale holder cannot park a venue its successor
projects.

The holder stops applying as soon as its lease is lost: refused by a fence, not renewed
(taken over, run out), or PostgreSQL unreachable. It logs one line, lets the batch in hand
end (refused if the lease has gone), and competes again, with a backoff while PostgreSQL
is away. On SIGTERM it releases the lease, so a standby takes it at its next look.

One log line per step of a lease: acquired, taken over (from a holder gone, or whose time
ran out), lost, released, and standing by (once, when another holds it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.errors import LockNotAvailable
from psycopg_pool import AsyncConnectionPool

from resilience.backoff import Backoff, log_retry
from resilience.faults import POSTGRES, SERVER_FAULTS

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "Lease",
    "LeaseLost",
    "LeaseState",
    "Tenure",
    "holder_id",
    "lease_name",
    "read_leases",
]

log = logging.getLogger("tablebook.projectors")

DEFAULT_LEASE_SECONDS = 3.0

_CREATE = "INSERT INTO projector_leases (name) VALUES (%s) ON CONFLICT DO NOTHING"

_LOCK = """
SELECT 1 FROM projector_leases WHERE name = %(name)s FOR UPDATE
"""

# Once the row is locked, so that this transaction's first look at pg_stat_activity
# (which it keeps until it ends) comes after any taking it waited for.
_FREE = """
SELECT holder, epoch,
       CASE WHEN holder IN ('', %(holder)s) THEN 'free'
            WHEN expires_at <= clock_timestamp() THEN 'ran out'
            WHEN NOT EXISTS (
                SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.session_pid
                AND (a.backend_start IS NULL OR a.backend_start = l.session_start)
            ) THEN 'holder gone'
       END
FROM projector_leases l WHERE name = %(name)s
"""

_TAKE = """
UPDATE projector_leases
SET holder = %(holder)s, epoch = epoch + 1, acquired_at = clock_timestamp(),
    expires_at = clock_timestamp() + make_interval(secs => %(seconds)s),
    session_pid = pg_backend_pid(),
    session_start = (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())
WHERE name = %(name)s
RETURNING epoch, expires_at
"""

_RENEW = """
WITH renewed AS (
    UPDATE projector_leases
    SET expires_at = clock_timestamp() + make_interval(secs => %(seconds)s)
    WHERE name = %(name)s AND holder = %(holder)s AND epoch = %(epoch)s
      AND expires_at > clock_timestamp()
    RETURNING expires_at
)
SELECT (SELECT expires_at FROM renewed), holder, epoch
FROM projector_leases WHERE name = %(name)s
"""

_FENCE = """
SELECT holder = %(holder)s AND epoch = %(epoch)s AND expires_at > clock_timestamp(),
       holder, epoch,
       set_config('idle_in_transaction_session_timeout', %(idle_ms)s, true)
FROM projector_leases WHERE name = %(name)s FOR KEY SHARE
"""

_RELEASE = """
UPDATE projector_leases SET holder = '', expires_at = clock_timestamp()
WHERE name = %(name)s AND holder = %(holder)s AND epoch = %(epoch)s
"""

_STATES = """
SELECT name, holder, epoch, acquired_at, expires_at,
       extract(epoch FROM expires_at - clock_timestamp())::float8
FROM projector_leases ORDER BY name
"""


class LeaseLost(Exception):
    """This daemon no longer holds the lease: nothing more may be applied under it."""


def holder_id() -> str:
    """This daemon, as the lease names it: host, process, and a few random characters (a
    restarted container may reuse both)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


def lease_name(projections: Sequence[str] = ()) -> str:
    """The lease of daemons running `projections` (every projection when none is named):
    daemons compete only with those running the same ones."""
    if not projections:
        return "projectors"
    return "projectors:" + ",".join(sorted(set(projections)))


class Tenure:
    """One holding of the lease, from its taking until it is lost or released.

    `stopped` is set when the holding ends, whatever the reason: what runs under the
    lease stops on it.
    """

    def __init__(
        self, lease: Lease, epoch: int, granted_at: float, session: AsyncConnection[Any]
    ) -> None:
        self.name = lease.name
        self.holder = lease.holder
        self.epoch = epoch
        self.stopped = asyncio.Event()
        self.lost = False
        self.session = session
        """The connection the lease was taken on, open while it is held: when this process
        dies, its server session ends with it, and a standby takes the lease at once."""
        self._seconds = lease.seconds
        self._deadline = granted_at + lease.seconds

    def extend(self, asked_at: float) -> None:
        self._deadline = asked_at + self._seconds

    def remaining(self) -> float:
        """Seconds the lease is good for by this daemon's own count (never longer than by
        PostgreSQL's)."""
        return self._deadline - time.monotonic()

    def lose(self, reason: str, **context: object) -> None:
        """End the holding because the lease is gone: one log line, once."""
        if self.lost:
            return
        self.lost = True
        self.stopped.set()
        log.warning(
            "lease lost",
            extra={"lease": self.name, "holder": self.holder, "epoch": self.epoch,
                   "reason": reason, **context},
        )  # fmt: skip

    def ensure_held(self) -> None:
        """Raise `LeaseLost` unless the lease is still held, by this daemon's count."""
        if self.lost:
            raise LeaseLost(f"{self.name}: epoch {self.epoch} is over")
        if self.remaining() <= 0:
            self.lose("not renewed in time")
            raise LeaseLost(f"{self.name}: epoch {self.epoch} ran out")

    async def fence(self, connection: AsyncConnection[Any]) -> None:
        """In the caller's transaction: go on only if this tenure still holds the lease,
        and keep any new holder from taking it until the transaction ends."""
        self.ensure_held()
        cursor = await connection.execute(
            _FENCE,
            {
                "name": self.name,
                "holder": self.holder,
                "epoch": self.epoch,
                "idle_ms": str(int(self._seconds * 1000)),
            },
        )
        row = await cursor.fetchone()
        if row is None or not row[0]:
            holder, epoch = (row[1], row[2]) if row else ("", 0)
            self.lose("fenced", now_held_by=holder or "nobody", now_epoch=epoch)
            raise LeaseLost(f"{self.name}: epoch {self.epoch} is over")


@dataclass(frozen=True, slots=True)
class LeaseState:
    """A lease as `tablebook projectors status` shows it (times from PostgreSQL)."""

    name: str
    holder: str
    epoch: int
    acquired_at: datetime
    expires_at: datetime
    seconds_left: float


async def read_leases(connection: AsyncConnection[Any]) -> list[LeaseState]:
    cursor = await connection.execute(_STATES)
    return [
        LeaseState(row[0], row[1], int(row[2]), row[3], row[4], float(row[5] or 0.0))
        for row in await cursor.fetchall()
    ]


Work = Callable[[Tenure], Coroutine[Any, Any, None]]


class Lease:
    """One daemon's side of a lease: take it, keep it, give it up."""

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        name: str,
        holder: str,
        *,
        seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.pool = pool
        self.name = name
        self.holder = holder
        self.seconds = seconds
        self.renew_every = seconds / 3
        self.look_every = seconds / 12
        self._sessions: set[AsyncConnection[Any]] = set()

    def _params(self, **more: object) -> dict[str, object]:
        return {"name": self.name, "holder": self.holder, "seconds": self.seconds, **more}

    async def try_take(self) -> Tenure | None:
        """Take the lease if nobody holds it, its time ran out or its holder's session has
        ended (the process died); None if another holds it. Waits for the batches under
        way of the tenure it replaces."""
        session = await self.pool.getconn()
        found = None
        try:
            await session.execute(_CREATE, (self.name,))
            with contextlib.suppress(LockNotAvailable):  # a batch of the holder's at work
                found = await self._take(session)
        finally:
            if found is None:
                await self.pool.putconn(session)
        if found is None:
            return None
        previous, previous_epoch, why, epoch, until, asked_at = found
        tenure = Tenure(self, epoch, asked_at, session)
        self._sessions.add(session)
        extra: dict[str, object] = {
            "lease": self.name,
            "holder": self.holder,
            "epoch": tenure.epoch,
            "until": until.isoformat(),
        }
        if previous not in ("", self.holder):
            extra |= {"from": previous, "from_epoch": previous_epoch, "because": why}
            log.info("lease taken over", extra=extra)
        else:
            log.info("lease acquired", extra=extra)
        return tenure

    async def end_session(self, tenure: Tenure) -> None:
        """Close the connection the tenure holds the lease on (after a release, or once
        it is lost)."""
        await self._end(tenure.session)

    async def _end(self, session: AsyncConnection[Any]) -> None:
        if session in self._sessions:
            self._sessions.discard(session)
            with contextlib.suppress(Exception):
                await session.close()
            await self.pool.putconn(session)

    async def close(self) -> None:
        """End every session still held (a daemon on its way out)."""
        for session in list(self._sessions):
            await self._end(session)

    async def _take(
        self, connection: AsyncConnection[Any]
    ) -> tuple[str, int, str, int, datetime, float] | None:
        """(previous holder, its epoch, why it is free, our epoch, until, when we asked by
        our clock), or None if the lease is held."""
        # A look without a lock first: a standby looks several times a second while the
        # lease is held, and a lock each time would let a standby frozen mid-look hold up
        # the holder's renewals and batches.
        async with connection.transaction():
            cursor = await connection.execute(_FREE, self._params())
            row = await cursor.fetchone()
        if row is None or row[2] is None:
            return None
        limit = str(int(self.seconds * 1000))
        async with connection.transaction():
            # Neither waiting for the row's lock, nor (frozen) keeping it, past the lease time.
            await connection.execute(
                "SELECT set_config('lock_timeout', %s, true),"
                " set_config('idle_in_transaction_session_timeout', %s, true)",
                (limit, limit),
            )
            await connection.execute(_LOCK, self._params())
            cursor = await connection.execute(_FREE, self._params())
            row = await cursor.fetchone()
            assert row is not None
            if row[2] is None:
                return None
            asked_at = time.monotonic()
            cursor = await connection.execute(_TAKE, self._params())
            taken = await cursor.fetchone()
            assert taken is not None
        return row[0], int(row[1]), row[2], int(taken[0]), taken[1], asked_at

    async def renew(self, tenure: Tenure) -> bool:
        """Push the lease's end on; False (and the tenure lost) if it is no longer held."""
        asked_at = time.monotonic()
        async with self.pool.connection() as connection:
            cursor = await connection.execute(_RENEW, self._params(epoch=tenure.epoch))
            row = await cursor.fetchone()
        if row is not None and row[0] is not None:
            tenure.extend(asked_at)
            return True
        holder, epoch = (row[1], row[2]) if row else ("", 0)
        if holder == self.holder and epoch == tenure.epoch:
            tenure.lose("ran out before renewal")
        else:
            tenure.lose("taken over", now_held_by=holder or "nobody", now_epoch=epoch)
        return False

    async def release(self, tenure: Tenure) -> None:
        """Give the lease up at once, so that a standby need not wait for it to run out."""
        tenure.stopped.set()
        try:
            async with self.pool.connection() as connection:
                await connection.execute(_RELEASE, self._params(epoch=tenure.epoch))
        finally:
            await self.end_session(tenure)
        log.info(
            "lease released",
            extra={"lease": self.name, "holder": self.holder, "epoch": tenure.epoch},
        )

    async def acquire(self, stop: asyncio.Event) -> Tenure | None:
        """Wait until the lease is ours (None if `stop` comes first). PostgreSQL being
        away is waited out with a backoff, one line per retry."""
        backoff = Backoff()
        standing_by = False
        while not stop.is_set():
            try:
                tenure = await self.try_take()
            except SERVER_FAULTS as error:
                delay = backoff.failed()
                log_retry(log, POSTGRES, backoff, delay, error, lease=self.name)
                await _wait(stop, delay)
                continue
            backoff.succeeded()
            if tenure is not None:
                return tenure
            if not standing_by:
                standing_by = True
                with contextlib.suppress(*SERVER_FAULTS):  # only a log line
                    await self._log_standing_by()
            await _wait(stop, self.look_every)
        return None

    async def _log_standing_by(self) -> None:
        async with self.pool.connection() as connection:
            states = [s for s in await read_leases(connection) if s.name == self.name]
        extra: dict[str, object] = {"lease": self.name, "holder": self.holder}
        if states:
            extra |= {"held_by": states[0].holder, "until": states[0].expires_at.isoformat()}
        log.info("lease held elsewhere; standing by", extra=extra)

    async def keep(self, tenure: Tenure) -> None:
        """Renew the lease until the tenure ends; a renewal that fails or comes too late
        ends it."""
        while not await _wait(tenure.stopped, self.renew_every):
            try:
                async with asyncio.timeout(max(tenure.remaining(), 0.0)):
                    if not await self.renew(tenure):
                        return
            except TimeoutError:
                tenure.lose("not renewed in time")
                return
            except SERVER_FAULTS as error:
                tenure.lose("PostgreSQL unavailable", error=type(error).__name__)
                return
            except Exception as error:  # not renewed is lost, whatever the cause
                tenure.lose("renewal failed", error=type(error).__name__)
                return

    async def hold(self, stop: asyncio.Event, work: Work) -> None:
        """Until `stop`: take the lease, run `work` while it is held, and when it is lost
        compete for it again. `work(tenure)` must return soon after `tenure.stopped`."""
        try:
            while not stop.is_set():
                tenure = await self.acquire(stop)
                if tenure is None:
                    return
                await self._serve(tenure, stop, work)
        finally:
            await self.close()

    async def _serve(self, tenure: Tenure, stop: asyncio.Event, work: Work) -> None:
        relay = asyncio.create_task(_relay(stop, tenure.stopped))
        keeping = asyncio.create_task(self.keep(tenure))
        working = asyncio.create_task(work(tenure))
        try:
            await asyncio.wait({keeping, working}, return_when=asyncio.FIRST_COMPLETED)
            tenure.stopped.set()
            # A lost lease gives the batch in hand a lease's time to end (refused by its
            # fence); a stop, all the time it needs.
            await asyncio.wait({working}, timeout=self.seconds if tenure.lost else None)
            if not working.done():
                log.warning("work under a lost lease cancelled", extra={"lease": self.name})
                working.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await working
        finally:
            for task in (relay, keeping, working):
                task.cancel()
            await asyncio.gather(relay, keeping, working, return_exceptions=True)
            if tenure.lost:
                await self.end_session(tenure)
            else:
                try:
                    await self.release(tenure)
                except SERVER_FAULTS as error:
                    log.warning(
                        "lease not released; it runs out by itself",
                        extra={"lease": self.name, "error": type(error).__name__},
                    )


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds` for `event`; whether it is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
    return event.is_set()
