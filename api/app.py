"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler

from api.accounts.admin import AdminUsersController
from api.accounts.auth import AuthController
from api.accounts.personal import PersonalDataController
from api.book import book_router
from api.bookings.admin import AdminBookingsController
from api.bookings.availability import AvailabilityController
from api.bookings.guest import BookingsController
from api.bookings.public import PublicBookingsController, PublicVenueController
from api.console import console_router
from api.context import Api, provide_admin, provide_user
from api.docs_pages import docs_assets_router, docs_render_plugins
from api.floor.blocks import AdminBlocksController, VenueBlocksController
from api.floor.combinations import AdminCombinationsController
from api.floor.layouts import AdminLayoutsController
from api.floor.live import LiveStatusController
from api.floor.tables import AdminTablesController
from api.floor.venue import AdminVenueController
from api.guards import authenticate_first
from api.guests.admin import AdminGuestsController
from api.guests.erase import AdminGuestErasureController
from api.health import HealthController
from api.metrics import Gauges, metrics
from api.observe import observed
from api.openapi import document_problems, fix_allow_header
from api.problems import exception_handlers
from api.reports.events import AdminEventsController
from api.reports.history import AdminHistoryController
from api.reports.stats import AdminReportsController
from api.services import ApiConfig, Services, ServicesFactory
from api.strict import strict_requests
from api.venue_scope import provide_staff, provide_venue
from api.venues.admin import AdminVenuesController
from api.venues.clock import VenueClockController
from api.venues.details import VenueDetailsController
from api.venues.directory import VenueDirectoryController
from api.venues.staff import VenueStaffController
from api.waitlist.admin import AdminWaitlistController
from api.waitlist.guest import WaitlistGuestController
from api.wire_text import wire_text

__all__ = ["ROUTES", "create_app"]

VERSION = "1.0.0"

VENUE_ROUTES: Sequence[ControllerRouterHandler] = [
    VenueClockController,
    LiveStatusController,
    AvailabilityController,
    BookingsController,
    PublicBookingsController,
    PublicVenueController,
    AdminBookingsController,
    AdminReportsController,
    AdminEventsController,
    AdminHistoryController,
    AdminTablesController,
    AdminBlocksController,
    VenueBlocksController,
    AdminLayoutsController,
    AdminCombinationsController,
    AdminVenueController,
    AdminWaitlistController,
    WaitlistGuestController,
    AdminGuestsController,
    AdminGuestErasureController,
]
"""The routes of one venue: under `/api/v1` for the default venue, and again under
`/api/v1/venues/{venue_id}` (an id or a slug) for any venue (see `api.venue_scope`)."""

ROUTES: Sequence[ControllerRouterHandler] = [
    HealthController,
    AuthController,
    PersonalDataController,
    AdminUsersController,
    VenueDirectoryController,
    AdminVenuesController,
    VenueDetailsController,
    VenueStaffController,
    Router(path="/api/v1", route_handlers=list(VENUE_ROUTES)),
    Router(path="/api/v1/venues/{venue_id:str}", route_handlers=list(VENUE_ROUTES)),
]


def create_app(config: ApiConfig, open_services: ServicesFactory) -> Litestar:
    """Build the app; `open_services` opens the pools and clients for its lifetime."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_services() as services:
            app.state["api"] = Api(config, services)
            app.state["gauges"] = Gauges(services)
            yield

    def provide_api(state: State) -> Api:
        api: Api = state["api"]
        return api

    def provide_services(state: State) -> Services:
        return provide_api(state).services

    app = Litestar(
        route_handlers=[*ROUTES, metrics, console_router(), book_router(), docs_assets_router()],
        dependencies={
            "api": Provide(provide_api, sync_to_thread=False),
            "services": Provide(provide_services, sync_to_thread=False),
            "user": Provide(provide_user),
            "admin": Provide(provide_admin),
            "venue": Provide(provide_venue),
            "staff": Provide(provide_staff),
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
                "X-Request-ID",
            ],
            expose_headers=[
                "X-Consistency-Token",
                "ETag",
                "Retry-After",
                "Location",
                "X-Request-ID",
            ],
        )
        if config.cors_origins
        else None,
        openapi_config=OpenAPIConfig(
            title="tablebook",
            version=VERSION,
            description="Restaurant table reservations, event-sourced.\n\n"
            "Every response carries `X-Request-ID`: the request's own when it sent one of 1 "
            "to 64 characters `A-Z a-z 0-9 . _ -`, else a new one; problem details repeat it "
            "as `request_id`. Quote it when reporting a problem.",
            path="/",
            render_plugins=docs_render_plugins(),
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
    # Outside routing and error handling, so that every answer is logged and counted.
    app.asgi_handler = observed(app.asgi_handler)
    return app
