"""The projector daemon's own /metrics: what it applied, and how far each projection lags."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import replace
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from booking_core.store.postgres import PostgresEventStore
from tablebook.projector_commands import run_projectors
from tablebook.settings import ObserveSettings, Settings
from tests.support.models import clear_read_models
from tests.support.story import Story


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _samples(text: str) -> dict[tuple[str, str], float]:
    """(metric, projection) -> value."""
    return {
        (sample.name, sample.labels.get("projection", "")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_the_daemon_serves_what_it_applied_and_each_projections_lag(
    clean_store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    database_url: str,
    redis_url: str,
) -> None:
    await clear_read_models(pool, redis, redis_prefix)
    story = Story(seed=18, days=3)
    appended = 0
    for writes in story.opening():
        await clean_store.append(writes)
        appended += sum(len(w.events) for w in writes)
    port = _free_port()
    settings = replace(
        Settings.from_env({}, dotenv=None),
        observe=ObserveSettings(projector_metrics_port=port),
    )
    stop = asyncio.Event()
    daemon = asyncio.create_task(
        run_projectors(
            database_url,
            redis_url,
            redis_prefix,
            names=["bookings", "availability"],
            stop=stop,
            settings=settings,
        )
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                # From a thread: the lag is read on this loop while the scrape waits.
                response = await asyncio.to_thread(
                    httpx.get, f"http://127.0.0.1:{port}/metrics", timeout=5
                )
                found = _samples(response.text)
            except httpx.TransportError:
                found = {}
            caught_up = found.get(("tablebook_projection_lag_events", "bookings")) == 0
            if caught_up and found.get(("tablebook_projection_lag_events", "availability")) == 0:
                break
            assert time.monotonic() < deadline, found
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await daemon
    assert found[("tablebook_projector_events_total", "bookings")] >= appended
    assert found[("tablebook_projector_batches_total", "availability")] >= 1
    assert found[("tablebook_projector_batch_duration_seconds_count", "bookings")] >= 1
    # Not run here: every event is still past its checkpoint.
    assert found[("tablebook_projection_lag_events", "stats")] == appended
    assert found[("tablebook_projection_lag_seconds", "stats")] >= 0
    assert found[("tablebook_metrics_collect_ok", "")] == 1
