"""History for analysts: exporting the log to JSON lines, and replaying every read model as
of an instant beside a plain rebuild of the same events."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime

import psycopg
from redis.asyncio import Redis

import projectors.registry as registry
from bench.harness import Measure
from bench.projections import copy_rate, load_history, rebuild_rate
from booking_core.store.postgres import PostgresEventStore
from projectors.rebuild import clear_keys
from projectors.replay import build_replay
from tablebook.database import open_pool
from tablebook.export import ExportRequest, write_export

EVENTS = int(os.environ.get("BENCH_EXPORT_EVENTS", "300000"))


def _spread_in_time(url: str) -> datetime:
    """One event a second, so instants cut the log; return the last event's instant."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "UPDATE events SET recorded_at = timestamptz '2026-01-01 00:00Z'"
            " + position * interval '1 second'"
        )
        connection.execute("VACUUM ANALYZE events")
        row = connection.execute("SELECT max(recorded_at) FROM events").fetchone()
    assert row is not None
    last: datetime = row[0]
    return last


async def export_rate(url: str) -> float:
    pool = await open_pool(url, min_size=1, max_size=3)
    try:
        with open(os.devnull, "wb") as sink:  # noqa: ASYNC230 - opening /dev/null never blocks
            began = time.perf_counter()
            written = await write_export(
                PostgresEventStore(pool, url), ExportRequest(format="jsonl"), sink
            )
            return written / (time.perf_counter() - began)
    finally:
        await pool.close()


async def replay_rate(url: str, redis_url: str, prefix: str, as_of: datetime) -> float:
    pool = await open_pool(url, min_size=2, max_size=4)
    redis = Redis.from_url(redis_url)
    try:
        began = time.perf_counter()
        replay = await build_replay(
            name="bench",
            as_of=as_of,
            store=PostgresEventStore(pool, url),
            codec=registry.codec,
            pool=pool,
            redis=redis,
            redis_prefix=prefix,
            sql_projections=registry.SQL_PROJECTIONS,
            redis_projections=registry.REDIS_PROJECTIONS,
        )
        return replay.events / (time.perf_counter() - began)
    finally:
        await clear_keys(redis, prefix)
        await redis.aclose()
        await pool.close()


def run(url: str, redis_url: str) -> list[Measure]:
    prefix = f"bench:{os.getpid()}:"
    events = load_history(url, EVENTS)
    last = _spread_in_time(url)
    copy = copy_rate(url)
    exported = asyncio.run(export_rate(url))
    # Each twice, in the order rebuild, replay, replay, rebuild, and the better of each
    # pair: neither side always runs first (cold caches) or last (the other's dead rows).
    rebuilds = [asyncio.run(rebuild_rate(url, redis_url, prefix, events))]
    replays = [asyncio.run(replay_rate(url, redis_url, prefix, last)) for _ in range(2)]
    rebuilds.append(asyncio.run(rebuild_rate(url, redis_url, prefix, events)))
    rebuilt, replayed = max(rebuilds), max(replays)
    return [
        Measure(
            name=f"events export --format jsonl, {events:,} events",
            value=exported,
            unit="events/s",
            baseline=copy,
            baseline_name="raw COPY TO STDOUT",
            goal=">= 100,000 events/s",
            met=exported >= 100_000,
        ),
        Measure(
            name=f"replay --as-of (all projections), {events:,} events",
            value=replayed,
            unit="events/s",
            baseline=rebuilt,
            baseline_name="plain rebuild, same events",
            goal="ratio >= 1",
            met=replayed >= rebuilt,
            note=(
                "as of the last event's instant, so both apply every event; the better of"
                f" two runs each (replays {replays[0]:,.0f} and {replays[1]:,.0f},"
                f" rebuilds {rebuilds[0]:,.0f} and {rebuilds[1]:,.0f} events/s)"
            ),
        ),
    ]
