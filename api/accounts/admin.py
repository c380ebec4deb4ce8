"""`/api/v1/admin/users`: list, read and change accounts.

An admin may change anyone's role and activity except their own: demoting or
deactivating oneself is refused (409), so the venue is never left without the admin
who made the mistake. Any real change revokes the account's tokens at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, get, patch
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.accounts.shapes import UserOut, user_out
from api.accounts.staff import StaffStore
from api.accounts.users import Role, User
from api.context import AdminDep, ApiDep, bad_cursor, cursor_decode, cursor_encode
from api.guards import admin_only
from api.refused import Refused
from api.requests import AUTH
from api.schemas import CursorParam, LimitParam

__all__ = ["AdminUsersController", "UserChange", "UserPage"]


class UserPage(msgspec.Struct, frozen=True):
    items: list[UserOut]
    next_cursor: str | None = None


class UserChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Fields left out (or null) stay as they are."""

    role: Role | None = None
    is_active: bool | None = None


def _after(cursor: str | None) -> tuple[dt.datetime, str] | None:
    if not cursor:
        return None
    created_at, user_id = cursor_decode(cursor, 2)
    try:
        return dt.datetime.fromisoformat(str(created_at)), str(user_id)
    except ValueError:
        raise bad_cursor() from None


def _refuse_self_lockout(admin: User, user_id: str, change: UserChange) -> None:
    if user_id != admin.id:
        return
    if change.is_active is False:
        raise Refused(
            409, "You cannot deactivate your own account; ask another admin.", "self-lockout"
        )
    if change.role is not None and change.role != "admin":
        raise Refused(
            409, "You cannot remove your own admin role; ask another admin.", "self-lockout"
        )


class AdminUsersController(Controller):
    path = "/api/v1/admin/users"
    tags = ["admin: users"]
    security = AUTH
    guards = [admin_only]

    @get("/", summary="Accounts, oldest first, filtered and paginated")
    async def list_all(
        self,
        api: ApiDep,
        admin: AdminDep,
        role: FromQuery[Role | None] = None,
        is_active: FromQuery[bool | None] = None,
        q: Annotated[
            str | None,
            QueryParameter(min_length=1, max_length=200, description="Search email or name"),
        ] = None,
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> UserPage:
        users = await api.users.page(
            limit=limit + 1,
            after=_after(cursor),
            role=role,
            is_active=is_active,
            q=q.strip() or None if q else None,
        )
        page = users[:limit]
        more = len(users) > limit
        grants = await StaffStore(api.services.pool).grants_of(user.id for user in page)
        return UserPage(
            items=[user_out(user, grants[user.id]) for user in page],
            next_cursor=cursor_encode(page[-1].created_at.isoformat(), page[-1].id)
            if more
            else None,
        )

    @get("/{user_id:str}", summary="One account")
    async def read(self, api: ApiDep, admin: AdminDep, user_id: FromPath[str]) -> UserOut:
        user = await api.users.by_id(user_id)
        if user is None:
            raise NotFoundException(detail=f"No user has the id {user_id!r}.")
        grants = await StaffStore(api.services.pool).grants_of([user.id])
        return user_out(user, grants[user.id])

    @patch("/{user_id:str}", summary="Change an account's role or activity; revokes its tokens")
    async def change(
        self, api: ApiDep, admin: AdminDep, user_id: FromPath[str], data: JSONBody[UserChange]
    ) -> UserOut:
        _refuse_self_lockout(admin, user_id, data)
        user = await api.users.change(user_id, role=data.role, is_active=data.is_active)
        if user is None:
            raise NotFoundException(detail=f"No user has the id {user_id!r}.")
        grants = await StaffStore(api.services.pool).grants_of([user.id])
        return user_out(user, grants[user.id])
