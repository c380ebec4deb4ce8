"""Staff grants: who works at which venue, as its manager or a host.

Grants are a plain table (`venue_staff`), like accounts: they are who may do what, not
facts of the restaurant's book, and they go with the account when it is erased
(`ON DELETE CASCADE`). `role_in` reads them on every venue-scoped request, never from a
cache, so a grant or a revocation holds from the caller's next request.

Rules kept here:

- a venue keeps a manager unless an admin decides otherwise: revoking its last manager,
  or making them a host, is refused (`LastManager`) unless `as_admin`; the venue's
  manager rows are locked while this is decided, so two managers revoking each other at
  once cannot leave the venue with none;
- a grant names an account that exists (`UnknownUser`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.accounts.users import User
from booking_core.domain.commands import Role

__all__ = [
    "Grant",
    "LastManager",
    "StaffMember",
    "StaffRole",
    "StaffStore",
    "UnknownUser",
    "role_in",
]

StaffRole = Literal["manager", "host"]


@dataclass(frozen=True, slots=True)
class Grant:
    venue_id: str
    role: StaffRole


@dataclass(frozen=True, slots=True)
class StaffMember:
    user_id: str
    email: str
    full_name: str
    role: StaffRole
    granted_at: dt.datetime


class LastManager(Exception):
    def __init__(self, venue_id: str) -> None:
        super().__init__(
            f"this is the last manager of venue {venue_id!r}; only an admin may leave a venue"
            " without one"
        )
        self.venue_id = venue_id


class UnknownUser(Exception):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"no user has the id {user_id[:80]!r}")
        self.user_id = user_id


_MEMBER = (
    "SELECT s.user_id, u.email, u.full_name, s.role, s.granted_at FROM venue_staff s"
    " JOIN users u ON u.id = s.user_id"
)


class StaffStore:
    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self._pool = pool

    async def role(self, user_id: str, venue_id: str) -> StaffRole | None:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT role FROM venue_staff WHERE venue_id = %s AND user_id = %s",
                (venue_id, user_id),
            )
            row = await cursor.fetchone()
        return row[0] if row else None

    async def grants_of(self, user_ids: Iterable[str]) -> dict[str, list[Grant]]:
        """Each user's grants, by venue id."""
        wanted = list(dict.fromkeys(user_ids))
        found: dict[str, list[Grant]] = {user_id: [] for user_id in wanted}
        if not wanted:
            return found
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT user_id, venue_id, role FROM venue_staff WHERE user_id = ANY(%s)"
                " ORDER BY user_id, venue_id",
                (wanted,),
            )
            for user_id, venue_id, role in await cursor.fetchall():
                found[user_id].append(Grant(venue_id, role))
        return found

    async def member(self, venue_id: str, user_id: str) -> StaffMember | None:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                _MEMBER + " WHERE s.venue_id = %s AND s.user_id = %s", (venue_id, user_id)
            )
            row = await cur.fetchone()
        return StaffMember(**row) if row else None

    async def staff_of(self, venue_id: str) -> list[StaffMember]:
        """The venue's staff: managers first, then by name."""
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                _MEMBER + " WHERE s.venue_id = %s"
                " ORDER BY s.role = 'host', lower(u.full_name), s.user_id",
                (venue_id,),
            )
            rows = await cur.fetchall()
        return [StaffMember(**row) for row in rows]

    async def grant(
        self, venue_id: str, user_id: str, role: StaffRole, *, as_admin: bool
    ) -> StaffMember:
        """Give `user_id` the `role` at the venue (a changed role keeps `granted_at`)."""
        async with self._pool.connection() as conn, conn.transaction():
            if role != "manager":
                await _keep_a_manager(conn, venue_id, user_id, as_admin=as_admin)
            try:
                await conn.execute(
                    "INSERT INTO venue_staff (venue_id, user_id, role) VALUES (%s, %s, %s)"
                    " ON CONFLICT (venue_id, user_id) DO UPDATE SET role = excluded.role",
                    (venue_id, user_id, role),
                )
            except pg_errors.ForeignKeyViolation:
                raise UnknownUser(user_id) from None
        member = await self.member(venue_id, user_id)
        if member is None:  # the account was erased in between
            raise UnknownUser(user_id)
        return member

    async def revoke(self, venue_id: str, user_id: str, *, as_admin: bool) -> bool:
        """Take the user's grant at the venue away; False if they had none."""
        async with self._pool.connection() as conn, conn.transaction():
            await _keep_a_manager(conn, venue_id, user_id, as_admin=as_admin)
            cursor = await conn.execute(
                "DELETE FROM venue_staff WHERE venue_id = %s AND user_id = %s",
                (venue_id, user_id),
            )
            return bool(cursor.rowcount > 0)


async def _keep_a_manager(conn: Any, venue_id: str, user_id: str, *, as_admin: bool) -> None:
    """Refuse (`LastManager`) to take the manager role from `user_id` when no other
    manager of the venue would be left, unless an admin asks. The venue's manager rows
    stay locked until the caller's transaction ends."""
    cursor = await conn.execute(
        "SELECT user_id FROM venue_staff WHERE venue_id = %s AND role = 'manager'"
        " ORDER BY user_id FOR UPDATE",
        (venue_id,),
    )
    managers = [row[0] for row in await cursor.fetchall()]
    if not as_admin and managers == [user_id]:
        raise LastManager(venue_id)


async def role_in(staff: StaffStore, user: User, venue_id: str) -> Role | None:
    """The user's role at the venue, read now: `admin` for an admin, a grant's role, or
    None for anyone who does not work there."""
    if user.is_admin:
        return "admin"
    return await staff.role(user.id, venue_id)
