"""`/api/v1/admin/venues/{venue_id}/staff`: who works at a venue, for its managers and
admins. `PUT .../staff/{user_id}` grants `{role: "manager" | "host"}` (or changes it),
`POST .../staff` grants it to the account with an email (a manager may not list the
accounts, so cannot learn an id), `DELETE` revokes; each holds from the user's next
request.

A venue keeps a manager unless an admin decides otherwise: a manager cannot revoke (or
make a host of) its last manager, themselves included (409 `last-manager`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody

from api.accounts.shapes import Email, check_email
from api.accounts.staff import LastManager, StaffMember, StaffRole, StaffStore, UnknownUser
from api.context import ApiDep
from api.refused import Refused
from api.requests import AUTH
from api.venues.access import scoped_venue, venue_managers_only

__all__ = ["StaffGrant", "StaffGrantByEmail", "StaffMemberOut", "VenueStaffController"]


class StaffGrant(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: StaffRole


class StaffGrantByEmail(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email
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

    @post(
        "/",
        status_code=200,
        summary="Grant the account with this email a role at the venue, or change it",
        description="404 `user-not-found` when no account has the email: the person "
        "registers first. An inactive account is refused (409 `user-inactive`).",
    )
    async def grant_by_email(
        self, api: ApiDep, request: Request[Any, Any, Any], data: JSONBody[StaffGrantByEmail]
    ) -> StaffMemberOut:
        email = check_email(data.email)
        found = await api.users.credentials(email)
        if found is None:
            raise Refused(
                404,
                f"No account has the email {email}; ask them to register first.",
                "user-not-found",
            )
        user, _ = found
        if not user.is_active:
            raise Refused(
                409,
                f"The account of {email} is deactivated; an admin must reactivate it first.",
                "user-inactive",
            )
        return await self._grant(api, request, user.id, data.role)

    @put("/{user_id:str}", summary="Grant a user a role at the venue, or change it")
    async def grant(
        self,
        api: ApiDep,
        request: Request[Any, Any, Any],
        user_id: FromPath[str],
        data: JSONBody[StaffGrant],
    ) -> StaffMemberOut:
        return await self._grant(api, request, user_id, data.role)

    @staticmethod
    async def _grant(
        api: ApiDep, request: Request[Any, Any, Any], user_id: str, role: StaffRole
    ) -> StaffMemberOut:
        scoped = scoped_venue(request)
        staff = StaffStore(api.services.pool)
        try:
            member = await staff.grant(
                scoped.venue.id, user_id, role, as_admin=scoped.role == "admin"
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
