"""Test infrastructure: a fresh PostgreSQL database and Redis key prefix for each run.

With `DATABASE_URL` / `REDIS_URL` set, the run creates its own database on that server
(and drops it afterwards) and uses a prefix of its own in Redis. With them unset, the
embedded servers start for the run.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from booking_core.store.postgres import PostgresEventStore
from tablebook.database import create_database, drop_database, migrate, open_pool, with_database


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run the long soak tests")


_EMBEDDED = pytest.StashKey[contextlib.ExitStack]()


def pytest_configure(config: pytest.Config) -> None:
    """Without `DATABASE_URL` and `REDIS_URL`, the embedded servers start here, in the
    process that runs the session (with pytest-xdist, the controller, before it starts
    the workers, which inherit the URLs), and stop when the whole session ends. Were a
    worker to start them, they would stop with that worker, under the others."""
    if os.environ.get("PYTEST_XDIST_WORKER") or config.option.help or config.option.collectonly:
        return
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return
    from tablebook.embedded import embedded_services

    stack = contextlib.ExitStack()
    for name in ("DATABASE_URL", "REDIS_URL"):  # as they were, once the servers stop
        stack.callback(_restore, name, os.environ.get(name))
    data_dir = Path(os.environ.get("TABLEBOOK_TEST_DATA_DIR", ".data/test"))
    urls = stack.enter_context(
        embedded_services(
            data_dir,
            postgres=not os.environ.get("DATABASE_URL"),
            redis=not os.environ.get("REDIS_URL"),
        )
    )
    if urls.database_url:
        os.environ["DATABASE_URL"] = urls.database_url
    if urls.redis_url:
        os.environ["REDIS_URL"] = urls.redis_url
    config.stash[_EMBEDDED] = stack


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def pytest_unconfigure(config: pytest.Config) -> None:
    stack = config.stash.get(_EMBEDDED, None)
    if stack is not None:
        stack.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _fuzz_last(items)
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="a soak test: `make soak` runs it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def _fuzz_last(items: list[pytest.Item]) -> None:
    """The API tests share one venue, and the fuzzer changes it at random (tables of any
    size, hours, slot settings): it runs after the other API tests, so none of them meets
    what it left behind."""
    fuzz = [item for item in items if item.nodeid.startswith(_FUZZER)]
    if not fuzz:
        return
    rest = [item for item in items if not item.nodeid.startswith(_FUZZER)]
    api = [n for n, item in enumerate(rest) if item.nodeid.startswith("tests/api/")]
    cut = api[-1] + 1 if api else len(rest)
    items[:] = [*rest[:cut], *fuzz, *rest[cut:]]


_FUZZER = "tests/api/test_schemathesis_"


@pytest.fixture(scope="session")
def servers() -> tuple[str, str]:
    """URLs of a PostgreSQL server and a Redis server: the given ones, or the embedded
    ones the session started (`pytest_configure`)."""
    return os.environ["DATABASE_URL"], os.environ["REDIS_URL"]


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def database_url(servers: tuple[str, str], run_id: str) -> Iterator[str]:
    """A fresh, migrated database for this test run, dropped at the end."""
    server_url = servers[0]
    name = f"tablebook_test_{run_id}"
    create_database(server_url, name)
    url = with_database(server_url, name)
    try:
        migrate(url)
        yield url
    finally:
        with contextlib.suppress(Exception):
            drop_database(server_url, name)


@pytest.fixture(scope="session")
def redis_url(servers: tuple[str, str]) -> str:
    return servers[1]


@pytest.fixture(scope="session")
def redis_prefix(run_id: str) -> str:
    return f"tbtest:{run_id}:"


@pytest.fixture
async def redis(redis_url: str, redis_prefix: str) -> AsyncIterator[Redis]:
    """A Redis client; the run's keys are gone before and after the test."""
    client = Redis.from_url(redis_url)
    async for key in client.scan_iter(match=redis_prefix + "*"):
        await client.delete(key)
    yield client
    async for key in client.scan_iter(match=redis_prefix + "*"):
        await client.delete(key)
    await client.aclose()


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[AsyncConnectionPool[Any]]:
    pool = await open_pool(database_url, min_size=2, max_size=20)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def clean_store(pool: AsyncConnectionPool[Any], database_url: str) -> PostgresEventStore:
    """The PostgreSQL event store, emptied before the test."""
    async with pool.connection() as connection:
        await connection.execute("TRUNCATE events, streams, idempotency_keys RESTART IDENTITY")
    return PostgresEventStore(pool, database_url)
