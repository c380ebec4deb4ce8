"""An open live-floor stream (Server-Sent Events) when Redis goes away: its headers are
out, so it cannot become a 503; it ends cleanly, and the browser reconnects after the
`retry` it was given (to a 503 while Redis is down)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar, Router
from litestar.di import Provide
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from api.floor.live import LiveStatusController
from api.problems import exception_handlers
from api.services import Services
from api.venue_scope import Venue
from booking_core.store.postgres import PostgresEventStore
from tests.support.scope import TEST_VENUE
from tests.support.throwaway import ThrowawayRedis, free_port

DAY = "2031-05-17"


@pytest.fixture
async def live_floor(
    pool: AsyncConnectionPool[Any], database_url: str, throwaway_redis: ThrowawayRedis
) -> AsyncIterator[str]:
    """The live-status route on a real HTTP server, its Redis the throwaway one."""
    redis = Redis.from_url(throwaway_redis.url)
    services = Services(
        pool=pool,
        redis=redis,
        store=PostgresEventStore(pool, database_url),
        redis_prefix=f"tbfault:{uuid.uuid4().hex[:8]}:",
    )
    app = Litestar(
        route_handlers=[Router(path="/api/v1", route_handlers=[LiveStatusController])],
        dependencies={
            "services": Provide(lambda: services, sync_to_thread=False),
            "venue": Provide(lambda: Venue(TEST_VENUE), sync_to_thread=False),
        },
        exception_handlers=exception_handlers,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to await
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/api/v1/tables/status/stream"
    finally:
        server.should_exit = True
        await serving
        await redis.aclose()


async def test_an_open_stream_ends_cleanly_when_redis_goes_away_and_a_new_one_gets_503(
    live_floor: str, throwaway_redis: ThrowawayRedis
) -> None:
    lines: list[str] = []
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream("GET", live_floor, params={"date": DAY}) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line:
                lines.append(line)
            if line == ": connected":
                throwaway_redis.kill()
    assert ": connected" in lines  # and the stream ended without an error
    assert "retry: 2000" in lines

    async with httpx.AsyncClient(timeout=10) as client:
        again = await client.get(live_floor, params={"date": DAY})
    assert again.status_code == 503
    assert again.headers["retry-after"] == "2"
    assert "Redis" in again.json()["detail"]
