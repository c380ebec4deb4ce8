"""The API while Redis is down: every route that needs Redis answers 503 with
`Retry-After` (never 500), and answers again once Redis is back, without a restart."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from typing import Any

from httpx import Response
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from api.accounts import PasswordHasher, UserStore
from booking_core.store.postgres import PostgresEventStore
from tests.faults.conftest import Client, api, client_of, projecting
from tests.support.models import clear_read_models
from tests.support.throwaway import ThrowawayRedis
from tests.support.venue import days_ahead, open_venue

HOST_EMAIL = "maitre-d@example.com"
HOST_PASSWORD = "a-long-password-1"


def _assert_redis_unavailable(response: Response, route: str) -> None:
    assert response.status_code == 503, f"{route}: {response.status_code} {response.text}"
    assert int(response.headers["retry-after"]) > 0, route
    assert response.headers["content-type"].startswith("application/problem+json"), route
    problem = response.json()
    assert problem["status"] == 503
    assert problem["type"].endswith("/server-unavailable")
    assert problem["title"] == "Service unavailable"
    assert "Redis" in problem["detail"]
    assert "Traceback" not in response.text


async def _until_2xx(call: Any, route: str, timeout: float = 30.0) -> Response:
    deadline = time.monotonic() + timeout
    while True:
        response: Response = await call()
        if response.is_success:
            return response
        assert response.status_code == 503, f"{route}: {response.status_code} {response.text}"
        assert time.monotonic() < deadline, f"{route} still {response.status_code}: {response.text}"
        await asyncio.sleep(0.2)


async def test_redis_down_means_503_with_retry_after_on_every_route_that_needs_it_and_back_after(
    clean_store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    database_url: str,
    throwaway_redis: ThrowawayRedis,
) -> None:
    prefix = f"tbfault:{uuid.uuid4().hex[:8]}:"
    redis = Redis.from_url(throwaway_redis.url)
    await clear_read_models(pool, redis, prefix)
    await redis.aclose()
    now = dt.datetime.now(dt.UTC)
    await open_venue(clean_store, now, "Europe/London")
    hashed = await PasswordHasher(4).hash(HOST_PASSWORD)
    await UserStore(pool).upsert_admin(
        email=HOST_EMAIL, password_hash=hashed, full_name="Grace Hopper"
    )
    day = days_ahead(now, 5).isoformat()
    booking = {"date": day, "time": "19:00", "party_size": 4, "guest_name": "Ada Lovelace"}

    async with (
        projecting(database_url, throwaway_redis.url, prefix),
        client_of(api(database_url, throwaway_redis.url, prefix)) as client,
    ):
        token = await client.post(
            "/api/v1/auth/token", data={"username": HOST_EMAIL, "password": HOST_PASSWORD}
        )
        assert token.status_code == 200, token.text
        signed_in = {"Authorization": f"Bearer {token.json()['access_token']}"}
        idempotent = {**signed_in, "Idempotency-Key": f"ada-{uuid.uuid4().hex}"}

        def routes(c: Client) -> dict[str, Any]:
            return {
                "GET /availability": lambda: c.get(
                    "/api/v1/availability", params={"date": day, "party_size": 4}
                ),
                "GET /bookings/tables": lambda: c.get(
                    "/api/v1/bookings/tables",
                    params={"date": day, "time": "19:00", "party_size": 4},
                ),
                "POST /auth/token": lambda: c.post(
                    "/api/v1/auth/token",
                    data={"username": HOST_EMAIL, "password": HOST_PASSWORD},
                ),
                "POST /bookings with Idempotency-Key": lambda: c.post(
                    "/api/v1/bookings/", json=booking, headers=idempotent
                ),
            }

        for route, call in routes(client).items():
            if route.startswith("GET"):
                await _until_2xx(call, route)  # the models are built

        throwaway_redis.kill()
        await asyncio.sleep(0.1)  # past the 20 ms an availability read may trail Redis
        for route, call in routes(client).items():
            _assert_redis_unavailable(await call(), route)
        live = await client.get("/api/v1/tables/status/stream", params={"date": day})
        _assert_redis_unavailable(live, "GET /tables/status/stream")

        throwaway_redis.start()  # empty: the projectors build its models again
        answers = {route: await _until_2xx(call, route) for route, call in routes(client).items()}
    assert answers["POST /bookings with Idempotency-Key"].status_code == 201
    assert answers["POST /auth/token"].json()["access_token"]
