"""`/api/v1/admin/venues/{venue_id}/staff`: who works at a venue, for its managers and
admins. `PUT .../staff/{user_id}` grants `{role: "manager" | "host"}` (or changes it),
`DELETE` revokes; either holds from the user's next request.

A venue keeps a manager unless an admin decides otherwise: a manager cannot revoke (or
make a host of) its last manager, themselves included (409 `last-manager`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, put
from litestar.params import FromPath, JSONBody

from api.accounts.staff import LastManager, StaffMember, StaffRole, StaffStore, UnknownUser
from api.context import ApiDep
from api.refused import Refused
from api.requests import AUTH
from api.venues.access import scoped_venue, venue_managers_only

__all__ = ["StaffGrant", "StaffMemberOut", "VenueStaffController"]


class StaffGrant(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: StaffRole


class StaffMemberOut(msgspec.Struct, frozen=True):
    user_id: str
    email: str
    full_name: str
    role: StaffRole
    granted_at: dt.datetime


def _out(member: StaffMember) -> StaffMemberOut:
    return StaffMemberOut(
        user_id=member.user_id,
        email=member.email,
        full_name=member.full_name,
        role=member.role,
        granted_at=member.granted_at,
    )


def _last_manager(error: LastManager) -> Refused:
    return Refused(409, str(error), "last-manager")


class VenueStaffController(Controller):
    path = "/api/v1/admin/venues/{venue_id:str}/staff"
    tags = ["admin: venues"]
    security = AUTH
    guards = [venue_managers_only]

    @get("/", summary="The venue's staff: managers first, then by name")
    async def list_staff(
        self, api: ApiDep, request: Request[Any, Any, Any]
    ) -> list[StaffMemberOut]:
        venue = scoped_venue(request).venue
        return [_out(m) for m in await StaffStore(api.services.pool).staff_of(venue.id)]

    @put("/{user_id:str}", summary="Grant a user a role at the venue, or change it")
    async def grant(
        self,
        api: ApiDep,
        request: Request[Any, Any, Any],
        user_id: FromPath[str],
        data: JSONBody[StaffGrant],
    ) -> StaffMemberOut:
        scoped = scoped_venue(request)
        staff = StaffStore(api.services.pool)
        try:
            member = await staff.grant(
                scoped.venue.id, user_id, data.role, as_admin=scoped.role == "admin"
            )
        except UnknownUser as error:
            raise Refused(404, str(error), "user-not-found") from None
        except LastManager as error:
            raise _last_manager(error) from None
        return _out(member)

    @delete("/{user_id:str}", status_code=204, summary="Revoke a user's role at the venue")
    async def revoke(
        self, api: ApiDep, request: Request[Any, Any, Any], user_id: FromPath[str]
    ) -> None:
        scoped = scoped_venue(request)
        staff = StaffStore(api.services.pool)
        try:
            revoked = await staff.revoke(scoped.venue.id, user_id, as_admin=scoped.role == "admin")
        except LastManager as error:
            raise _last_manager(error) from None
        if not revoked:
            raise Refused(404, f"{user_id[:80]!r} has no role at this venue", "staff-not-found")
