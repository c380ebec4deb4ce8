"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin

from api.health import HealthController
from api.problems import exception_handlers
from api.services import ApiConfig, Services, ServicesFactory

__all__ = ["create_app"]

VERSION = "1.0.0"


def create_app(config: ApiConfig, open_services: ServicesFactory) -> Litestar:
    """Build the app; `open_services` opens the pools and clients for its lifetime."""
    holder: dict[str, Services] = {}

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with open_services() as services:
            holder["services"] = services
            yield

    def provide_services() -> Services:
        return holder["services"]

    return Litestar(
        route_handlers=[HealthController],
        dependencies={"services": Provide(provide_services, sync_to_thread=False)},
        lifespan=[lifespan],
        exception_handlers=exception_handlers,
        request_max_body_size=config.max_body_bytes,
        cors_config=CORSConfig(allow_origins=list(config.cors_origins))
        if config.cors_origins
        else None,
        openapi_config=OpenAPIConfig(
            title="tablebook",
            version=VERSION,
            description="Restaurant table reservations, event-sourced.",
            path="/",
            render_plugins=[SwaggerRenderPlugin(path="/docs"), RedocRenderPlugin(path="/redoc")],
        ),
        logging_config=None,
        debug=False,
    )
