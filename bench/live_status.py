"""Live status over SSE: from an append to its table status change reaching a connected
client, with the projector daemon and the HTTP server each in a process of their own, at
RATE bookings a second."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
from litestar import Litestar
from litestar.di import Provide

from api.floor.live import LiveStatusController
from api.problems import exception_handlers
from api.services import Services
from bench.harness import Measure, percentile
from bench.projections import TABLES as _TABLES
from bench.projections import _booking_appends, _forget
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import open_pool
from tablebook.runtime import open_services

RATE = 50
SECONDS = 10.0
_FIRST_DAY = date(2030, 1, 1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def create_app() -> Litestar:
    """The live-status endpoint alone, served by `uvicorn --factory` in its own process."""
    database_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    prefix = os.environ["REDIS_PREFIX"]
    holder: dict[str, Services] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with open_services(database_url, redis_url, redis_prefix=prefix) as services:
            holder["services"] = services
            yield

    return Litestar(
        route_handlers=[LiveStatusController],
        dependencies={"services": Provide(lambda: holder["services"], sync_to_thread=False)},
        exception_handlers=exception_handlers,
        lifespan=[lifespan],
    )


def _days(bookings: int) -> list[date]:
    """The service dates `bench.projections`' bookings 0..bookings-1 fall on."""
    per_day = _TABLES * 12
    return [_FIRST_DAY + timedelta(days=d) for d in range((bookings - 1) // per_day + 1)]


async def _listen(url: str, day: date, received: dict[str, float], ready: asyncio.Event) -> None:
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("GET", url, params={"date": day.isoformat()}) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith(":"):
                ready.set()
            elif line.startswith("id:"):
                received[line[3:].strip()] = time.perf_counter()


async def _wait_until_serving(base_url: str) -> None:
    async with httpx.AsyncClient(timeout=1) as client:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                await client.get(f"{base_url}/api/v1/tables/status/stream", params={"date": "x"})
                return
            await asyncio.sleep(0.05)
    raise RuntimeError("the SSE server never answered")


async def latency_samples(url: str, redis_url: str, prefix: str, port: int) -> list[float]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": prefix,
        "LOG_LEVEL": "WARNING",
    }
    daemon = subprocess.Popen(  # noqa: ASYNC220 - started once, before any timing
        [sys.executable, "-m", "tablebook.cli", "projectors", "run", "live_status"], env=env
    )
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before any timing
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench.live_status:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    pool = await open_pool(url, min_size=2, max_size=4)
    store = PostgresEventStore(pool, url)
    sent: dict[str, float] = {}
    received: dict[str, float] = {}
    try:
        await _wait_until_serving(base_url)
        url = f"{base_url}/api/v1/tables/status/stream"
        readies = [asyncio.Event() for _ in _days(int(RATE * SECONDS))]
        listeners = [
            asyncio.create_task(_listen(url, day, received, ready))
            for day, ready in zip(_days(int(RATE * SECONDS)), readies, strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(ready.wait() for ready in readies)), 10)
        began = time.perf_counter()
        n = 0
        while time.perf_counter() - began < SECONDS:
            await asyncio.sleep(max(0.0, began + n / RATE - time.perf_counter()))
            at = time.perf_counter()
            token = (await store.append(_booking_appends(n))).token
            sent[f"{token.tx}-{token.position * 1000}"] = at
            n += 1
        for _ in range(200):  # ten seconds for the last ones to arrive
            if set(sent) <= set(received):
                break
            await asyncio.sleep(0.05)
        for listener in listeners:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
    finally:
        for process in (daemon, server):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        await pool.close()
    missing = set(sent) - set(received)
    if missing:
        raise RuntimeError(f"{len(missing)} of {len(sent)} changes never reached the client")
    return [received[event_id] - at for event_id, at in sent.items()]


def run(url: str, redis_url: str) -> list[Measure]:
    prefix = f"bench:{os.getpid()}:"
    try:
        lags = asyncio.run(latency_samples(url, redis_url, prefix, _free_port()))
    finally:
        asyncio.run(_forget(redis_url, prefix))
    p50, p99 = percentile(lags, 0.5) * 1000, percentile(lags, 0.99) * 1000
    name = f"append to SSE client, {RATE} bookings/s for {SECONDS:g} s"
    return [
        Measure(name=f"{name}, p50", value=p50, unit="ms"),
        Measure(name=f"{name}, p99", value=p99, unit="ms", goal="<= 100 ms", met=p99 <= 100),
    ]
