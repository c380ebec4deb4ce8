"""Browsers may call the API only from the origins the settings allow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import replace

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.services import ApiConfig, Services
from tablebook.runtime import open_services
from tests.api.conftest import World

ALLOWED = "https://floor.example.com"


@pytest.fixture
async def cors_client(
    api_config: ApiConfig, database_url: str, redis_url: str, redis_prefix: str, world: World
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    def services() -> AbstractAsyncContextManager[Services]:
        return open_services(database_url, redis_url, pool_size=2, redis_prefix=redis_prefix)

    app = create_app(replace(api_config, cors_origins=(ALLOWED,)), services)
    async with AsyncTestClient(app) as client:
        yield client


async def test_only_allowed_origins_get_cors_headers(
    cors_client: AsyncTestClient[Litestar],
) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,idempotency-key",
    }
    allowed = await cors_client.options(
        "/api/v1/bookings/", headers={"Origin": ALLOWED, **preflight}
    )
    assert allowed.status_code in (200, 204)
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "idempotency-key" in allowed.headers["access-control-allow-headers"].lower()
    other = await cors_client.options(
        "/api/v1/bookings/", headers={"Origin": "https://evil.example", **preflight}
    )
    assert other.headers.get("access-control-allow-origin") != "https://evil.example"
    simple = await cors_client.get("/health/live", headers={"Origin": ALLOWED})
    assert simple.headers["access-control-allow-origin"] == ALLOWED
    assert "x-consistency-token" in simple.headers.get("access-control-expose-headers", "").lower()
