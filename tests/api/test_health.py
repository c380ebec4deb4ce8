"""Health endpoints and the documentation routes."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.services import ApiConfig, Services
from tablebook.runtime import open_services


async def test_live_answers_ok(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_checks_postgres_and_redis(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"postgres": "ok", "redis": "ok", "projections": "ok"}


async def test_ready_is_503_naming_redis_when_redis_is_down(
    api_config: ApiConfig, database_url: str
) -> None:
    def services() -> AbstractAsyncContextManager[Services]:
        # Nothing listens on port 1: a Redis that is down.
        return open_services(database_url, "redis://127.0.0.1:1/0", pool_size=2)

    async with AsyncTestClient(create_app(api_config, services)) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["status"] == 503
    assert "redis" in body["detail"]
    assert "postgres" not in body["detail"]


async def test_docs_and_schema_are_served(client: AsyncTestClient[Litestar]) -> None:
    schema = await client.get("/openapi.json")
    assert schema.status_code == 200
    assert "/health/ready" in schema.json()["paths"]
    for page in ("/docs", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        assert "text/html" in response.headers["content-type"]


async def test_an_unknown_route_is_a_problem_not_a_page(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Not found"


async def test_a_wrong_method_is_a_problem(client: AsyncTestClient[Litestar]) -> None:
    response = await client.delete("/health/live")
    assert response.status_code == 405
    assert response.json()["status"] == 405
