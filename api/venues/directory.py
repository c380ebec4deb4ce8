"""`GET /api/v1/venues`: the public directory of venues, by name. No guest data, no
staff: only what a guest needs to pick a venue and address its routes."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get

from api.context import ApiDep
from read_models import venues_layout
from read_models.venues import list_venues

__all__ = ["VenueDirectoryController"]


class ListedVenue(msgspec.Struct, frozen=True):
    id: str
    slug: str
    name: str
    time_zone: str
    address: str | None = None


class VenueDirectoryController(Controller):
    path = "/api/v1/venues"
    tags = ["venues"]

    @get(
        "/",
        summary="Every venue, by name",
        description="Public. A venue's `id` or `slug` addresses its routes"
        " (`/api/v1/venues/{venue_id}/...`).",
    )
    async def list_all(self, api: ApiDep, request: Request[Any, Any, Any]) -> list[ListedVenue]:
        await api.consistent(request, sql=(venues_layout.NAME,))
        return [
            ListedVenue(
                id=venue.id,
                slug=venue.slug,
                name=venue.name,
                time_zone=venue.time_zone,
                address=venue.address,
            )
            for venue in await list_venues(api.services.pool)
        ]
