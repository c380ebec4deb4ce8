"""`tablebook projectors run | rebuild | status`: the daemon and its maintenance.

Several daemons may run: they share the work through a lease (`projectors.lease`); the
one holding it applies the projections, the others stand by. The notification sender
runs in each of them, as its claims already share the outbox between senders.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

import projectors.registry as registry
from booking_core.store import ConsistencyToken
from booking_core.store.postgres import PostgresEventStore
from projectors.lease import (
    DEFAULT_LEASE_SECONDS,
    Lease,
    LeaseState,
    Tenure,
    holder_id,
    lease_name,
    read_leases,
)
from projectors.notifications import DEFAULT_REMINDER_LEAD
from projectors.parking import list_parks, request_resume
from projectors.rebuild import rebuild
from projectors.runner import (
    RedisProjectionRunner,
    SqlProjectionRunner,
    grouped,
    run_until_stopped,
)
from projectors.venue_rebuild import count_venue_events, rebuild_venue
from read_models.projection_lag import standings
from tablebook.database import SERVICE_POOL_WAIT_SECONDS, open_pool
from tablebook.metrics import LagCollector, serve_daemon_metrics
from tablebook.redis_url import open_redis
from tablebook.settings import ObserveSettings, Settings
from tablebook.venue_lookup import resolve_venue

__all__ = [
    "projection_runners",
    "rebuild_projections",
    "rebuild_venue_projections",
    "run_projectors",
    "show_status",
    "unpark",
]

log = logging.getLogger("tablebook.projectors")


@dataclass(frozen=True)
class Backends:
    pool: AsyncConnectionPool[Any]
    redis: Redis
    store: PostgresEventStore
    redis_prefix: str


@contextlib.asynccontextmanager
async def backends(database_url: str, redis_url: str, redis_prefix: str) -> AsyncIterator[Backends]:
    pool = await open_pool(
        database_url,
        min_size=2,
        max_size=2 * len(registry.names()) + 4,
        wait_seconds=SERVICE_POOL_WAIT_SECONDS,
    )
    try:
        # A master that stops answering (its machine gone) is given up after 10 s, and
        # the round tried again on the master the sentinels name then.
        async with open_redis(
            redis_url, socket_connect_timeout=2, socket_timeout=10, socket_keepalive=True
        ) as redis:
            yield Backends(pool, redis, PostgresEventStore(pool, database_url), redis_prefix)
    finally:
        await pool.close()


def projection_runners(
    b: Backends,
    names: Sequence[str] = (),
    *,
    reminder_lead: timedelta = DEFAULT_REMINDER_LEAD,
    tenure: Tenure | None = None,
) -> list[SqlProjectionRunner | RedisProjectionRunner]:
    """The runners of `names` (every projection when none is named); with `tenure`, they
    apply nothing once that holding of the lease is over."""
    wanted = set(names) or set(registry.names())
    unknown = wanted - set(registry.names())
    if unknown:
        raise ValueError(
            f"unknown projection(s): {', '.join(sorted(unknown))};"
            f" known: {', '.join(registry.names())}"
        )
    runners: list[SqlProjectionRunner | RedisProjectionRunner] = [
        SqlProjectionRunner(p, b.store, registry.codec, b.pool, tenure=tenure)
        for p in registry.SQL_PROJECTIONS
        if p.name in wanted
    ]
    runners += [
        RedisProjectionRunner(
            p, b.store, registry.codec, b.redis, b.redis_prefix, pool=b.pool, tenure=tenure
        )
        for p in registry.REDIS_PROJECTIONS
        if p.name in wanted
    ]
    runners += [
        SqlProjectionRunner(p, b.store, registry.codec, b.pool, tenure=tenure)
        for p in registry.process_managers(reminder_lead)
        if p.name in wanted
    ]
    return runners


@contextlib.asynccontextmanager
async def _metrics(b: Backends, settings: Settings | None) -> AsyncIterator[None]:
    """The daemon's metrics endpoint, if `PROJECTOR_METRICS_PORT` names one."""
    observe = settings.observe if settings else ObserveSettings()
    loop = asyncio.get_running_loop()
    lag = LagCollector(loop, b.pool, b.redis, b.redis_prefix, registry.followed())
    with serve_daemon_metrics(observe.projector_metrics_host, observe.projector_metrics_port, lag):
        yield


async def run_projectors(
    database_url: str,
    redis_url: str,
    redis_prefix: str,
    names: Sequence[str] = (),
    stop: asyncio.Event | None = None,
    settings: Settings | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or `stop`); the batch in hand finishes first. The
    projections are applied only while this daemon holds their lease (`projectors.lease`),
    which it competes for all along. With `settings`, reminders follow its lead time,
    the lease its `PROJECTOR_LEASE_SECONDS` and, unless `NOTIFY_WITH_PROJECTORS` is off,
    the notification sender runs beside the notifications projection, lease or not."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    notify = settings.notifications if settings else None
    lead = timedelta(minutes=notify.reminder_minutes) if notify else DEFAULT_REMINDER_LEAD
    seconds = settings.projector_lease_seconds if settings else DEFAULT_LEASE_SECONDS
    async with backends(database_url, redis_url, redis_prefix) as b, _metrics(b, settings):
        runners = projection_runners(b, names, reminder_lead=lead)
        notifying = any(r.name in registry.PROCESS_MANAGER_NAMES for r in runners)
        lease = Lease(b.pool, lease_name(names), holder_id(), seconds=seconds)

        async def project(tenure: Tenure) -> None:
            held = projection_runners(b, names, reminder_lead=lead, tenure=tenure)
            await run_until_stopped(grouped(held, b.store, registry.codec), tenure.stopped)

        if settings is None or not notify or not notify.with_projectors or not notifying:
            await lease.hold(stop, project)
            return
        from tablebook.notifications import open_sender

        async with open_sender(settings, b.pool, database_url) as sender:
            await asyncio.gather(lease.hold(stop, project), sender.run(stop))


async def _count_events(pool: AsyncConnectionPool[Any]) -> int:
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT count(*) FROM events")
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def _rebuildable(names: Sequence[str]) -> set[str]:
    """The projections to rebuild (every read model when none is named)."""
    never = set(names) & set(registry.PROCESS_MANAGER_NAMES)
    if never:
        raise ValueError(
            f"{', '.join(sorted(never))}: a process manager records messages already sent;"
            " rebuilding it would send them again"
        )
    return set(names) or set(registry.names()) - set(registry.PROCESS_MANAGER_NAMES)


async def rebuild_projections(
    database_url: str, redis_url: str, redis_prefix: str, names: Sequence[str]
) -> ConsistencyToken:
    wanted = _rebuildable(names)
    async with backends(database_url, redis_url, redis_prefix) as b:
        projection_runners(b, list(wanted))  # validates the names
        total = await _count_events(b.pool)
        console = Console(stderr=True)
        with Progress(
            TextColumn("rebuilding {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
        ) as bar:
            task = bar.add_task(", ".join(sorted(wanted)), total=total)
            token = await rebuild(
                store=b.store,
                codec=registry.codec,
                pool=b.pool,
                redis=b.redis,
                redis_prefix=redis_prefix,
                sql_projections=[p for p in registry.SQL_PROJECTIONS if p.name in wanted],
                redis_projections=[p for p in registry.REDIS_PROJECTIONS if p.name in wanted],
                progress=lambda n: bar.advance(task, n),
            )
    log.info("rebuilt", extra={"projections": ",".join(sorted(wanted)), "position": str(token)})
    return token


async def rebuild_venue_projections(
    database_url: str, redis_url: str, redis_prefix: str, names: Sequence[str], venue: str
) -> dict[str, ConsistencyToken]:
    """Rebuild one venue's part of the named read models (all when none is named) while
    the daemon serves every venue (see `projectors.venue_rebuild`)."""
    wanted = _rebuildable(names)
    async with backends(database_url, redis_url, redis_prefix) as b:
        projection_runners(b, list(wanted))  # validates the names
        venue_id = await resolve_venue(b.pool, venue)
        sql_projections = [p for p in registry.SQL_PROJECTIONS if p.name in wanted]
        redis_projections = [p for p in registry.REDIS_PROJECTIONS if p.name in wanted]
        passes = len(sql_projections) + len(redis_projections)
        total = await count_venue_events(b.pool, venue_id) * passes
        console = Console(stderr=True)
        with Progress(
            TextColumn("rebuilding {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
        ) as bar:
            task = bar.add_task(f"{', '.join(sorted(wanted))} of {venue_id}", total=total)
            tokens = await rebuild_venue(
                venue_id=venue_id,
                codec=registry.codec,
                pool=b.pool,
                redis=b.redis,
                redis_prefix=redis_prefix,
                sql_projections=sql_projections,
                redis_projections=redis_projections,
                progress=lambda n: bar.advance(task, n),
            )
    log.info(
        "rebuilt",
        extra={
            "projections": ",".join(sorted(wanted)),
            "venue_id": venue_id,
            "positions": ",".join(f"{name}={token}" for name, token in sorted(tokens.items())),
        },
    )
    return tokens


async def show_status(database_url: str, redis_url: str, redis_prefix: str) -> None:
    async with backends(database_url, redis_url, redis_prefix) as b:
        lags = await standings(
            b.pool, registry.followed(), redis=b.redis, redis_prefix=redis_prefix
        )
        table = Table("projection", "kind", "checkpoint", "behind (events)", "lag (s)")
        for standing in lags:
            shown = str(standing.checkpoint) if standing.checkpoint else "missing (not built)"
            table.add_row(
                standing.name,
                standing.kind,
                shown,
                str(standing.behind),
                f"{standing.lag_seconds:.1f}",
            )
        async with b.pool.connection() as connection:
            parks = await list_parks(connection)
            leases = await read_leases(connection)
        console = Console(file=sys.stdout)
        console.print(table)
        if leases:
            console.print(_lease_table(leases))
        if not parks:
            return
        parked = Table(
            "projection", "venue", "parked at event", "since", "error", "resume", title="parked"
        )
        for found in parks:
            parked.add_row(
                found.projection,
                found.venue_id,
                str(found.token),
                found.parked_at.astimezone(UTC).isoformat(timespec="seconds"),
                f"{found.error_class}: {found.error_message}",
                "requested" if found.resume_requested_at else "",
            )
        console.print(parked)


def _lease_table(leases: Sequence[LeaseState]) -> Table:
    """Who applies the projections, and until when (PostgreSQL's clock, UTC)."""
    table = Table("lease", "holder", "epoch", "since", "until", "state", title="leases")
    for lease in leases:
        if not lease.holder:
            state = "free"
        elif lease.seconds_left > 0:
            state = f"held, {lease.seconds_left:.1f} s left"
        else:
            state = f"ran out {-lease.seconds_left:.1f} s ago"
        table.add_row(
            lease.name,
            lease.holder or "nobody",
            str(lease.epoch),
            lease.acquired_at.astimezone(UTC).isoformat(timespec="milliseconds"),
            lease.expires_at.astimezone(UTC).isoformat(timespec="milliseconds"),
            state,
        )
    return table


async def unpark(
    database_url: str, redis_url: str, redis_prefix: str, name: str, venue: str
) -> bool:
    """Ask the daemon to resume `venue` (id or slug) for the projection `name`; False if
    it is not parked there. The daemon applies the held-back events on its next round."""
    if name not in registry.names():
        raise ValueError(f"unknown projection {name!r}; known: {', '.join(registry.names())}")
    async with backends(database_url, redis_url, redis_prefix) as b:
        venue_id = await resolve_venue(b.pool, venue)
        async with b.pool.connection() as connection:
            asked = await request_resume(connection, name, venue_id)
    if asked:
        print(f"{name}: venue {venue_id} will be resumed by the projector daemon")
    else:
        print(f"tablebook: venue {venue_id} is not parked for {name}", file=sys.stderr)
    return asked
