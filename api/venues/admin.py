"""`POST /api/v1/admin/venues`: an admin opens a venue.

The venue gets a new id (`ven_…`), except the first venue of a deployment whose default
venue has no events yet: that one is the default venue, which the unscoped routes
address. Its slug is claimed in the same write, so a slug another venue holds is a 409.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, post
from litestar.params import JSONBody

from api.context import AdminDep, ApiDep, WriteContext, Written, actor_of
from api.guards import admin_only
from api.requests import AUTH, now
from api.venues.access import Address, Slug, TimeZone, VenueName, VenueOut, written_venue
from booking_core.domain.commands import OpenVenue
from booking_core.domain.errors import VenueAlreadyOpen
from booking_core.domain.streams import DEFAULT_VENUE_ID
from booking_core.handlers import RegistryResult, change_registry, id_for_new_venue
from booking_core.store import EventStore, IdempotencyKey

__all__ = ["AdminVenuesController", "VenueCreate", "open_venue"]


class VenueCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: VenueName
    slug: Slug
    time_zone: TimeZone
    address: Address | None = None


async def open_venue(
    store: EventStore,
    command: OpenVenue,
    idempotency: IdempotencyKey | None,
    fresh_id: str,
) -> RegistryResult:
    """Open the venue under the id it should get; if another first venue took the
    default id meanwhile, under `fresh_id`. A repeat of a request that opened the default
    venue (its kept answer gone) finds its slug claim, not its venue, under `fresh_id`,
    and answers with the default venue it opened."""
    venue_id = await id_for_new_venue(store, fresh_id)
    try:
        result = await change_registry(
            store, msgspec.structs.replace(command, venue_id=venue_id), idempotency=idempotency
        )
    except VenueAlreadyOpen:
        if venue_id != DEFAULT_VENUE_ID:
            raise
        venue_id = fresh_id
        result = await change_registry(
            store, msgspec.structs.replace(command, venue_id=fresh_id), idempotency=idempotency
        )
    if result.duplicate and result.entry is None and venue_id != DEFAULT_VENUE_ID:
        result = await change_registry(
            store,
            msgspec.structs.replace(command, venue_id=DEFAULT_VENUE_ID),
            idempotency=idempotency,
        )
    return result


class AdminVenuesController(Controller):
    path = "/api/v1/admin/venues"
    tags = ["admin: venues"]
    security = AUTH
    guards = [admin_only]

    @post(
        "/",
        status_code=201,
        summary="Open a venue",
        description="The first venue of a new deployment becomes the default venue (id"
        " `default`), which the unscoped routes address.",
    )
    async def create(
        self,
        api: ApiDep,
        admin: AdminDep,
        request: Request[Any, Any, Any],
        data: JSONBody[VenueCreate],
    ) -> Response[VenueOut]:
        async def run(ctx: WriteContext) -> Written[VenueOut]:
            fresh_id = ctx.new_id("ven")
            command = OpenVenue(
                command_id=ctx.command_id,
                actor=ctx.actor,
                now=now(),
                venue_id=fresh_id,
                **msgspec.structs.asdict(data),
            )
            result = await open_venue(api.store, command, ctx.idempotency, fresh_id)
            return written_venue(result, 201)

        # The command names the venue it opens; the request is the deployment's.
        return await api.write(request, actor_of(admin), run, venue_id=DEFAULT_VENUE_ID)
