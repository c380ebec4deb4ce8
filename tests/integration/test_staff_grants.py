"""Staff grants in PostgreSQL: read afresh on every question, gone with the account, and a
venue never left without a manager by two managers revoking each other at once."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from api.accounts import User, UserStore
from api.accounts.staff import LastManager, StaffStore, role_in

VENUE = "ven_harbour"


async def account(pool: AsyncConnectionPool[Any], name: str, role: Any = "system_user") -> User:
    return await UserStore(pool).create(
        email=f"{uuid.uuid4().hex[:10]}@example.com",
        password_hash="not a real hash",
        full_name=name,
        role=role,
    )


async def test_a_grant_and_its_revocation_hold_from_the_next_question(
    pool: AsyncConnectionPool[Any],
) -> None:
    staff = StaffStore(pool)
    grace = await account(pool, "Grace Hopper")
    admin = await account(pool, "Ada Admin", "admin")

    assert await role_in(staff, grace, VENUE) is None
    await staff.grant(VENUE, grace.id, "host", as_admin=True)
    assert await role_in(staff, grace, VENUE) == "host"
    assert await role_in(staff, grace, "ven_elsewhere") is None
    await staff.grant(VENUE, grace.id, "manager", as_admin=True)
    assert await role_in(staff, grace, VENUE) == "manager"
    assert await staff.revoke(VENUE, grace.id, as_admin=True)
    assert await role_in(staff, grace, VENUE) is None
    assert await role_in(staff, admin, VENUE) == "admin"


async def test_an_erased_account_takes_its_grants_with_it(
    pool: AsyncConnectionPool[Any],
) -> None:
    staff = StaffStore(pool)
    alan = await account(pool, "Alan Turing")
    await staff.grant(VENUE, alan.id, "host", as_admin=True)

    async with pool.connection() as connection:
        await connection.execute("DELETE FROM users WHERE id = %s", (alan.id,))

    assert await staff.grants_of([alan.id]) == {alan.id: []}


async def test_two_managers_revoking_each_other_at_once_leave_one(
    pool: AsyncConnectionPool[Any],
) -> None:
    staff = StaffStore(pool)
    venue = f"ven_{uuid.uuid4().hex}"
    grace = await account(pool, "Grace Hopper")
    alan = await account(pool, "Alan Turing")
    await staff.grant(venue, grace.id, "manager", as_admin=True)
    await staff.grant(venue, alan.id, "manager", as_admin=True)

    outcomes = await asyncio.gather(
        staff.revoke(venue, alan.id, as_admin=False),
        staff.revoke(venue, grace.id, as_admin=False),
        return_exceptions=True,
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["LastManager", "bool"]
    assert [m.role for m in await staff.staff_of(venue)] == ["manager"]
    with pytest.raises(LastManager):
        await staff.grant(venue, (await staff.staff_of(venue))[0].user_id, "host", as_admin=False)
