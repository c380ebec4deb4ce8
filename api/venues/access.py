"""Who may reach one venue's routes, and the shapes those routes answer with.

`venue_managers_only` is the guard of every controller whose path names a venue
(`{venue_id}`, its id or its slug): the signed-in user must be an admin or that venue's
manager, as the grants say at this request (`role_in`, read from the database every
time). Anyone else gets the 404 a venue that does not exist gets: a venue's staff never
learn from another venue's routes that it exists.

The guard finds the venue in the directory, a projection, so it honours
`X-Consistency-Token` like every read of one: a venue just opened is found by a request
that carries its opening's token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from api.accounts.security import authenticate
from api.accounts.staff import StaffStore, role_in
from api.accounts.users import User
from api.context import Api, Written
from booking_core.domain.commands import Actor, Role
from booking_core.domain.errors import VenueNotFound
from booking_core.handlers import RegistryResult
from read_models import venues_layout
from read_models.venues import VenueRecord, resolve

__all__ = [
    "Address",
    "ScopedVenue",
    "Slug",
    "TimeZone",
    "VenueName",
    "VenueOut",
    "scoped_venue",
    "venue_managers_only",
    "venue_out",
    "written_venue",
]

_SCOPED = "scoped_venue"

VenueName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Slug = Annotated[
    str,
    msgspec.Meta(
        max_length=200,
        description="2 to 60 lower-case letters, digits or hyphens (else a 422); unique"
        " among venues",
    ),
]
TimeZone = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, description="An IANA zone, e.g. Europe/Lisbon")
]
Address = Annotated[str, msgspec.Meta(max_length=500)]


class VenueOut(msgspec.Struct, frozen=True):
    id: str
    slug: str
    name: str
    time_zone: str
    address: str | None
    version: int
    """The venue stream's version the details were last changed at."""


def venue_out(record: VenueRecord) -> VenueOut:
    return VenueOut(
        id=record.id,
        slug=record.slug,
        name=record.name,
        time_zone=record.time_zone,
        address=record.address,
        version=record.version,
    )


def written_venue(result: RegistryResult, status: int = 200) -> Written[VenueOut]:
    """The venue as the command left it."""
    venue_id, entry = result.venue_id, result.entry
    assert entry is not None, "a venue command that succeeded leaves a venue"
    out = VenueOut(
        id=venue_id,
        slug=entry.slug,
        name=entry.name,
        time_zone=result.venue.settings.time_zone,
        address=entry.address,
        version=result.version,
    )
    headers = {"Location": f"/api/v1/admin/venues/{venue_id}"} if status == 201 else {}
    return Written(out, result.token, status, headers)


@dataclass(frozen=True, slots=True)
class ScopedVenue:
    """The venue a request's path names, and the caller's role there."""

    venue: VenueRecord
    user: User
    role: Role

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user.id, role=self.role)


async def venue_managers_only(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    api: Api = connection.app.state["api"]
    user = connection.state.get("user")
    if not isinstance(user, User):
        user = await authenticate(connection, api.tokens, api.users)
        connection.state["user"] = user
    if isinstance(connection, Request):
        await api.consistent(connection, sql=(venues_layout.NAME,))
    key = str(connection.path_params.get("venue_id", ""))
    record = await resolve(api.services.pool, key)
    if record is None:
        raise VenueNotFound(key)
    role = await role_in(StaffStore(api.services.pool), user, record.id)
    if role not in ("admin", "manager"):
        raise VenueNotFound(key)
    connection.state[_SCOPED] = ScopedVenue(record, user, role)


def scoped_venue(request: Request[Any, Any, Any]) -> ScopedVenue:
    """What `venue_managers_only` found for this request."""
    found = request.state.get(_SCOPED)
    if not isinstance(found, ScopedVenue):
        raise RuntimeError("a venue route without the venue_managers_only guard")
    return found
