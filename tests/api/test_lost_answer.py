"""A booking whose answer was lost (the connection dropped after the commit, the process
died before keeping a copy of its answer) is tried again with the same `Idempotency-Key`:
the retry answers with the first booking, and the store holds it once. The key and the
request's fingerprint are recorded in the append's own transaction, and the ids the
request creates derive from the key, so nothing but PostgreSQL has to remember."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from api.context import forget_replays
from booking_core.store.postgres import PostgresEventStore
from tests.api.conftest import Headers
from tests.support.scope import STREAMS

Client = AsyncTestClient[Litestar]


async def test_a_retry_after_a_lost_answer_gets_the_first_booking_and_writes_nothing(
    client: Client,
    guest: Headers,
    days: Iterator[dt.date],
    pool: AsyncConnectionPool[Any],
    database_url: str,
    redis_url: str,
    redis_prefix: str,
) -> None:
    day = next(days)
    body = {"date": day.isoformat(), "time": "18:30", "party_size": 2, "guest_name": "Ada"}
    headers = {**guest, "Idempotency-Key": f"lost-answer-{day}"}
    first = await client.post("/api/v1/bookings/", json=body, headers=headers)
    assert first.status_code == 201, first.text
    redis = Redis.from_url(redis_url)
    try:  # no copy of the answer was kept: only PostgreSQL knows the key
        assert await forget_replays(redis, redis_prefix) >= 1
    finally:
        await redis.aclose()

    again = await client.post("/api/v1/bookings/", json=body, headers=headers)

    assert again.status_code == 201, again.text
    assert "idempotent-replayed" not in again.headers
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    store = PostgresEventStore(pool, database_url)
    events = await store.read_stream(STREAMS.booking(first.json()["id"]))
    assert [e.type for e in events] == ["BookingPlaced"]
    refused = await client.post(
        "/api/v1/bookings/", json={**body, "party_size": 3}, headers=headers
    )
    assert refused.status_code == 422  # the key is the first request's, in PostgreSQL too
