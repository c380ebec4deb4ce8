"""The accounts an API process keeps between requests: read once while nothing changes,
read again after any change, by this process or any other (the notice of migration
0022), and never kept while the notices cannot reach it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from api.accounts.account_cache import AccountCache
from api.accounts.users import User, UserStore
from tablebook.database import open_pool
from tests.support.migrated import database_at


@pytest.fixture
def own_database(database_url: str) -> Iterator[str]:
    """A database of this test's own: one test truncates `users`."""
    with database_at(database_url, "head", "tb_accounts") as url:
        yield url


@pytest.fixture
async def pool(own_database: str) -> AsyncIterator[AsyncConnectionPool[Any]]:
    opened = await open_pool(own_database, min_size=1, max_size=4)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def accounts(own_database: str) -> AsyncIterator[AccountCache]:
    cache = AccountCache(own_database)
    await cache.start()
    try:
        yield cache
    finally:
        await cache.stop()


async def new_account(users: UserStore) -> User:
    return await users.create(
        email=f"kept-{uuid.uuid4().hex[:8]}@example.com",
        password_hash="!",
        full_name="Kept Account",
    )


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(what)


async def test_an_account_is_read_once_while_it_does_not_change(
    pool: AsyncConnectionPool[Any], accounts: AccountCache
) -> None:
    users = UserStore(pool, accounts)
    made = await new_account(users)
    before = accounts.reads
    for _ in range(5):
        assert await users.by_id(made.id) == made
    assert accounts.reads == before + 1


async def test_a_change_here_is_seen_by_the_next_request_at_once(
    pool: AsyncConnectionPool[Any], accounts: AccountCache
) -> None:
    users = UserStore(pool, accounts)
    made = await new_account(users)
    await users.by_id(made.id)
    await users.revoke_tokens(made.id)
    again = await users.by_id(made.id)
    assert again is not None
    assert again.token_version == made.token_version + 1


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE users SET token_version = token_version + 1 WHERE id = %(id)s",
        "UPDATE users SET is_active = false WHERE id = %(id)s",
        "DELETE FROM users WHERE id = %(id)s",
        "TRUNCATE users CASCADE",
    ],
    ids=["signed-out", "deactivated", "deleted", "truncated"],
)
async def test_a_change_made_elsewhere_is_seen_once_its_notice_arrives(
    pool: AsyncConnectionPool[Any], accounts: AccountCache, change: str
) -> None:
    """Another API process, the `tablebook users` command or an operator's SQL: the row
    changes under our cache, which hears of it and reads the row again."""
    users = UserStore(pool, accounts)
    made = await new_account(users)
    await users.by_id(made.id)
    async with pool.connection() as connection:
        await connection.execute(change, {"id": made.id})
    elsewhere = UserStore(pool)  # the row as it is now

    async def agrees() -> bool:
        return await users.by_id(made.id) == await elsewhere.by_id(made.id)

    await eventually(agrees, f"the cache still holds the account after {change!r}")


async def test_nothing_is_kept_while_the_notices_cannot_arrive(
    pool: AsyncConnectionPool[Any],
) -> None:
    deaf = AccountCache("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")
    await deaf.start()
    try:
        users = UserStore(pool, deaf)
        made = await new_account(users)
        for _ in range(3):
            assert await users.by_id(made.id) == made
        assert deaf.reads == 3
    finally:
        await deaf.stop()


async def test_a_read_overtaken_by_a_notice_is_answered_but_not_kept(
    pool: AsyncConnectionPool[Any], accounts: AccountCache
) -> None:
    """The change may have committed after the read's snapshot: keeping what the read
    found would keep the account as it was before the change."""
    users = UserStore(pool, accounts)
    made = await new_account(users)

    async def overtaken(user_id: str) -> User | None:
        found = await UserStore(pool).by_id(user_id)
        accounts.forget(user_id)  # a notice, while the read was under way
        return found

    assert await accounts.user(made.id, overtaken) == made
    reads = accounts.reads
    assert await users.by_id(made.id) == made
    assert accounts.reads == reads + 1
