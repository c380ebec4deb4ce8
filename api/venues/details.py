"""`GET / PATCH /api/v1/admin/venues/{venue_id}`: one venue's details, for its managers
and admins. `{venue_id}` is the venue's id or its slug.

A new slug is claimed and the old one released in the same write (409 if another venue
holds it); a new time zone is the venue's slot settings' time zone from then on.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, patch
from litestar.params import JSONBody

from api.context import ApiDep, WriteContext, Written
from api.requests import AUTH, now
from api.venues.access import (
    Address,
    Slug,
    TimeZone,
    VenueName,
    VenueOut,
    scoped_venue,
    venue_managers_only,
    venue_out,
    written_venue,
)
from booking_core.domain.commands import UNSET, ChangeVenueDetails, UnsetType
from booking_core.handlers import change_registry

__all__ = ["VenueChange", "VenueDetailsController"]


class VenueChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Any of the fields; `address: null` clears the address."""

    name: VenueName | UnsetType = UNSET
    slug: Slug | UnsetType = UNSET
    time_zone: TimeZone | UnsetType = UNSET
    address: Address | UnsetType | None = UNSET


class VenueDetailsController(Controller):
    path = "/api/v1/admin/venues/{venue_id:str}"
    tags = ["admin: venues"]
    security = AUTH
    guards = [venue_managers_only]

    @get("/", summary="One venue (its admins and managers)")
    async def read(self, request: Request[Any, Any, Any]) -> VenueOut:
        return venue_out(scoped_venue(request).venue)

    @patch("/", summary="Change a venue's name, slug, time zone or address")
    async def change(
        self, api: ApiDep, request: Request[Any, Any, Any], data: JSONBody[VenueChange]
    ) -> Response[VenueOut]:
        scoped = scoped_venue(request)

        async def run(ctx: WriteContext) -> Written[VenueOut]:
            command = ChangeVenueDetails(
                command_id=ctx.command_id,
                actor=ctx.actor,
                now=now(),
                venue_id=scoped.venue.id,
                **msgspec.structs.asdict(data),
            )
            result = await change_registry(api.store, command, idempotency=ctx.idempotency)
            return written_venue(result)

        return await api.write(request, scoped.actor, run, venue_id=scoped.venue.id)
