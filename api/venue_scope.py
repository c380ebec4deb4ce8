"""Which venue a request is about, and what the signed-in user may do there.

Every guest and staff route is served twice: under `/api/v1/...`, where it addresses the
default venue (so a client of the single-venue API keeps working), and under
`/api/v1/venues/{venue_id}/...`, where `{venue_id}` is a venue's id or its slug. The
`venue` dependency resolves either to a venue id (404 for one that does not exist); the
`staff` dependency adds the user's role in that venue.

Access is decided by each staff controller's one guard, before anything of the request is
read: `venue_managers` (an admin, or a manager of the venue), `floor_plan` (hosts too,
to read the floor: tables, blocks, layouts, hours, slot settings, closures) or
`venue_staff` (hosts too, for everything: bookings and the evening's workflow). The
role is read from the database on every request, so a grant or a revocation takes
effect on the next one. Someone with no role
in the venue gets a 404 if they work for another venue — a venue they may not see does
not exist for them — and a 403 if they are a guest, as before there were several venues.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from api.accounts.security import authenticate
from api.accounts.staff import StaffStore
from api.accounts.staff import role_in as role_in_venue
from api.accounts.users import User
from api.context import Api
from booking_core.domain.commands import Actor, Role
from booking_core.domain.streams import DEFAULT_VENUE_ID
from booking_core.handlers import find_venue
from read_models.venues import resolve

__all__ = [
    "Staff",
    "StaffDep",
    "Venue",
    "VenueDep",
    "actor_in",
    "api_path",
    "floor_plan",
    "guest_book",
    "provide_staff",
    "provide_venue",
    "venue_managers",
    "venue_staff",
]

PATH_PARAMETER = "venue_id"
StaffRole = Literal["admin", "manager", "host"]


@dataclass(frozen=True, slots=True)
class Venue:
    """The venue a request addresses."""

    id: str


@dataclass(frozen=True, slots=True)
class Staff:
    """A signed-in member of the venue's staff (or an admin), as the guard let through."""

    user: User
    venue_id: str
    role: StaffRole

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user.id, role=self.role)


def venue_not_found() -> NotFoundException:
    return NotFoundException(detail="No such venue.")


async def resolve_venue(api: Api, key: str) -> str:
    """The id of the venue whose id or slug is `key` (404 for none): from the directory,
    or, for a venue it does not list yet (it is a projection), from the registry's
    streams, so a venue is found from the moment its opening is acknowledged."""
    if key == DEFAULT_VENUE_ID:
        return key
    listed = await resolve(api.services.pool, key)
    found = listed.id if listed is not None else await find_venue(api.store, key)
    if found is None:
        raise venue_not_found()
    return found


async def _venue(connection: ASGIConnection[Any, Any, Any, Any]) -> Venue:
    known = connection.state.get("venue")
    if isinstance(known, Venue):
        return known
    key = connection.path_params.get(PATH_PARAMETER)
    if key is None:
        venue = Venue(DEFAULT_VENUE_ID)
    else:
        venue = Venue(await resolve_venue(connection.app.state["api"], str(key)))
    connection.state["venue"] = venue
    return venue


async def role_in(api: Api, user: User, venue_id: str) -> tuple[Role, bool]:
    """The user's role in the venue (`system_user` for none), and whether they work for
    any venue at all."""
    staff = StaffStore(api.services.pool)
    role = await role_in_venue(staff, user, venue_id)
    if role is not None:
        return role, True
    grants = await staff.grants_of([user.id])
    return "system_user", bool(grants[user.id])


async def _user(connection: ASGIConnection[Any, Any, Any, Any]) -> User:
    user = connection.state.get("user")
    if not isinstance(user, User):
        api: Api = connection.app.state["api"]
        user = await authenticate(connection, api.tokens, api.users)
        connection.state["user"] = user
    return user


async def _staff(
    connection: ASGIConnection[Any, Any, Any, Any], allowed: tuple[StaffRole, ...], what: str
) -> Staff:
    user = await _user(connection)
    venue = await _venue(connection)
    role, works_somewhere = await role_in(connection.app.state["api"], user, venue.id)
    if role == "system_user":
        if works_somewhere:
            raise venue_not_found()
        raise PermissionDeniedException(detail=f"Only {what} may do this.")
    if role not in allowed:
        raise PermissionDeniedException(detail=f"Only {what} may do this.")
    staff = Staff(user, venue.id, role)
    connection.state["staff"] = staff
    return staff


async def venue_managers(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """The guard of the routes that run a venue: reports, the event log."""
    await _staff(connection, ("admin", "manager"), "an admin or a manager of this venue")


async def floor_plan(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The guard of the floor plan (tables, blocks, layouts) and of when the venue takes
    bookings (opening hours, slot settings, closures): its managers change them, and its
    hosts read them, for the evening's floor and the timeline."""
    await _staff_read_managers_write(connection)


async def guest_book(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The guard of the guest profiles: the whole staff reads them (a host seats the guest
    with the nut allergy), its admins and managers tag, note and merge them."""
    await _staff_read_managers_write(connection)


async def _staff_read_managers_write(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    if connection.scope.get("method") in ("GET", "HEAD"):
        await _staff(connection, ("admin", "manager", "host"), "the staff of this venue")
    else:
        await _staff(connection, ("admin", "manager"), "an admin or a manager of this venue")


async def venue_staff(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The guard of the routes of the floor: bookings and the evening's workflow."""
    await _staff(connection, ("admin", "manager", "host"), "the staff of this venue")


async def provide_venue(request: Request[Any, Any, Any]) -> Venue:
    return await _venue(request)


async def provide_staff(request: Request[Any, Any, Any]) -> Staff:
    """The staff member the controller's guard let through."""
    staff = request.state.get("staff")
    if not isinstance(staff, Staff):
        raise AssertionError("a route using `staff` must be guarded by venue_managers/staff")
    return staff


async def actor_in(api: Api, user: User, venue_id: str) -> Actor:
    """The user as the actor of a command in the venue: with their role there."""
    role, _ = await role_in(api, user, venue_id)
    return Actor(user_id=user.id, role=role)


VenueDep = NamedDependency[Venue]
"""The venue the request addresses (404 for a venue that does not exist)."""
StaffDep = NamedDependency[Staff]
"""The signed-in staff member of the request's venue, as its controller's guard found."""


def api_path(venue_id: str, path: str) -> str:
    """The URL path of `path` (e.g. `/admin/tables/t1`) for the venue: unscoped for the
    default venue, under `/api/v1/venues/{venue_id}` for any other."""
    if venue_id == DEFAULT_VENUE_ID:
        return f"/api/v1{path}"
    return f"/api/v1/venues/{venue_id}{path}"
