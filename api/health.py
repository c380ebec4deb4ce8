"""Liveness and readiness: is the process up, and can it reach what it needs?"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from api.problems import PROBLEM_JSON, Problem, unavailable_response
from api.services import Services

__all__ = ["HealthController", "Readiness"]

CHECK_TIMEOUT = 2.0


class Liveness(msgspec.Struct, frozen=True):
    status: str


class Readiness(msgspec.Struct, frozen=True):
    status: str
    checks: dict[str, str]


async def _check_postgres(services: Services) -> None:
    async with services.pool.connection(timeout=CHECK_TIMEOUT) as connection:
        await connection.execute("SELECT 1")


async def _check_redis(services: Services) -> None:
    await services.redis.ping()


async def _outcome(check: Any, services: Services) -> str:
    try:
        await asyncio.wait_for(check(services), CHECK_TIMEOUT)
    except Exception as error:  # any failure means "not ready", whatever raised it
        return f"down: {type(error).__name__}"
    return "ok"


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", summary="The process is up")
    async def live(self) -> Liveness:
        return Liveness(status="ok")

    @get(
        "/ready",
        summary="PostgreSQL and Redis answer",
        responses={
            503: ResponseSpec(
                data_container=Problem,
                description="Not ready; retry after Retry-After",
                media_type=PROBLEM_JSON,
                generate_examples=False,
            )
        },
    )
    async def ready(
        self, services: NamedDependency[Services]
    ) -> Response[Readiness] | Response[Problem]:
        postgres, redis = await asyncio.gather(
            _outcome(_check_postgres, services), _outcome(_check_redis, services)
        )
        checks = {"postgres": postgres, "redis": redis}
        down = [name for name, outcome in checks.items() if outcome != "ok"]
        if down:
            return unavailable_response(f"not ready: {', '.join(down)} unreachable", "not-ready")
        return Response(Readiness(status="ok", checks=checks))
