"""The live floor over Server-Sent Events, from a real HTTP server: bookings made through
the command handlers and projected to the live-status stream reach a connected client
once each, in order, and a client that reconnects with `Last-Event-ID` misses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from typing import Any, ClassVar

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
from booking_core.codec import codec
from booking_core.domain.commands import Actor, BookTable, CancelBooking
from booking_core.handlers import book_table, cancel_booking
from booking_core.store.postgres import PostgresEventStore
from projectors.live_status import LiveStatusProjection
from projectors.runner import RedisProjectionRunner
from read_models.live_status_keys import stream_key
from tests.support.catch_up import redis_caught_up
from tests.support.providers import free_port
from tests.support.scope import TEST_VENUE
from tests.support.venue import command_id, days_ahead, open_venue

ZONE = "Europe/Dublin"


class QuickHeartbeat(LiveStatusController):
    heartbeat_seconds: ClassVar[float] = 0.2


@pytest.fixture
async def base_url(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> AsyncIterator[str]:
    services = Services(pool=pool, redis=redis, store=clean_store, redis_prefix=redis_prefix)
    app = Litestar(
        route_handlers=[Router(path="/api/v1", route_handlers=[QuickHeartbeat])],
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
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


class Listener:
    """Reads one SSE connection in the background, keeping events and comments."""

    def __init__(self, base_url: str, day: date, last_event_id: str | None = None) -> None:
        self.events: list[tuple[str, dict[str, str]]] = []
        self.comments: list[str] = []
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        self._request = (f"{base_url}/api/v1/tables/status/stream", {"date": day.isoformat()})
        self._headers = headers
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def _read(self) -> None:
        url, params = self._request
        async with (
            httpx.AsyncClient(timeout=10) as client,
            client.stream("GET", url, params=params, headers=self._headers) as response,
        ):
            assert response.headers["content-type"].startswith("text/event-stream")
            event: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    self.connected.set()
                elif line == "" and "id" in event:
                    self.events.append((event["id"], json.loads(event["data"])))
                    event = {}
                elif ":" in line:
                    field, _, value = line.partition(":")
                    event[field] = value.strip()

    async def __aenter__(self) -> Listener:
        self._task = asyncio.create_task(self._read())
        await asyncio.wait_for(self.connected.wait(), 5)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def wait_for(self, n: int, timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.events) < n:
            assert asyncio.get_running_loop().time() < deadline, f"{len(self.events)} of {n}"
            await asyncio.sleep(0.01)


async def book(store: PostgresEventStore, now: datetime, n: int, table_id: str) -> None:
    await book_table(
        store,
        BookTable(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=Actor(user_id=f"u-guest-{n}"),
            now=now,
            booking_id=f"b-{n:02d}",
            date=days_ahead(now, 2),
            time=time(8 + 2 * (n // 3), 0),
            party_size=2,
            guest_name=f"Guest {n}, party of 2",
            guest_email=f"guest{n}@example.test",
            table_ids=(table_id,),
        ),
    )


async def test_each_change_arrives_once_in_order_and_a_reconnect_resumes_after_the_last(
    clean_store: PostgresEventStore,
    pool: AsyncConnectionPool[Any],
    redis: Redis,
    redis_prefix: str,
    base_url: str,
) -> None:
    store = clean_store
    now = datetime.now(UTC)
    day = days_ahead(now, 2)
    await open_venue(store, now, ZONE)
    runner = RedisProjectionRunner(LiveStatusProjection(), store, codec, redis, redis_prefix)
    await redis_caught_up(runner, pool, redis, redis_prefix)
    tables = ["T1", "T2", "T3"]

    async with Listener(base_url, day) as first:
        for n in range(6):
            await book(store, now, n, tables[n % 3])
            await redis_caught_up(runner, pool, redis, redis_prefix)
        await first.wait_for(6)
    resume_from = first.events[-1][0]

    await cancel_booking(
        store,
        CancelBooking(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=Actor(user_id="u-guest-1"),
            now=now,
            booking_id="b-01",
        ),
    )
    for n in range(6, 9):
        await book(store, now, n, tables[n % 3])
    await redis_caught_up(runner, pool, redis, redis_prefix)

    async with Listener(base_url, day, last_event_id=resume_from) as second:
        await second.wait_for(4)
        await asyncio.sleep(0.3)  # nothing more is coming

    stream: Any = await redis.xrange(stream_key(redis_prefix, TEST_VENUE, day))
    expected = [entry_id.decode() for entry_id, _ in stream]
    received = [event_id for event_id, _ in first.events + second.events]
    assert received == expected, "every change once, in order, across the reconnect"
    statuses = [(e["table_id"], e["status"]) for _, e in first.events + second.events]
    assert statuses[:6] == [(tables[n % 3], "booked") for n in range(6)]
    assert statuses[6] == ("T2", "available")
    assert set(first.events[0][1]) == {"table_id", "date", "time", "status"}
    assert first.events[0][1]["date"] == day.isoformat()
    assert first.events[0][1]["time"] == "08:00"


async def test_a_quiet_stream_sends_heartbeats(base_url: str) -> None:
    async with Listener(base_url, date(2031, 5, 1)) as quiet:
        await asyncio.sleep(0.7)
    assert quiet.comments.count("heartbeat") >= 2
    assert quiet.events == []


async def test_the_query_parameter_resumes_like_the_header(
    redis: Redis, redis_prefix: str, base_url: str
) -> None:
    key = stream_key(redis_prefix, TEST_VENUE, date(2031, 5, 2))
    for n in range(3):
        await redis.xadd(
            key,
            {"table_id": f"T{n}", "date": "2031-05-02", "time": "19:00", "status": "booked"},
            id=f"{100 + n}-0",
        )
    url = f"{base_url}/api/v1/tables/status/stream"
    async with (
        httpx.AsyncClient(timeout=5) as client,
        client.stream("GET", url, params={"date": "2031-05-02", "last_event_id": "100-0"}) as reply,
    ):
        ids: list[str] = []
        async for line in reply.aiter_lines():
            if line.startswith("id:"):
                ids.append(line.partition(":")[2].strip())
            if len(ids) == 2:
                break
    assert ids == ["101-0", "102-0"]


@pytest.mark.parametrize(
    "query", ["date=2031-02-30", "date=tomorrow", "date=2031-05-02&last_event_id=x"]
)
async def test_a_bad_date_or_id_is_a_problem_400(base_url: str, query: str) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        reply = await client.get(f"{base_url}/api/v1/tables/status/stream?{query}")
    assert reply.status_code == 400
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert reply.json()["status"] == 400
