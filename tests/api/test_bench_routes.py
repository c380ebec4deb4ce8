"""The benchmark's ceiling routes: mounted only when asked for, and doing the work they
stand for (one INSERT per write)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.bench_routes import BENCH_ROUTES, BENCH_WRITES_DDL
from tablebook.asgi import app_for
from tablebook.settings import Settings


@pytest.fixture
async def bench_client(
    database_url: str, redis_url: str, redis_prefix: str
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": redis_prefix,
            "TABLEBOOK_BENCH_ROUTES": "1",
        },
        dotenv=None,
    )
    async with AsyncTestClient(app_for(settings), raise_server_exceptions=False) as client:
        yield client


def _rows(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        row: Any = connection.execute("SELECT count(*) FROM bench_writes").fetchone()
        return int(row[0])


async def test_the_write_ceiling_inserts_one_row_per_request(
    bench_client: AsyncTestClient[Litestar], database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(BENCH_WRITES_DDL)
        connection.execute("TRUNCATE bench_writes")
    for _ in range(3):
        response = await bench_client.post("/bench/write", json={"bench": True})
        assert response.status_code == 201, response.text
    assert _rows(database_url) == 3
    assert (await bench_client.get("/bench/hello")).json() == {"hello": "world"}
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("DROP TABLE bench_writes")


async def test_the_bench_routes_are_not_mounted_by_default(client: Any) -> None:
    assert {path for route in BENCH_ROUTES for path in route.paths} == {
        "/bench/hello",
        "/bench/write",
    }
    assert (await client.post("/bench/write", json={})).status_code in (404, 405)
    assert (await client.get("/bench/hello")).status_code == 404
