"""Metrics in the processes `tablebook` starts: the daemon's own endpoint, and the files
uvicorn's workers count in.

The projector daemon serves Prometheus text on `PROJECTOR_METRICS_PORT` (off when 0):
what `projectors.metrics` counts, and each projection's lag read when scraped, the same
reading as the API's (`read_models.projection_lag`), done on the daemon's event loop
with a short timeout.

`tablebook serve --workers N` (N > 1) runs N processes behind one port; a scrape reaches
one of them. Each worker then counts in files under `PROMETHEUS_MULTIPROC_DIR`, which
`worker_metrics` empties at start (or makes, and removes at the end), and the worker
that answers adds them all up (`api.metrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from read_models.projection_lag import Followed, Standing, lag_metrics, standings

__all__ = ["LagCollector", "serve_daemon_metrics", "worker_metrics"]

log = logging.getLogger("tablebook.metrics")

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
READ_TIMEOUT = 2.0
SNAPSHOT_SECONDS = 1.0
LAG_CAP = 100_000


@contextlib.contextmanager
def worker_metrics(workers: int) -> Iterator[None]:
    """For more than one worker: a clean `PROMETHEUS_MULTIPROC_DIR` in the environment
    the workers inherit (the one given, emptied, or a new one removed on leaving)."""
    if workers <= 1:
        yield
        return
    given = os.environ.get(MULTIPROC_DIR)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):  # counts of an earlier run would add up
            stale.unlink()
        yield
        return
    made = tempfile.mkdtemp(prefix="tablebook-metrics-")
    os.environ[MULTIPROC_DIR] = made
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_DIR, None)
        shutil.rmtree(made, ignore_errors=True)


def _lag_families(found: list[Standing] | None) -> list[Metric]:
    ok = GaugeMetricFamily(
        "tablebook_metrics_collect_ok",
        "1 if this part of the scrape could be read from PostgreSQL/Redis, 0 if not",
        labels=["part"],
    )
    ok.add_metric(["projections"], 0 if found is None else 1)
    return [*lag_metrics(found or [], LAG_CAP), ok]


class LagCollector(Collector):
    """Each projection's lag, read on the daemon's loop when scraped (kept a second)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        pool: AsyncConnectionPool[Any],
        redis: Redis,
        redis_prefix: str,
        followed: Followed,
    ) -> None:
        self._loop = loop
        self._pool = pool
        self._redis = redis
        self._redis_prefix = redis_prefix
        self._followed = followed
        self._taken = -SNAPSHOT_SECONDS
        self._found: list[Standing] | None = None

    async def _read(self) -> list[Standing]:
        return await standings(
            self._pool,
            self._followed,
            redis=self._redis,
            redis_prefix=self._redis_prefix,
            cap=LAG_CAP,
        )

    def collect(self) -> Iterable[Metric]:
        if time.monotonic() - self._taken >= SNAPSHOT_SECONDS:
            reading: Future[list[Standing]] = asyncio.run_coroutine_threadsafe(
                self._read(), self._loop
            )
            try:
                self._found = reading.result(READ_TIMEOUT)
            except Exception as error:  # the counters are still worth serving
                reading.cancel()
                self._found = None
                log.warning("projection lag unreadable", extra={"error": type(error).__name__})
            self._taken = time.monotonic()
        return _lag_families(self._found)


class _Counted(Collector):
    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


@contextlib.contextmanager
def serve_daemon_metrics(host: str, port: int, lag: LagCollector) -> Iterator[None]:
    """Serve the daemon's metrics on `host:port` (in a thread) until leaving; nothing
    when `port` is 0."""
    if not port:
        yield
        return
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Counted())
    registry.register(lag)
    server, thread = start_http_server(port, addr=host, registry=registry)
    log.info("metrics served", extra={"address": f"{host}:{server.server_port}"})
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
