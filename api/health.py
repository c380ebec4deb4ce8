"""Liveness and readiness: is the process up, can it reach what it needs, and are the
read models it answers from up to date?

Ready means PostgreSQL and Redis answer and no projection has an event older than
`READY_MAX_LAG_SECONDS` still to apply (on PostgreSQL's clock: see
`read_models.projection_lag`). A lagging projection makes the instance not ready, with
the projection named, so that a load balancer holds traffic back rather than serve
answers that miss recent bookings.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from api.context import Api
from api.metrics import Gauges, lagging
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
        summary="PostgreSQL and Redis answer, and no projection lags",
        description="503 while PostgreSQL or Redis is unreachable, or while a projection "
        "has an event older than `READY_MAX_LAG_SECONDS` (10 s by default) still to apply; "
        "the problem's detail names what is down or lagging.",
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
        self, services: NamedDependency[Services], api: NamedDependency[Api], state: State
    ) -> Response[Readiness] | Response[Problem]:
        postgres, redis = await asyncio.gather(
            _outcome(_check_postgres, services), _outcome(_check_redis, services)
        )
        checks = {"postgres": postgres, "redis": redis}
        down = [name for name, outcome in checks.items() if outcome != "ok"]
        if down:
            return unavailable_response(f"not ready: {', '.join(down)} unreachable", "not-ready")
        gauges: Gauges = state["gauges"]
        snapshot = await gauges.snapshot()
        late = lagging(snapshot, api.config.ready_max_lag_seconds)
        if late:
            named = ", ".join(
                f"{s.name} ({s.lag_seconds:.1f} s, {s.behind} events behind)" for s in late
            )
            return unavailable_response(f"not ready: projection lagging: {named}", "not-ready")
        read = snapshot.ok.get("sql_projections") and snapshot.ok.get("redis_projections")
        # Lag that could not be read (a slow server) does not take every instance out at
        # once: the servers answered, so the instance stays in, saying what it missed.
        checks["projections"] = "ok" if read else "unknown: lag unreadable"
        return Response(Readiness(status="ok", checks=checks))
