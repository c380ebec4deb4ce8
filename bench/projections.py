"""Read-side speed: rebuilding every projection from a million events, beside a raw COPY
of the same rows; and projection lag under a steady stream of bookings."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

import psycopg
from redis.asyncio import Redis

import projectors.registry as registry
from bench.harness import Measure, percentile
from booking_core.codec import EventMetadata, codec
from booking_core.domain.events import (
    BookingCancelled,
    BookingPlaced,
    OpeningHoursChanged,
    SlotSettingsChanged,
    TableAdded,
    TableReleased,
    TableReserved,
)
from booking_core.domain.streams import DEFAULT_STREAMS, DEFAULT_VENUE_ID, streams_of
from booking_core.domain.values import OpeningHours, Shift, SlotSettings
from booking_core.store import ANY, NO_STREAM, ConsistencyToken, StreamAppend
from booking_core.store.postgres import PostgresEventStore
from projectors.rebuild import rebuild
from read_models.consistency import redis_checkpoint_key
from tablebook.database import open_pool

REBUILD_EVENTS = int(os.environ.get("BENCH_REBUILD_EVENTS", "1000000"))
LAG_RATE = 200
LAG_SECONDS = 15.0
TABLES = 40
NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
META = codec.encode(TableAdded(table_id="x", name="x", capacity=1, added_at=NOW)).metadata


def history(venue_ids: Sequence[str] = (DEFAULT_VENUE_ID,)) -> Iterator[str]:
    """Events without end as COPY text lines: each venue and its tables, then bookings
    (one in five cancelled) dealt to the venues in turn and spread over each venue's
    tables, days and sittings so that none overlap. Take as many as wanted: a history cut
    anywhere is a valid log, and the rest of the iterator continues it."""
    metadata = META.decode()
    versions: dict[str, int] = {}

    def line(stream: str, event: Any, version: int | None = None) -> str:
        if version is None:
            version = versions.get(stream, 0) + 1
            versions[stream] = version
        new = codec.encode(event, EventMetadata(user_id="u-bench"))
        data = new.data.decode().replace("\\", "\\\\")
        return f"{stream}\t{version}\t{new.type}\t{data}\t{metadata}\n"

    venues = [streams_of(venue_id) for venue_id in venue_ids]
    # Open around the clock, so every two-hour sitting of every day is bookable.
    hours = OpeningHours.every_day(Shift(opens=clock(0, 0), closes=clock(0, 0)))
    settings = SlotSettingsChanged(
        interval_minutes=60,
        turn_times=SlotSettings().turn_times,
        buffer_minutes=0,
        min_lead_minutes=0,
        max_days_ahead=3650,
        time_zone="UTC",
    )
    for streams in venues:
        yield line(streams.venue, OpeningHoursChanged(hours=hours))
        yield line(streams.venue, settings)
        for t in range(TABLES):
            added = TableAdded(table_id=f"T{t}", name=f"T{t}", capacity=4, added_at=NOW)
            yield line(streams.table(f"T{t}"), added)
    for n in itertools.count():
        streams = venues[n % len(venues)]
        m = n // len(venues)  # the booking's number within its venue
        table_id = f"T{m % TABLES}"
        slot = m // TABLES
        day = date(2026, 1, 1) + timedelta(days=slot // 12)
        starts = datetime.combine(day, clock(0, 0), UTC) + timedelta(hours=2 * (slot % 12))
        ends = starts + timedelta(hours=2)
        booking_id = f"b{n}"
        party = 2 + n % 3
        common: dict[str, Any] = {
            "date": day,
            "time": starts.time(),
            "end_date": ends.date(),
            "end_time": ends.time(),
            "starts_at": starts,
            "ends_at": ends,
            "party_size": party,
        }
        booking = streams.booking(booking_id)
        service_day = streams.service_day(table_id, day)
        placed = BookingPlaced(
            booking_id=booking_id,
            table_ids=(table_id,),
            service_date=day,
            duration_minutes=120,
            guest_name=f"Guest {n}",
            guest_email=f"g{n}@example.org",
            user_id=f"u{n % 500}",
            placed_at=NOW,
            **common,
        )
        # A booking's own stream is never written again, so its versions are not kept.
        yield line(booking, placed, version=1)
        yield line(
            service_day,
            TableReserved(table_id=table_id, service_date=day, booking_id=booking_id, **common),
        )
        if n % 5 == 0:
            cancelled = BookingCancelled(
                booking_id=booking_id,
                table_ids=(table_id,),
                service_date=day,
                starts_at=starts,
                party_size=party,
                duration_minutes=120,
                cancelled_at=NOW,
                cancelled_by="u-bench",
            )
            yield line(booking, cancelled, version=2)
            yield line(
                service_day,
                TableReleased(
                    table_id=table_id,
                    service_date=day,
                    booking_id=booking_id,
                    reason="cancelled",
                    released_at=NOW,
                    **common,
                ),
            )


def copy_events(
    connection: psycopg.Connection[Any],
    lines: Iterable[str],
    advance: Callable[[int], None] = lambda _: None,
) -> None:
    """COPY `lines` into `events` in blocks of about a megabyte, and bring `streams` up
    to the new versions; `advance` is told how many events each block held."""
    with connection.cursor() as cursor:
        row = cursor.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
        before = int(row[0]) if row else 0
        with cursor.copy(
            "COPY events (stream_id, version, type, data, metadata) FROM STDIN"
        ) as copy:
            block: list[str] = []
            size = 0
            for text in lines:
                block.append(text)
                size += len(text)
                if size >= 1 << 20:
                    copy.write("".join(block))
                    advance(len(block))
                    block, size = [], 0
            copy.write("".join(block))
            advance(len(block))
        cursor.execute(
            "INSERT INTO streams SELECT stream_id, max(version) FROM events"
            " WHERE position > %s GROUP BY stream_id"
            " ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version",
            (before,),
        )


def load_history(url: str, count: int) -> int:
    """Write `count` events straight into the store with COPY; return how many."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "TRUNCATE events, streams, idempotency_keys, projection_checkpoints RESTART IDENTITY"
        )
        copy_events(connection, itertools.islice(history(), count))
        connection.execute("VACUUM ANALYZE events")
        row = connection.execute("SELECT count(*) FROM events").fetchone()
    return int(row[0]) if row else 0


def copy_rate(url: str) -> float:
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        began = time.perf_counter()
        rows = 0
        with cursor.copy(
            "COPY (SELECT position, tx, stream_id, version, type, schema_version, data,"
            " metadata, recorded_at FROM events ORDER BY tx, position) TO STDOUT"
        ) as copy:
            for block in copy:
                rows += bytes(block).count(b"\n")
        return rows / (time.perf_counter() - began)


async def rebuild_rate(url: str, redis_url: str, prefix: str, events: int) -> float:
    pool = await open_pool(url, min_size=2, max_size=4)
    redis = Redis.from_url(redis_url)
    try:
        began = time.perf_counter()
        await rebuild(
            store=PostgresEventStore(pool, url),
            codec=registry.codec,
            pool=pool,
            redis=redis,
            redis_prefix=prefix,
            sql_projections=registry.SQL_PROJECTIONS,
            redis_projections=registry.REDIS_PROJECTIONS,
        )
        return events / (time.perf_counter() - began)
    finally:
        await redis.aclose()
        await pool.close()


async def _forget(redis_url: str, prefix: str) -> None:
    redis = Redis.from_url(redis_url)
    async for key in redis.scan_iter(match=prefix + "*", count=1000):
        await redis.delete(key)
    await redis.aclose()


READ_MODELS = [p.name for p in registry.SQL_PROJECTIONS] + [
    p.name for p in registry.REDIS_PROJECTIONS
]
"""The projections a rebuild builds and the lag counts; not the notifications outbox, a
process manager that would otherwise start from the first of a million events."""


async def _checkpoints(pool: Any, redis: Redis, prefix: str) -> ConsistencyToken:
    """The checkpoint every read model has reached: the smallest of them."""
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT tx, position FROM projection_checkpoints WHERE name = ANY(%s)",
            (READ_MODELS,),
        )
        tokens = [ConsistencyToken(int(r[0]), int(r[1])) for r in await cursor.fetchall()]
    for projection in registry.REDIS_PROJECTIONS:
        raw = await redis.get(redis_checkpoint_key(prefix, projection.name))
        text = raw.decode() if isinstance(raw, bytes) else raw
        tokens.append(ConsistencyToken.parse(text) if text else ConsistencyToken(0, 0))
    if len(tokens) < len(READ_MODELS):
        return ConsistencyToken(0, 0)
    return min(tokens)


def _booking_appends(n: int) -> list[StreamAppend]:
    """Booking `n` of the lag run: placed and reserved in one append, far in the future
    so it never meets the loaded history."""
    table_id = f"T{n % TABLES}"
    day = date(2030, 1, 1) + timedelta(days=n // (TABLES * 12))
    starts = datetime.combine(day, clock(0, 0), UTC) + timedelta(hours=2 * ((n // TABLES) % 12))
    ends = starts + timedelta(hours=2)
    common: dict[str, Any] = {
        "date": day,
        "time": starts.time(),
        "end_date": ends.date(),
        "end_time": ends.time(),
        "starts_at": starts,
        "ends_at": ends,
        "party_size": 2,
    }
    booking_id = f"lag{n}"
    placed = BookingPlaced(
        booking_id=booking_id,
        table_ids=(table_id,),
        service_date=day,
        duration_minutes=120,
        guest_name=f"Guest {n}",
        user_id="u-lag",
        placed_at=NOW,
        **common,
    )
    reserved = TableReserved(table_id=table_id, service_date=day, booking_id=booking_id, **common)
    return [
        StreamAppend(DEFAULT_STREAMS.booking(booking_id), NO_STREAM, [codec.encode(placed)]),
        StreamAppend(DEFAULT_STREAMS.service_day(table_id, day), ANY, [codec.encode(reserved)]),
    ]


async def lag_samples(url: str, redis_url: str, prefix: str) -> list[float]:
    """Seconds from an append's return to every projection including it, at LAG_RATE/s,
    with the daemon running as its own process."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": prefix,
        "LOG_LEVEL": "WARNING",
    }
    daemon = subprocess.Popen(  # noqa: ASYNC220 - started once, before any timing
        [sys.executable, "-m", "tablebook.cli", "projectors", "run", *READ_MODELS],
        env={**env, "NOTIFY_WITH_PROJECTORS": "false"},
    )
    pool = await open_pool(url, min_size=2, max_size=4)
    redis = Redis.from_url(redis_url)
    store = PostgresEventStore(pool, url)
    pending: list[tuple[ConsistencyToken, float]] = []
    lags: list[float] = []
    stop = False

    async def watch() -> None:
        while not stop or pending:
            reached = await _checkpoints(pool, redis, prefix)
            seen = time.perf_counter()
            while pending and pending[0][0] <= reached:
                lags.append(seen - pending.pop(0)[1])
            await asyncio.sleep(0.001)

    try:
        await asyncio.sleep(2.0)  # the daemon starts and catches up with the history
        watcher = asyncio.create_task(watch())
        interval = 1 / LAG_RATE
        began = time.perf_counter()
        n = 0
        while time.perf_counter() - began < LAG_SECONDS:
            target = began + n * interval
            await asyncio.sleep(max(0.0, target - time.perf_counter()))
            result = await store.append(_booking_appends(n))
            pending.append((result.token, time.perf_counter()))
            n += 1
        stop = True
        await asyncio.wait_for(watcher, 30)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
        await redis.aclose()
        await pool.close()
    return lags


def run(url: str, redis_url: str) -> list[Measure]:
    prefix = f"bench:{os.getpid()}:"
    events = load_history(url, REBUILD_EVENTS)
    copy = copy_rate(url)
    try:
        rate = asyncio.run(rebuild_rate(url, redis_url, prefix, events))
        lags = asyncio.run(lag_samples(url, redis_url, prefix))
    finally:
        asyncio.run(_forget(redis_url, prefix))
    return [
        Measure(
            name=f"rebuild all projections, {events:,} events",
            value=rate,
            unit="events/s",
            baseline=copy,
            baseline_name="raw COPY TO STDOUT",
            goal=">= 100,000 events/s",
            met=rate >= 100_000,
        ),
        Measure(
            name=f"projection lag p50, {LAG_RATE} bookings/s",
            value=percentile(lags, 0.5) * 1000,
            unit="ms",
        ),
        Measure(
            name=f"projection lag p99, {LAG_RATE} bookings/s",
            value=percentile(lags, 0.99) * 1000,
            unit="ms",
            goal="<= 50 ms",
            met=percentile(lags, 0.99) <= 0.050,
            note=f"{len(lags)} bookings; all five read models must include each",
        ),
    ]
