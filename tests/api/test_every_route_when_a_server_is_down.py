"""Every operation of the served contract, sent signed in as an admin with the examples it
documents, while Redis is down and then while PostgreSQL cannot be reached: none answers
500, and each that needs the missing server answers 503 with `Retry-After`, naming it.

The shared servers are not stopped: the API is pointed at a port nothing listens on. (The
restart tests in `tests/faults/` stop and kill servers of their own.)
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg_pool import AsyncConnectionPool

import projectors.registry as registry
from api.accounts import PasswordHasher, UserStore
from api.accounts.security import TokenService
from api.app import create_app
from api.services import ApiConfig, Services
from booking_core.store.postgres import PostgresEventStore
from tablebook.redis_url import open_redis
from tablebook.runtime import open_services
from tests.api.conftest import Headers, World
from tests.api.test_openapi_contract import operations
from tests.support.scope import TEST_VENUE
from tests.support.throwaway import free_port

PLACEHOLDER = re.compile(r"\{([^}]+)\}")
Answer = tuple[int, str | None, str]
"""Status, `Retry-After`, and the body (empty for a stream, which is not read)."""


def _revokes(route: tuple[str, str, dict[str, Any]]) -> bool:
    """Signing out and closing the account end the walk's session: they go last."""
    method, path, _ = route
    return path.endswith("/auth/sign-out") or (method == "delete" and path.endswith("/auth/me"))


def _example(schema: dict[str, Any], shape: dict[str, Any]) -> Any:
    while "$ref" in shape:
        shape = schema["components"]["schemas"][shape["$ref"].rsplit("/", 1)[-1]]
    return (shape.get("examples") or [shape.get("example")])[0]


def request_of(schema: dict[str, Any], path: str, operation: dict[str, Any]) -> dict[str, Any]:
    """The URL with its path parameters, every header and each required query
    parameter (each its documented example), and the body's example."""
    values: dict[str, str] = {"venue_id": TEST_VENUE}
    query: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        value = parameter.get("example")
        if value is None:
            value = _example(schema, parameter.get("schema", {}))
        if parameter["in"] == "path":
            values.setdefault(parameter["name"], str(value if value is not None else "x"))
        elif parameter["in"] == "header" and value is not None:
            headers[parameter["name"]] = str(value)
        elif parameter["in"] == "query" and parameter.get("required"):
            query[parameter["name"]] = value
    url = PLACEHOLDER.sub(lambda name: values[name.group(1)], path)
    sent: dict[str, Any] = {"url": url, "params": query, "headers": headers}
    for media, content in operation.get("requestBody", {}).get("content", {}).items():
        body = _example(schema, content.get("schema", {}))
        sent["json" if media == "application/json" else "data"] = body
    return sent


async def schema_of(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    schema: dict[str, Any] = (await client.get("/openapi.json")).json()
    return schema


def streams(operation: dict[str, Any]) -> bool:
    return any("text/event-stream" in r.get("content", {}) for r in operation["responses"].values())


async def answers(
    client: AsyncTestClient[Litestar], signed_in: Headers, skip: Callable[[dict[str, Any]], bool]
) -> dict[str, Answer]:
    """Each operation's answer, those that end the session last."""
    schema = await schema_of(client)
    found: dict[str, Answer] = {}
    for method, path, operation in sorted(operations(schema), key=_revokes):
        if skip(operation):
            continue
        sent = request_of(schema, path, operation)
        sent["headers"] = {**signed_in, **sent["headers"]}
        async with client.stream(method.upper(), **sent) as response:
            streamed = response.headers.get("content-type", "").startswith("text/event-stream")
            if not streamed:
                await response.aread()
            text = "" if streamed else response.text
            found[f"{method.upper()} {path}"] = (
                response.status_code,
                response.headers.get("retry-after"),
                text,
            )
    return found


def assert_no_server_error(found: dict[str, Answer], server: str) -> set[str]:
    """No 500: every 5xx is a 503 with `Retry-After` that names `server`. Returns the
    routes that answered 503."""
    errors = {route: answer for route, answer in found.items() if answer[0] >= 500}
    assert {route: status for route, (status, _, _) in errors.items() if status != 503} == {}
    assert {route for route, (_, wait, _) in errors.items() if not wait or int(wait) < 1} == set()
    assert {
        route for route, (_, _, text) in errors.items() if server.lower() not in text.lower()
    } == set()
    return set(errors)


async def _walk_admin(world: World, config: ApiConfig) -> Headers:
    """An admin of the walk's own (a sign-out ends only their session), and a token for
    them: signing in needs both servers."""
    users = UserStore(world.pool)
    user = await users.upsert_admin(
        email=f"walk-{uuid.uuid4().hex[:8]}@example.com",
        password_hash=await PasswordHasher(4).hash("a-walk-password"),
        full_name="Grace Hopper",
    )
    token, _ = TokenService(config.secret_key).issue(user)
    return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def _client(config: ApiConfig, services: Any) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(create_app(config, services), raise_server_exceptions=False) as c:
        yield c


async def test_with_redis_down_no_route_answers_500(
    world: World, api_config: ApiConfig, database_url: str
) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    signed_in = await _walk_admin(world, api_config)

    def services() -> AbstractAsyncContextManager[Services]:
        return open_services(database_url, nowhere, pool_size=4, redis_prefix=world.redis_prefix)

    async with _client(api_config, services) as client:
        found = await answers(client, signed_in, skip=lambda _: False)
    unavailable = assert_no_server_error(found, "Redis")
    assert {
        "GET /api/v1/availability",
        "GET /api/v1/bookings/tables",
        "POST /api/v1/auth/token",
        "POST /api/v1/venues/{venue_id}/public/bookings",
        "GET /api/v1/tables/status/stream",  # sent with Last-Event-ID, as a browser resumes
    } <= unavailable


@contextlib.asynccontextmanager
async def _services_without_postgres(redis_url: str, prefix: str) -> AsyncIterator[Services]:
    """The API's services with a pool whose server is not there: each connection asked
    of it is a `PoolTimeout` after a short wait, as while PostgreSQL is down."""
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url, min_size=0, max_size=2, timeout=0.05, open=False
    )
    await pool.open(wait=False)
    try:
        async with open_redis(redis_url, socket_connect_timeout=2, socket_timeout=5) as redis:
            yield Services(
                pool=pool,
                redis=redis,
                store=PostgresEventStore(pool, url),
                redis_prefix=prefix,
                followed=registry.followed(),
            )
    finally:
        await pool.close()


async def test_with_postgres_unreachable_no_route_answers_500(
    world: World, api_config: ApiConfig, redis_url: str
) -> None:
    signed_in = await _walk_admin(world, api_config)

    def services() -> AbstractAsyncContextManager[Services]:
        return _services_without_postgres(redis_url, world.redis_prefix)

    async with _client(api_config, services) as client:
        # The live stream reads Redis only: it opens and never ends by itself, and the
        # test client waits for a response's end. The Redis walk covers it.
        found = await answers(client, signed_in, skip=streams)
        schema = await schema_of(client)
    unavailable = assert_no_server_error(found, "Postgres")
    # Each signed-in request looks its user up in PostgreSQL.
    signed_in_routes = {
        f"{method.upper()} {path}"
        for method, path, operation in operations(schema)
        if operation.get("security") and not streams(operation)
    }
    assert signed_in_routes <= unavailable
    assert "POST /api/v1/auth/token" in unavailable
