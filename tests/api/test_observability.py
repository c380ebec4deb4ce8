"""What an operator sees: /metrics, the access log, request ids, readiness under lag."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import api.health
import api.metrics
import projectors.metrics  # noqa: F401  (the daemon's counters, in REGISTRY)
from api.app import create_app
from api.services import ApiConfig, Services
from booking_core.store.postgres import PostgresEventStore
from read_models.projection_lag import Followed
from tablebook.logs import LogfmtFormatter
from tablebook.runtime import open_services
from tests.api.conftest import Headers, World
from tests.support.scope import TEST_VENUE, scoped_path

Client = AsyncTestClient[Litestar]
ROOT = Path(__file__).resolve().parents[2]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

ADA = {
    "guest_name": "Augusta Ada Lovelace-Byron",
    "guest_phone": "+44 20 7946 0958",
    "guest_email": "augusta.ada@analytical-engine.example",
    "special_requests": "Table near the Difference Engine, please",
}


def samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: Client) -> tuple[str, Samples]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text, samples(response.text)


def _booking(day: dt.date, time: str = "19:00", **extra: object) -> dict[str, object]:
    return {"date": day.isoformat(), "time": time, "party_size": 2, **ADA, **extra}


async def test_requests_are_counted_by_route_template_never_by_path(
    client: Client, guest: Headers
) -> None:
    _, before = await scrape(client)
    for _ in range(2):
        assert (await client.get("/health/live")).status_code == 200
    missing = f"bkg_{uuid.uuid4().hex}"
    assert (await client.get(f"/api/v1/bookings/{missing}", headers=guest)).status_code == 404
    assert (await client.get(f"/api/v1/no-such-thing/{missing}")).status_code == 404
    text, after = await scrape(client)

    total = "tablebook_http_requests_total"
    live = {"method": "GET", "route": "/health/live", "status": "200"}
    assert value(after, total, **live) - value(before, total, **live) == 2
    assert value(after, "tablebook_http_request_duration_seconds_count", **live) >= 2
    route = scoped_path("/api/v1/bookings/{booking_id}").replace(TEST_VENUE, "{venue_id}")
    read = {"method": "GET", "route": route, "status": "404"}
    assert value(after, total, **read) - value(before, total, **read) == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(after, total, **unmatched) - value(before, total, **unmatched) == 1
    assert missing not in text
    assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]


async def test_bookings_are_counted_by_outcome_and_refusals_by_problem_type(
    client: Client, guest: Headers, days: Iterator[dt.date]
) -> None:
    day = next(days)
    _, before = await scrape(client)
    key = {"Idempotency-Key": f"metrics-{uuid.uuid4().hex}"}
    made = await client.post("/api/v1/bookings/", json=_booking(day), headers={**guest, **key})
    assert made.status_code == 201, made.text
    again = await client.post("/api/v1/bookings/", json=_booking(day), headers={**guest, **key})
    assert again.headers["idempotent-replayed"] == "true"
    closed = await client.post("/api/v1/bookings/", json=_booking(day, "04:00"), headers=guest)
    assert closed.status_code == 422, closed.text
    cancelled = await client.delete(f"/api/v1/bookings/{made.json()['id']}", headers=guest)
    assert cancelled.status_code == 200, cancelled.text
    _, after = await scrape(client)

    def grew(**labels: str) -> float:
        name = "tablebook_bookings_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew(action="book", outcome="booked", reason="none") == 1  # the replay is not
    kind = closed.json()["type"].rsplit("/", 1)[1]
    assert grew(action="book", outcome="refused", reason=kind) == 1
    assert grew(action="cancel", outcome="cancelled", reason="none") == 1


async def test_no_personal_data_reaches_the_access_log_or_the_metrics(
    client: Client, guest: Headers, days: Iterator[dt.date], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tablebook")
    day = next(days)
    made = await client.post("/api/v1/bookings/", json=_booking(day), headers=guest)
    assert made.status_code == 201, made.text
    booking_id = made.json()["id"]
    token = {"X-Consistency-Token": made.headers["x-consistency-token"]}
    read = await client.get(f"/api/v1/bookings/{booking_id}", headers={**guest, **token})
    assert read.status_code == 200, read.text
    searched = await client.get(
        "/api/v1/bookings/my-bookings", params={"email": ADA["guest_email"]}, headers=guest
    )
    assert searched.status_code == 200, searched.text
    text, _ = await scrape(client)

    formatter = LogfmtFormatter()
    # What tablebook logs (the test client's own request lines, from httpx, name the path).
    ours = [r for r in caplog.records if r.name == "tablebook" or r.name.startswith("tablebook.")]
    lines = [formatter.format(record) for record in ours]
    access = [line for line in lines if "logger=tablebook.access" in line]
    assert len(access) >= 4
    # The phone as digits too (a float in the metrics may hold any four digits by chance).
    leaked = [*ADA.values(), "Lovelace", "analytical-engine", "2079460958", booking_id]
    for line in [*lines, text]:
        for secret in leaked:
            assert secret not in line
    booked = next(line for line in access if "method=POST" in line and "status=201" in line)
    assert re.search(r"route=/api/v1/\S*bookings/? ", booked), booked
    assert re.search(r"duration_ms=[0-9.]+", booked), booked
    assert re.search(r"user_id=usr_\S+", booked), booked
    assert f"request_id={made.headers['x-request-id']}" in booked


async def test_the_request_id_is_taken_when_well_formed_and_made_otherwise(
    client: Client,
) -> None:
    given = "checkout-7f3a.retry_2"
    kept = await client.get("/health/live", headers={"X-Request-ID": given})
    assert kept.headers["x-request-id"] == given
    made = await client.get("/health/live")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    for bad in (b"has spaces in it", b"x" * 65, b"semi;colon", "émile".encode()):
        refused = await client.get("/health/live", headers={b"X-Request-ID": bad})
        replaced = refused.headers["x-request-id"]
        assert replaced.encode() != bad
        assert re.fullmatch(r"[0-9a-f]{32}", replaced)
    missing = await client.get("/api/v1/nowhere", headers={"X-Request-ID": given})
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] == given
    assert missing.json()["request_id"] == given


async def test_a_503_carries_the_request_id(api_config: ApiConfig, database_url: str) -> None:
    def services() -> AbstractAsyncContextManager[Services]:
        return open_services(database_url, "redis://127.0.0.1:1/0", pool_size=2)

    async with AsyncTestClient(create_app(api_config, services)) as down:
        response = await down.get("/health/ready", headers={"X-Request-ID": "probe-1"})
        metrics = await down.get("/metrics")
    assert response.status_code == 503
    assert response.headers["x-request-id"] == "probe-1"
    assert response.json()["request_id"] == "probe-1"
    assert metrics.status_code == 200  # what can be read is served; Redis's part is not
    found = samples(metrics.text)
    assert value(found, "tablebook_metrics_collect_ok", part="redis_projections") == 0
    assert value(found, "tablebook_metrics_collect_ok", part="sql_projections") == 1


async def test_metrics_are_served_while_postgres_is_down(
    api_config: ApiConfig, redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.metrics, "READ_TIMEOUT", 0.5)  # the test's time, not the logic's
    monkeypatch.setattr(api.health, "CHECK_TIMEOUT", 0.5)

    @asynccontextmanager
    async def services() -> Any:
        down = "postgresql://postgres@127.0.0.1:1/nothing"  # nothing listens on port 1
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(down, min_size=1, open=False)
        await pool.open(wait=False)
        redis = Redis.from_url(redis_url)
        try:
            store = PostgresEventStore(pool, down)
            followed = Followed(sql=("bookings",), redis=("availability",))
            yield Services(pool, redis, store, redis_prefix, followed=followed)
        finally:
            await redis.aclose()
            await pool.close(timeout=0.1)

    async with AsyncTestClient(create_app(api_config, services)) as client:
        assert (await client.get("/health/live")).status_code == 200
        metrics, ready = await asyncio.gather(client.get("/metrics"), client.get("/health/ready"))
    assert metrics.status_code == 200
    found = samples(metrics.text)
    live = {"method": "GET", "route": "/health/live", "status": "200"}
    assert value(found, "tablebook_http_requests_total", **live) >= 1
    for part in ("sql_projections", "redis_projections", "outbox"):
        assert value(found, "tablebook_metrics_collect_ok", part=part) == 0
    assert "tablebook_outbox_messages{" not in metrics.text
    assert ready.status_code == 503
    assert "postgres" in ready.json()["detail"]


async def test_metrics_can_want_a_token(
    api_config: ApiConfig, database_url: str, redis_url: str, redis_prefix: str
) -> None:
    def services() -> AbstractAsyncContextManager[Services]:
        return open_services(database_url, redis_url, pool_size=2, redis_prefix=redis_prefix)

    config = replace(api_config, metrics_token="scrape-me-0123456789")
    async with AsyncTestClient(create_app(config, services)) as guarded:
        anonymous = await guarded.get("/metrics")
        wrong = await guarded.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await guarded.get(
            "/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"}
        )
    assert anonymous.status_code == 401
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert "tablebook_http_requests_total" in right.text


GHOST = "ghost-projection"
"""A projection no daemon runs: its checkpoint stands where the test puts it."""


@asynccontextmanager
async def _following_a_ghost(
    world: World, api_config: ApiConfig, database_url: str, redis_url: str
) -> Any:
    @asynccontextmanager
    async def services() -> Any:
        async with open_services(
            database_url, redis_url, pool_size=2, redis_prefix=world.redis_prefix
        ) as opened:
            followed = replace(opened.followed, sql=(*opened.followed.sql, GHOST))
            yield replace(opened, followed=followed)

    config = replace(api_config, ready_max_lag_seconds=0.5)
    try:
        async with AsyncTestClient(create_app(config, services)) as client:
            yield client
    finally:
        async with world.pool.connection() as connection:
            await connection.execute("DELETE FROM projection_checkpoints WHERE name = %s", (GHOST,))


async def _ready_within(client: Client, status: int, seconds: float = 5.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        response = await client.get("/health/ready")
        if response.status_code == status or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


async def test_ready_is_503_while_a_projection_lags_and_200_once_caught_up(
    world: World, api_config: ApiConfig, database_url: str, redis_url: str
) -> None:
    async with _following_a_ghost(world, api_config, database_url, redis_url) as client:
        # The ghost has applied nothing: every event of the suite is past its checkpoint,
        # and the oldest is more than half a second old (the venue was set up before).
        lagging = await _ready_within(client, 503)
        assert lagging.status_code == 503, lagging.text
        assert lagging.headers["retry-after"]
        assert GHOST in lagging.json()["detail"]
        _, found = await scrape(client)
        labels = {"projection": GHOST, "kind": "sql"}
        assert value(found, "tablebook_projection_lag_events", **labels) > 0
        assert value(found, "tablebook_projection_lag_seconds", **labels) > 0.5

        async with world.pool.connection() as connection:  # the ghost catches up
            await connection.execute(
                "INSERT INTO projection_checkpoints (name, tx, position)"
                " SELECT %s, tx::text::bigint, position FROM events"
                " ORDER BY tx DESC, position DESC LIMIT 1",
                (GHOST,),
            )
        ready = await _ready_within(client, 200)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["projections"] == "ok"
        # Idle since: its last event grows old, but nothing past its checkpoint does.
        await asyncio.sleep(0.7)
        assert (await client.get("/health/ready")).status_code == 200


async def test_every_metric_on_the_dashboard_is_served(client: Client) -> None:
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    expressions = [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]
    used = {name for expr in expressions for name in re.findall(r"\btablebook_[a-z_]+", expr)}
    assert len(used) >= 6
    api_text, _ = await scrape(client)
    # The daemon serves the counters of `projectors.metrics` (and the same lag gauges).
    daemon_text = generate_latest(REGISTRY).decode()
    served = {
        family.name
        for text in (api_text, daemon_text)
        for family in text_string_to_metric_families(text)
    }
    missing = {name for name in used if _family(name) not in served}
    assert not missing


def _family(name: str) -> str:
    return re.sub(r"_(total|bucket|count|sum)$", "", name)
