"""`GET /metrics`: what the API has done, and how the system behind it stands.

Counted as requests are answered (`api.observe` counts them): requests by method, route
template and status, their latency, and bookings by outcome. Read from PostgreSQL and
Redis when scraped (`Gauges`): each projection's lag and the notification outbox's
depth. Those reads share one short timeout and are kept for a second, so scrapes and
readiness probes together cost one round of queries a second at most; a part that cannot
be read is left out (and `tablebook_metrics_collect_ok` says so), never a 500.

Labels hold only names from the code: a route's template (`/api/v1/bookings/{booking_id}`,
never the path with its ids), a problem type, a projection's name. No personal data.

With several uvicorn workers (`tablebook serve --workers N`) each worker counts in files
under `PROMETHEUS_MULTIPROC_DIR` (which `tablebook serve` sets up), and whichever worker
answers a scrape adds them all up.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, get
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from api.problems import problem_response
from api.services import ApiConfig, Services
from read_models.notifications import outbox_depth
from read_models.projection_lag import Followed, Standing, lag_metrics, standings

__all__ = [
    "BOOKINGS",
    "LATENCY",
    "REQUESTS",
    "Gauges",
    "Snapshot",
    "booking_outcome",
    "exposition",
    "lagging",
    "metrics",
]

disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series

REQUESTS = Counter(
    "tablebook_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "tablebook_http_request_duration_seconds",
    "Time from a request's arrival to its response's head, by method, route template and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BOOKINGS = Counter(
    "tablebook_bookings",
    "Booking requests (book, change, cancel) by outcome: booked, changed, cancelled;"
    " refused (reason: the problem type); unavailable (503) or error (500)",
    ["action", "outcome", "reason"],
)

BOOKING_ACTION = "booking_action"
"""The route's `opt` key naming what a booking route does: `book`, `change`, `cancel`."""


def booking_outcome(action: str) -> dict[str, Any]:
    """A booking route's `opt`: its answers are counted in `tablebook_bookings_total`."""
    return {BOOKING_ACTION: action}


SNAPSHOT_SECONDS = 1.0
"""How long a reading of PostgreSQL and Redis serves scrapes and readiness probes."""
READ_TIMEOUT = 2.0
LAG_CAP = 100_000
"""Events counted per projection at most: enough to tell "far behind" at a glance."""


@dataclass(frozen=True)
class Snapshot:
    standings: list[Standing] = field(default_factory=list)
    outbox: dict[str, int] | None = None
    ok: dict[str, bool] = field(default_factory=dict)
    """Each part read (`sql_projections`, `redis_projections`, `outbox`): read or not."""


async def _timed(reading: Any) -> Any:
    try:
        return await asyncio.wait_for(reading, READ_TIMEOUT)
    except Exception as error:  # any failure leaves that part out of this scrape
        return error


class Gauges:
    """The readings taken when scraped, kept `SNAPSHOT_SECONDS`, one reading at a time."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._lock = asyncio.Lock()
        self._taken = -SNAPSHOT_SECONDS
        self._snapshot = Snapshot()

    async def snapshot(self) -> Snapshot:
        async with self._lock:
            if time.monotonic() - self._taken >= SNAPSHOT_SECONDS:
                self._snapshot = await self._read()
                self._taken = time.monotonic()
            return self._snapshot

    async def _read(self) -> Snapshot:
        s = self._services
        sql, redis, outbox = await asyncio.gather(
            _timed(standings(s.pool, Followed(sql=s.followed.sql), cap=LAG_CAP)),
            _timed(
                standings(
                    s.pool,
                    Followed(redis=s.followed.redis),
                    redis=s.redis,
                    redis_prefix=s.redis_prefix,
                    cap=LAG_CAP,
                )
            ),
            _timed(outbox_depth(s.pool)),
        )
        found: list[Standing] = []
        for part in (sql, redis):
            if isinstance(part, list):
                found += part
        return Snapshot(
            standings=found,
            outbox=outbox if isinstance(outbox, dict) else None,
            ok={
                "sql_projections": isinstance(sql, list),
                "redis_projections": isinstance(redis, list),
                "outbox": isinstance(outbox, dict),
            },
        )


class _SnapshotCollector(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        snap = self._snapshot
        outbox = GaugeMetricFamily(
            "tablebook_outbox_messages",
            "Notifications in the outbox by state (pending, sending, failed)",
            labels=["state"],
        )
        for state, count in (snap.outbox or {}).items():
            outbox.add_metric([state], count)
        ok = GaugeMetricFamily(
            "tablebook_metrics_collect_ok",
            "1 if this part of the scrape could be read from PostgreSQL/Redis, 0 if not",
            labels=["part"],
        )
        for part, read in sorted(snap.ok.items()):
            ok.add_metric([part], 1 if read else 0)
        return [*lag_metrics(snap.standings, LAG_CAP), outbox, ok]


class _Counted(Collector):
    """This process's counters, or every worker's in multiprocess mode."""

    def collect(self) -> Iterable[Metric]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return registry.collect()
        return REGISTRY.collect()


def exposition(snapshot: Snapshot) -> bytes:
    """The Prometheus text for the counters and `snapshot`'s gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Counted())
    registry.register(_SnapshotCollector(snapshot))
    return generate_latest(registry)


def _allowed(config: ApiConfig, request: Request[Any, Any, Any]) -> bool:
    if not config.metrics_token:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = config.metrics_token.encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)


@get("/metrics", include_in_schema=False, name="metrics")
async def metrics(request: Request[Any, Any, Any]) -> Response[Any]:
    """Prometheus text format; with `METRICS_TOKEN` set, only for its bearer."""
    state = request.app.state
    if not _allowed(state["api"].config, request):
        return problem_response(
            401,
            "GET /metrics wants the metrics token as a bearer token.",
            kind="not-authenticated",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    gauges: Gauges = state["gauges"]
    body = exposition(await gauges.snapshot())
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def lagging(snapshot: Snapshot, max_seconds: float) -> Sequence[Standing]:
    """The projections with an event older than `max_seconds` still to apply."""
    return [s for s in snapshot.standings if s.lag_seconds > max_seconds]
