"""Accounts: who may sign in, with what password and role.

Accounts are not part of the restaurant's book, so they are a plain table (`users`), not
an event stream. Passwords are bcrypt hashes, computed in a worker thread so a sign-in
never stalls the event loop. `token_version` is bumped whenever an account is
deactivated, deleted, changes role or signs out: every token carries the version it was issued
at, so older tokens stop working at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import bcrypt
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.accounts.account_cache import AccountCache
from booking_core.domain.personal import ERASED

__all__ = [
    "MAX_PASSWORD_BYTES",
    "MIN_PASSWORD_CHARACTERS",
    "EmailTaken",
    "PasswordHasher",
    "Role",
    "User",
    "UserStore",
    "password_problem",
]

Role = Literal["system_user", "admin"]

_COLUMNS = sql.SQL("id, email, full_name, phone, role, is_active, token_version, created_at")


def _q(text: str, **parts: sql.Composable) -> sql.Composed:
    """A query with the account columns in place of `{columns}`."""
    return sql.SQL(text).format(columns=_COLUMNS, **parts)


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    full_name: str
    phone: str | None
    role: Role
    is_active: bool
    token_version: int
    created_at: dt.datetime

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class EmailTaken(Exception):
    def __init__(self, email: str) -> None:
        super().__init__(f"an account with the email {email!r} already exists")
        self.email = email


MIN_PASSWORD_CHARACTERS = 8
MAX_PASSWORD_BYTES = 72
"""bcrypt reads no more than 72 bytes of a password (and bcrypt 5 refuses more), so a
longer one is refused when it is chosen rather than cut short without a word. Bytes,
not characters: `é` is two bytes in UTF-8, most Chinese characters three."""


def password_problem(password: str) -> str | None:
    """What makes `password` unfit for an account, in plain words; None if it is fit."""
    if len(password) < MIN_PASSWORD_CHARACTERS:
        return f"must be at least {MIN_PASSWORD_CHARACTERS} characters long"
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        return (
            f"must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 (72 plain letters or digits;"
            " accented letters and other scripts take 2 to 4 bytes each)"
        )
    return None


@dataclass(frozen=True, slots=True)
class PasswordHasher:
    """bcrypt with a configurable cost (12 in production; tests may lower it)."""

    rounds: int = 12

    def __post_init__(self) -> None:
        _dummy_hash(self.rounds)  # made now, so no sign-in pays for making it

    async def hash(self, password: str) -> str:
        secret = password.encode()
        if len(secret) > MAX_PASSWORD_BYTES:
            raise ValueError(f"a password longer than {MAX_PASSWORD_BYTES} bytes")
        hashed = await asyncio.to_thread(bcrypt.hashpw, secret, bcrypt.gensalt(self.rounds))
        return hashed.decode()

    async def verify(self, password: str, hashed: str | None) -> bool:
        """True when `password` matches. Every refusal costs one bcrypt check at this
        hasher's cost: without an account (a dummy hash of the same cost), with a
        password too long to match, or with a stored hash that cannot be read. So the
        time a sign-in takes does not tell whether the account exists."""
        secret = password.encode()
        if hashed and len(secret) <= MAX_PASSWORD_BYTES:
            try:
                return await asyncio.to_thread(bcrypt.checkpw, secret, hashed.encode())
            except ValueError:
                pass  # a stored hash bcrypt cannot read: refused like a wrong password
        dummy = _dummy_hash(self.rounds)
        await asyncio.to_thread(bcrypt.checkpw, secret[:MAX_PASSWORD_BYTES], dummy)
        return False


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    """A hash no password is checked against for real, at the cost of real ones."""
    return bcrypt.hashpw(b"no account has this password", bcrypt.gensalt(rounds))


def _user(row: dict[str, Any]) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        full_name=row["full_name"],
        phone=row["phone"],
        role=row["role"],
        is_active=row["is_active"],
        token_version=row["token_version"],
        created_at=row["created_at"],
    )


class UserStore:
    def __init__(
        self, pool: AsyncConnectionPool[Any], accounts: AccountCache | None = None
    ) -> None:
        """With `accounts`, `by_id` answers from the accounts this process has read while
        they are known unchanged (`api.accounts.account_cache`)."""
        self._pool = pool
        self._accounts = accounts

    def _changed(self, user_id: str) -> None:
        if self._accounts is not None:
            self._accounts.forget(user_id)

    async def create(
        self,
        *,
        email: str,
        password_hash: str,
        full_name: str,
        phone: str | None = None,
        role: Role = "system_user",
    ) -> User:
        user_id = f"usr_{uuid.uuid4().hex}"
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            try:
                await cur.execute(
                    _q(
                        "INSERT INTO users (id, email, password_hash, full_name, phone, role)"
                        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING {columns}"
                    ),
                    (user_id, email, password_hash, full_name, phone, role),
                )
            except pg_errors.UniqueViolation:
                raise EmailTaken(email) from None
            row = await cur.fetchone()
        assert row is not None
        return _user(row)

    async def upsert_admin(self, *, email: str, password_hash: str, full_name: str) -> User:
        """Create the admin, or make the existing account an active admin with this
        password (and invalidate its old tokens)."""
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                _q(
                    "INSERT INTO users (id, email, password_hash, full_name, role)"
                    " VALUES (%s, %s, %s, %s, 'admin') ON CONFLICT (lower(email)) DO UPDATE"
                    " SET password_hash = EXCLUDED.password_hash, role = 'admin',"
                    " is_active = true, token_version = users.token_version + 1,"
                    " updated_at = now() RETURNING {columns}"
                ),
                (f"usr_{uuid.uuid4().hex}", email, password_hash, full_name),
            )
            row = await cur.fetchone()
        assert row is not None
        self._changed(row["id"])
        return _user(row)

    async def by_id(self, user_id: str) -> User | None:
        if self._accounts is not None:
            return await self._accounts.user(user_id, self._read)
        return await self._read(user_id)

    async def _read(self, user_id: str) -> User | None:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                _q("SELECT {columns} FROM users WHERE id = %s"),
                (user_id,),
            )
            row = await cur.fetchone()
        return _user(row) if row else None

    async def credentials(self, email: str) -> tuple[User, str] | None:
        """The account with this email (any case) and its password hash."""
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                _q("SELECT {columns}, password_hash FROM users WHERE lower(email) = lower(%s)"),
                (email,),
            )
            row = await cur.fetchone()
        return (_user(row), row["password_hash"]) if row else None

    async def page(
        self,
        *,
        limit: int,
        after: tuple[dt.datetime, str] | None = None,
        role: Role | None = None,
        is_active: bool | None = None,
        q: str | None = None,
    ) -> list[User]:
        """Accounts oldest first, `limit` of them after the (created_at, id) cursor."""
        clauses: list[str] = []
        params: list[Any] = []
        if after is not None:
            clauses.append("(created_at, id) > (%s, %s)")
            params.extend(after)
        if role is not None:
            clauses.append("role = %s")
            params.append(role)
        if is_active is not None:
            clauses.append("is_active = %s")
            params.append(is_active)
        if q:
            clauses.append("(email ILIKE %s OR full_name ILIKE %s)")
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params.extend([pattern, pattern])
        where = (
            sql.SQL("WHERE ") + sql.SQL(" AND ").join(map(sql.SQL, clauses))
            if clauses
            else sql.SQL("")
        )
        params.append(limit)
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                _q(
                    "SELECT {columns} FROM users {where} ORDER BY created_at, id LIMIT %s",
                    where=where,
                ),
                params,
            )
            rows = await cur.fetchall()
        return [_user(row) for row in rows]

    async def revoke_tokens(self, user_id: str) -> None:
        """End every token the account holds (signing out): its next request is a 401."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE users SET token_version = token_version + 1, updated_at = now()"
                " WHERE id = %s",
                (user_id,),
            )
        self._changed(user_id)

    async def anonymise(self, user_id: str) -> None:
        """Erase the account's personal data and close it: name, email and phone are
        overwritten, the password can no longer match, and its tokens stop working. The
        row stays (ids in the log name it); the email is freed for a new account."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE users SET full_name = %s, email = %s, phone = NULL,"
                " password_hash = '!', is_active = false,"
                " token_version = token_version + 1, updated_at = now() WHERE id = %s",
                (ERASED, f"erased+{user_id}@erased.invalid", user_id),
            )
        self._changed(user_id)

    async def change(
        self, user_id: str, *, role: Role | None = None, is_active: bool | None = None
    ) -> User | None:
        """Change role and/or activity; any real change revokes the account's tokens."""
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                _q(
                    "UPDATE users SET token_version = token_version"
                    " + CASE WHEN role IS DISTINCT FROM coalesce(%(role)s, role)"
                    " OR is_active IS DISTINCT FROM coalesce(%(active)s, is_active)"
                    " THEN 1 ELSE 0 END,"
                    " role = coalesce(%(role)s, role),"
                    " is_active = coalesce(%(active)s, is_active),"
                    " updated_at = now() WHERE id = %(id)s RETURNING {columns}"
                ),
                {"role": role, "active": is_active, "id": user_id},
            )
            row = await cur.fetchone()
        self._changed(user_id)
        return _user(row) if row else None
