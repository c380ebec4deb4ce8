"""Servers the fault tests own: a PostgreSQL cluster and Redis servers they stop, kill -9
and start again (`tests.support.throwaway`), never the shared ones.

Also the pieces those tests assemble: the API over given servers, and the projector
daemon's group of projections running in this process until told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

import projectors.registry as registry
from api.app import create_app
from api.services import ApiConfig, Services
from projectors.runner import grouped, run_until_stopped
from tablebook.database import create_database, migrate, with_database
from tablebook.projector_commands import backends, projection_runners
from tablebook.runtime import open_services
from tests.support.scope import to_test_venue, wait_for_test_venue
from tests.support.throwaway import ThrowawayPostgres, ThrowawayRedis, missing_servers

SECRET = "a-test-secret-key-long-enough-for-hs256-signing"

Client = AsyncTestClient[Litestar]


@pytest.fixture(scope="package")
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL cluster of the tests' own, running; each test leaves it running."""
    if (why := missing_servers()) is not None:
        pytest.skip(f"the fault tests own their servers: {why}")
    server = ThrowawayPostgres()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def throwaway_database(throwaway_postgres: ThrowawayPostgres) -> str:
    """A fresh, migrated database on the throwaway cluster."""
    name = f"tablebook_fault_{uuid.uuid4().hex[:8]}"
    create_database(throwaway_postgres.url, name)
    url = with_database(throwaway_postgres.url, name)
    migrate(url)
    return url


@pytest.fixture
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    if (why := missing_servers()) is not None:
        pytest.skip(f"the fault tests own their servers: {why}")
    server = ThrowawayRedis()
    server.start()
    try:
        yield server
    finally:
        server.kill()


def api(database_url: str, redis_url: str, redis_prefix: str) -> Litestar:
    config = ApiConfig(secret_key=SECRET, bcrypt_rounds=4, login_attempts_per_address=1000)

    def services() -> AbstractAsyncContextManager[Services]:
        return open_services(database_url, redis_url, pool_size=4, redis_prefix=redis_prefix)

    return create_app(config, services)


@contextlib.asynccontextmanager
async def client_of(app: Litestar) -> AsyncIterator[Client]:
    async with AsyncTestClient(app, raise_server_exceptions=False) as client:
        client.event_hooks = {"request": [to_test_venue], "response": []}
        yield client


@contextlib.asynccontextmanager
async def projecting(database_url: str, redis_url: str, redis_prefix: str) -> AsyncIterator[None]:
    """Every projection, run as the daemon runs them, until the block ends."""
    stop = asyncio.Event()
    async with backends(database_url, redis_url, redis_prefix) as b:
        group = grouped(projection_runners(b), b.store, registry.codec)
        running = asyncio.create_task(run_until_stopped(group, stop))
        try:
            await wait_for_test_venue(b.pool)
            yield
        finally:
            stop.set()
            await running
