"""The API while PostgreSQL is killed (-9 of the postmaster) and started again: requests
meanwhile get 503 with `Retry-After`, never 500, and succeed again within a few seconds
of the server's return; the connections the crash broke are never handed out."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from typing import Any

from httpx import Response

from tests.faults.conftest import Client, api, client_of
from tests.support.throwaway import ThrowawayPostgres
from tests.support.venue import days_ahead, open_venue_with_admin

HOST_EMAIL = "maitre-d@example.com"
HOST_PASSWORD = "a-long-password-1"
BACK_WITHIN_SECONDS = 5.0


async def _prepare(database_url: str) -> dt.date:
    now = await open_venue_with_admin(
        database_url,
        "Europe/London",
        email=HOST_EMAIL,
        password=HOST_PASSWORD,
        full_name="Grace Hopper",
    )
    return days_ahead(now, 5)


def _routes(client: Client, signed_in: dict[str, str], day: dt.date) -> dict[str, Any]:
    """Routes that need PostgreSQL: a read model, the event store, the accounts."""
    times = iter(f"{h:02d}:{m:02d}" for h in range(8, 22) for m in (0, 15, 30, 45))

    def book() -> Any:
        booking = {"date": day.isoformat(), "time": next(times), "party_size": 2}
        return client.post(
            "/api/v1/bookings/", json={**booking, "guest_name": "Ada"}, headers=signed_in
        )

    return {
        "GET /bookings/my-bookings": lambda: client.get(
            "/api/v1/bookings/my-bookings", headers=signed_in
        ),
        "POST /bookings": book,
        "POST /auth/token": lambda: client.post(
            "/api/v1/auth/token", data={"username": HOST_EMAIL, "password": HOST_PASSWORD}
        ),
    }


def _assert_postgres_unavailable(response: Response, route: str) -> None:
    assert response.status_code == 503, f"{route}: {response.status_code} {response.text}"
    assert int(response.headers["retry-after"]) > 0, route
    assert response.headers["content-type"].startswith("application/problem+json"), route
    problem = response.json()
    assert (problem["status"], problem["title"]) == (503, "Service unavailable")
    assert problem["type"].endswith("/server-unavailable")
    assert "PostgreSQL" in problem["detail"]
    assert "Traceback" not in response.text


async def test_postgres_killed_means_503_with_retry_after_and_success_soon_after_it_is_back(
    throwaway_postgres: ThrowawayPostgres, throwaway_database: str, redis_url: str
) -> None:
    day = await _prepare(throwaway_database)
    prefix = f"tbfault:{uuid.uuid4().hex[:8]}:"
    async with client_of(api(throwaway_database, redis_url, prefix)) as client:
        token = await client.post(
            "/api/v1/auth/token", data={"username": HOST_EMAIL, "password": HOST_PASSWORD}
        )
        assert token.status_code == 200, token.text
        signed_in = {"Authorization": f"Bearer {token.json()['access_token']}"}
        routes = _routes(client, signed_in, day)
        # Every pooled connection in use once, so the crash breaks them all.
        warm = await asyncio.gather(*(routes["GET /bookings/my-bookings"]() for _ in range(8)))
        assert {r.status_code for r in warm} == {200}

        throwaway_postgres.kill_9()
        during = await asyncio.gather(*(call() for call in routes.values()))
        for route, response in zip(routes, during, strict=True):
            _assert_postgres_unavailable(response, route)

        throwaway_postgres.start()
        back = time.monotonic()
        for route, call in routes.items():
            while not (response := await call()).is_success:
                _assert_postgres_unavailable(response, route)
                assert time.monotonic() - back < BACK_WITHIN_SECONDS, f"{route} not back yet"
                await asyncio.sleep(0.1)
        # And stays back: no connection broken by the crash is handed out later.
        after = await asyncio.gather(*(routes["GET /bookings/my-bookings"]() for _ in range(8)))
        assert {r.status_code for r in after} == {200}
        assert (await routes["POST /bookings"]()).status_code == 201
