"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler

from api.accounts.admin import AdminUsersController
from api.accounts.auth import AuthController
from api.bookings.admin import AdminBookingsController
from api.bookings.availability import AvailabilityController
from api.bookings.guest import BookingsController
from api.console import console_router
from api.context import Api, provide_admin, provide_user
from api.floor.blocks import AdminBlocksController
from api.floor.layouts import AdminLayoutsController
from api.floor.live import LiveStatusController
from api.floor.tables import AdminTablesController
from api.floor.venue import AdminVenueController
from api.guards import authenticate_first
from api.health import HealthController
from api.openapi import document_problems, fix_allow_header
from api.problems import exception_handlers
from api.reports.events import AdminEventsController
from api.reports.history import AdminHistoryController
from api.reports.stats import AdminReportsController
from api.services import ApiConfig, Services, ServicesFactory
from api.strict import strict_requests
from api.venues.admin import AdminVenuesController
from api.venues.details import VenueDetailsController
from api.venues.directory import VenueDirectoryController
from api.venues.staff import VenueStaffController
from api.wire_text import wire_text

__all__ = ["ROUTES", "create_app"]

VERSION = "1.0.0"

ROUTES: Sequence[ControllerRouterHandler] = [
    HealthController,
    LiveStatusController,
    AuthController,
    AvailabilityController,
    BookingsController,
    AdminBookingsController,
    AdminReportsController,
    AdminUsersController,
    AdminEventsController,
    AdminHistoryController,
    AdminTablesController,
    AdminBlocksController,
    AdminLayoutsController,
    AdminVenueController,
    VenueDirectoryController,
    AdminVenuesController,
    VenueDetailsController,
    VenueStaffController,
]


def create_app(config: ApiConfig, open_services: ServicesFactory) -> Litestar:
    """Build the app; `open_services` opens the pools and clients for its lifetime."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_services() as services:
            app.state["api"] = Api(config, services)
            yield

    def provide_api(state: State) -> Api:
        api: Api = state["api"]
        return api

    def provide_services(state: State) -> Services:
        return provide_api(state).services

    return Litestar(
        route_handlers=[*ROUTES, console_router()],
        dependencies={
            "api": Provide(provide_api, sync_to_thread=False),
            "services": Provide(provide_services, sync_to_thread=False),
            "user": Provide(provide_user),
            "admin": Provide(provide_admin),
        },
        lifespan=[lifespan],
        on_startup=[document_problems],
        middleware=[wire_text, fix_allow_header],
        before_request=strict_requests,
        guards=[authenticate_first],
        exception_handlers=exception_handlers,
        request_max_body_size=config.max_body_bytes,
        cors_config=CORSConfig(
            allow_origins=list(config.cors_origins),
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "If-Match",
                "X-Consistency-Token",
                "Last-Event-ID",
            ],
            expose_headers=["X-Consistency-Token", "ETag", "Retry-After", "Location"],
        )
        if config.cors_origins
        else None,
        openapi_config=OpenAPIConfig(
            title="tablebook",
            version=VERSION,
            description="Restaurant table reservations, event-sourced.",
            path="/",
            render_plugins=[SwaggerRenderPlugin(path="/docs"), RedocRenderPlugin(path="/redoc")],
            components=Components(
                security_schemes={
                    "BearerAuth": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        bearer_format="JWT",
                        description="A token from POST /api/v1/auth/token.",
                    )
                }
            ),
        ),
        logging_config=None,
        debug=False,
    )
