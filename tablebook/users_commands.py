"""`tablebook users create-admin`, and the demo admin `tablebook dev` makes.

Accounts live in the `users` table (see `api.accounts`); this module only checks what an
operator typed and hands it to `UserStore.upsert_admin`, so running it again with a new
password changes that account's password and keeps one account. The password comes from
`--password`, `--password-file` (a secret mounted as a file, e.g. by docker compose: it
stays out of the process list and the environment) or `TABLEBOOK_ADMIN_PASSWORD`. With
`--keep-existing` an account of that email is left as it is: a deployment can run it at
every start to create its first admin without signing the admin out each time, or undoing
a deactivation or a change of role made since.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from psycopg_pool import AsyncConnectionPool

from api.accounts import MIN_PASSWORD_CHARACTERS, PasswordHasher, User, UserStore, password_problem
from tablebook.database import open_pool

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "InvalidAccount",
    "check_account",
    "create_admin",
    "create_admin_in",
    "ensure_admin",
    "password_from_file",
    "stored_password",
]

MIN_PASSWORD_LENGTH = MIN_PASSWORD_CHARACTERS
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


class InvalidAccount(ValueError):
    """What the operator gave cannot make an account; the message says why, in one line."""


def check_account(email: str, password: str) -> None:
    if not _EMAIL.fullmatch(email):
        raise InvalidAccount(f"{email!r} is not an email address")
    unfit = password_problem(password)
    if unfit is not None:
        raise InvalidAccount(f"the password {unfit}")


def password_from_file(path: Path) -> str:
    """The password in the file `path`: its first line, without the line break a secret
    file usually ends with (and a password cannot hold)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise InvalidAccount(f"cannot read the password file {str(path)!r}: {reason}") from None
    return text.splitlines()[0] if text else ""


async def create_admin(
    pool: AsyncConnectionPool[Any],
    *,
    email: str,
    password: str,
    full_name: str = "Administrator",
    rounds: int = 12,
) -> User:
    """Create the admin, or give the existing account of that email this password."""
    check_account(email, password)
    password_hash = await PasswordHasher(rounds).hash(password)
    return await UserStore(pool).upsert_admin(
        email=email, password_hash=password_hash, full_name=full_name
    )


async def ensure_admin(
    pool: AsyncConnectionPool[Any],
    *,
    email: str,
    password: str,
    full_name: str,
    rounds: int = 12,
) -> User:
    """Like `create_admin`, but an active admin who already has this password is left
    alone, so restarting `tablebook dev` does not sign the admin out everywhere."""
    found = await UserStore(pool).credentials(email)
    if found is not None:
        user, password_hash = found
        if (
            user.is_admin
            and user.is_active
            and await PasswordHasher(rounds).verify(password, password_hash)
        ):
            return user
    return await create_admin(
        pool, email=email, password=password, full_name=full_name, rounds=rounds
    )


def stored_password(path: Path) -> str:
    """The password kept in `path`, made up (and kept, readable by the owner only) on
    first use, so a development admin keeps one password from run to run."""
    if path.is_file():
        kept = path.read_text().strip()
        if len(kept) >= MIN_PASSWORD_LENGTH:
            return kept
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(password + "\n")
    return password


async def create_admin_in(
    database_url: str,
    *,
    email: str,
    password: str,
    full_name: str,
    rounds: int,
    keep_existing: bool = False,
) -> User | None:
    """`create_admin` with a pool of its own: for the command line. With `keep_existing`,
    None when an account of that email exists (it is left as it is)."""
    pool = await open_pool(database_url, min_size=1, max_size=1)
    try:
        if keep_existing and await UserStore(pool).credentials(email) is not None:
            return None
        return await create_admin(
            pool, email=email, password=password, full_name=full_name, rounds=rounds
        )
    finally:
        await pool.close()
