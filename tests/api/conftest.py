"""The real app over HTTP, against the run's PostgreSQL database and Redis.

The API tests share one world: an empty event store, a venue open every day from 10:00
to 23:45 (Europe/London), six tables, an admin, and the projector daemon running as a
process for as long as the package's tests run. Each test books on days and at times
of its own (`days`), so tests never see each other's bookings.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from api.accounts import PasswordHasher, UserStore
from api.app import create_app
from api.services import ApiConfig, Services
from booking_core.domain.commands import (
    Actor,
    AddTable,
    ChangeSlotSettings,
    SetOpeningHours,
)
from booking_core.domain.streams import DEFAULT_VENUE_ID
from booking_core.domain.values import OpeningHours, Shift, TurnTime
from booking_core.handlers import add_table, change_venue
from booking_core.store.postgres import PostgresEventStore
from tablebook.runtime import open_services
from tests.support.models import clear_read_models
from tests.support.scope import TEST_VENUE, open_test_venue, to_test_venue, wait_for_test_venue

SECRET = "test-secret-key-that-is-long-enough-for-hs256"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-1"
TIME_ZONE = "Europe/London"
TABLES = [
    ("t1", "T1", 2, 1, "Main"),
    ("t2", "T2", 2, 1, "Main"),
    ("t3", "T3", 4, 2, "Main"),
    ("t4", "T4", 4, 2, "Terrace"),
    ("t5", "T5", 6, 3, "Terrace"),
    ("t6", "T6", 8, 4, "Terrace"),
]


@pytest.fixture(scope="package")
def api_config() -> ApiConfig:
    return ApiConfig(
        secret_key=SECRET,
        bcrypt_rounds=4,
        login_attempts_per_account=5,
        login_attempts_per_address=50,
        consistency_timeout=5.0,
    )


async def _reset(pool: AsyncConnectionPool[Any], redis_url: str, prefix: str) -> None:
    async with pool.connection() as connection:
        await connection.execute(
            "TRUNCATE events, streams, idempotency_keys, users, venue_staff RESTART IDENTITY"
        )
    redis = Redis.from_url(redis_url)
    try:
        await clear_read_models(pool, redis, prefix)
    finally:
        await redis.aclose()


async def _open_venue(store: PostgresEventStore) -> None:
    admin = Actor(user_id="setup", role="admin")
    if TEST_VENUE != DEFAULT_VENUE_ID:  # a deployment of before venues: its venue is Main
        await change_venue(
            store,
            SetOpeningHours(
                command_id="setup-main",
                actor=admin,
                now=dt.datetime.now(dt.UTC),
                hours=OpeningHours.every_day(Shift(opens=dt.time(12, 0), closes=dt.time(22, 0))),
            ),
        )
    await open_test_venue(store, TIME_ZONE)
    now = dt.datetime.now(dt.UTC)
    hours = OpeningHours.every_day(Shift(opens=dt.time(10, 0), closes=dt.time(23, 45)))
    await change_venue(
        store,
        SetOpeningHours(
            venue_id=TEST_VENUE, command_id="setup-hours", actor=admin, now=now, hours=hours
        ),
    )
    await change_venue(
        store,
        ChangeSlotSettings(
            venue_id=TEST_VENUE,
            command_id="setup-slots",
            actor=admin,
            now=now,
            interval_minutes=15,
            turn_times=(
                TurnTime(max_party_size=2, minutes=90),
                TurnTime(max_party_size=8, minutes=120),
            ),
            buffer_minutes=0,
            min_lead_minutes=0,
            max_days_ahead=365,
            time_zone=TIME_ZONE,
        ),
    )
    for table_id, name, capacity, minimum, area in TABLES:
        await add_table(
            store,
            AddTable(
                venue_id=TEST_VENUE,
                command_id=f"setup-{table_id}",
                actor=admin,
                now=now,
                table_id=table_id,
                name=name,
                capacity=capacity,
                min_capacity=minimum,
                area=area,
            ),
        )


@dataclass
class World:
    pool: AsyncConnectionPool[Any]
    store: PostgresEventStore
    redis_prefix: str


@pytest.fixture(scope="package")
async def world(
    database_url: str, redis_url: str, redis_prefix: str, pool: AsyncConnectionPool[Any]
) -> AsyncIterator[World]:
    """A fresh store and read models, the venue, an admin, and the projector daemon
    running as its own process (`tablebook projectors run`), as in production."""
    await _reset(pool, redis_url, redis_prefix)
    store = PostgresEventStore(pool, database_url)
    await _open_venue(store)
    users = UserStore(pool)
    hashed = await PasswordHasher(4).hash(ADMIN_PASSWORD)
    await users.upsert_admin(email=ADMIN_EMAIL, password_hash=hashed, full_name="Ada Admin")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix,
        "NOTIFY_WITH_PROJECTORS": "false",
        "LOG_LEVEL": "WARNING",
    }
    daemon = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tablebook.cli", "projectors", "run", env=env
    )
    try:
        await wait_for_test_venue(pool)
        yield World(pool, store, redis_prefix)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(daemon.wait(), 10)
        except TimeoutError:
            daemon.kill()
            await daemon.wait()
    await _reset(pool, redis_url, redis_prefix)


@pytest.fixture(scope="package")
def app(api_config: ApiConfig, database_url: str, redis_url: str, redis_prefix: str) -> Litestar:
    def services() -> AbstractAsyncContextManager[Services]:
        return open_services(database_url, redis_url, pool_size=8, redis_prefix=redis_prefix)

    return create_app(api_config, services)


@pytest.fixture(scope="package")
async def client(app: Litestar, world: World) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        client.event_hooks = {"request": [to_test_venue], "response": []}
        yield client


Headers = dict[str, str]


async def sign_in(client: AsyncTestClient[Litestar], email: str, password: str) -> Headers:
    response = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="package")
async def admin(client: AsyncTestClient[Litestar]) -> Headers:
    return await sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)


NewUser = Callable[..., Awaitable[tuple[Headers, dict[str, Any]]]]


@pytest.fixture
def new_user(client: AsyncTestClient[Litestar]) -> NewUser:
    """Register a fresh guest; its sign-in headers and `User`."""

    async def make(
        name: str = "Grace Hopper", password: str = "correct horse"
    ) -> tuple[Headers, dict[str, Any]]:
        email = f"guest-{uuid.uuid4().hex[:12]}@example.com"
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": password, "full_name": name},
        )
        assert response.status_code == 201, response.text
        return await sign_in(client, email, password), response.json()

    return make


@pytest.fixture
async def guest(new_user: NewUser) -> Headers:
    headers, _ = await new_user()
    return headers


_days = itertools.count(3)


@pytest.fixture
def days() -> Iterator[dt.date]:
    """Dates no other test books on: each `next(days)` is a new one, from three days out."""
    today = dt.date.today()
    return (today + dt.timedelta(days=next(_days)) for _ in itertools.count())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serving(database_url: str, redis_url: str, redis_prefix: str, **settings: str) -> Iterator[str]:
    """The base URL of a `tablebook serve` process with these settings (environment
    variables) over the defaults below, stopped on leaving."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix,
        "SECRET_KEY": SECRET,
        "BCRYPT_ROUNDS": "4",
        "LOGIN_ATTEMPTS_PER_ADDRESS": "1000",
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tablebook.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"tablebook serve exited with {process.returncode}:\n{output}")
            try:
                if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("tablebook serve did not come up within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="package")
def live_server(
    database_url: str, redis_url: str, redis_prefix: str, world: World
) -> Iterator[str]:
    """The base URL of a `tablebook serve` process; the package's projectors feed it."""
    with serving(database_url, redis_url, redis_prefix) as url:
        yield url
