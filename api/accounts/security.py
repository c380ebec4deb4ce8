"""Bearer tokens, the signed-in user, roles. (Limits on guessing passwords and on
writes without an account: `api.accounts.limits`.)

An access token is an HS256 JWT: `sub` (the user id), `role`, `ver` (the account's
token version when it was issued), `auth` (when the user signed in), `iat`, `exp`.

Sessions slide: `POST /auth/refresh` trades a still-valid token for a fresh one that
keeps the same `auth`, so a console left open stays signed in through a whole service
while a token that leaks is only good for its short lifetime. No refreshed token lives
past `auth` + `session_hours` (the absolute cap): after that the user signs in again.
Signing out bumps the account's token version, which ends every token it holds; so do
deactivating the account, changing its role, erasing it, and resetting its password
with `tablebook users create-admin` (`api.accounts.users`). Undoing the change does not
bring the old tokens back.

Every request with a token loads the
account by id (one primary-key read) and refuses the token if the account is gone,
inactive, or its token version or role has moved on: deactivating a user, or changing
their role, ends their sessions at once. Only HS256 is accepted, so `alg: none` and
tokens signed with another key are refused like any other bad signature.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import jwt
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from api.accounts.users import User, UserStore

__all__ = [
    "TokenService",
    "authenticate",
    "bearer_token",
    "require_admin",
    "session_of",
]

ALGORITHM = "HS256"
_MAX_SUBJECT = 100
_ROLES = ("system_user", "admin")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tablebook"'}
_LEEWAY = dt.timedelta(seconds=30)
"""A refresh this close to the cap would answer a token of a few seconds: refused."""


@dataclass(frozen=True, slots=True)
class TokenService:
    secret: str
    minutes: int = 60
    session_hours: int = 16
    """The absolute cap of a session: refreshing never carries it past this many hours
    after the sign-in (a long service, not a week)."""

    def issue(
        self,
        user: User,
        *,
        now: dt.datetime | None = None,
        signed_in: dt.datetime | None = None,
    ) -> tuple[str, int]:
        """A token for `user` and its lifetime in seconds. `signed_in` is when the session
        began (now, for a sign-in); the token never outlives the session's cap."""
        issued = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        began = (signed_in or issued).replace(microsecond=0)
        expires = min(
            issued + dt.timedelta(minutes=self.minutes),
            began + dt.timedelta(hours=self.session_hours),
        )
        claims = {
            "sub": user.id,
            "role": user.role,
            "ver": user.token_version,
            "auth": int(began.timestamp()),
            "iat": issued,
            "exp": expires,
        }
        lifetime = int((expires - issued).total_seconds())
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM), lifetime

    def refreshed(
        self, user: User, claims: dict[str, Any], *, now: dt.datetime | None = None
    ) -> tuple[str, int]:
        """A fresh token for the session `claims` belong to (already verified, and the
        account checked), or 401 once the session has reached its cap."""
        moment = now or dt.datetime.now(dt.UTC)
        began = dt.datetime.fromtimestamp(int(claims.get("auth", claims["iat"])), dt.UTC)
        if moment >= began + dt.timedelta(hours=self.session_hours) - _LEEWAY:
            raise _unauthorized(f"Sessions last at most {self.session_hours} hours; sign in again.")
        return self.issue(user, now=moment, signed_in=began)

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims, or `NotAuthorizedException` saying what was wrong."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "exp", "iat", "role", "ver"]},
            )
        except jwt.ExpiredSignatureError:
            raise _unauthorized("The access token has expired; sign in again.") from None
        except jwt.InvalidTokenError:
            raise _unauthorized("The access token is not valid.") from None
        if not _well_formed(claims):
            raise _unauthorized("The access token is not valid.")
        return claims


def _well_formed(claims: dict[str, Any]) -> bool:
    """Claims of the shape this service issues. A signature proves who signed, not what:
    a token signed with a leaked or test key may carry any JSON, and a `sub` with a NUL
    would reach PostgreSQL (which cannot hold one) instead of being refused here."""
    sub, role, ver = claims.get("sub"), claims.get("role"), claims.get("ver")
    began = claims.get("auth", 0)  # tokens issued before sessions had a start lack it
    return (
        isinstance(began, int)
        and not isinstance(began, bool)
        and isinstance(sub, str)
        and 0 < len(sub) <= _MAX_SUBJECT
        and sub.isascii()
        and sub.isprintable()
        and role in _ROLES
        and isinstance(ver, int)
        and not isinstance(ver, bool)
    )


def _unauthorized(detail: str) -> NotAuthorizedException:
    return NotAuthorizedException(detail=detail, headers=_CHALLENGE)


def bearer_token(request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Send the access token as 'Authorization: Bearer <token>'.")
    return token.strip()


async def authenticate(
    request: ASGIConnection[Any, Any, Any, Any], tokens: TokenService, users: UserStore
) -> User:
    """The signed-in user, or 401."""
    user, _ = await session_of(request, tokens, users)
    return user


async def session_of(
    request: ASGIConnection[Any, Any, Any, Any], tokens: TokenService, users: UserStore
) -> tuple[User, dict[str, Any]]:
    """The signed-in user and their token's verified claims, or 401."""
    token = bearer_token(request)
    if token is None:
        raise _unauthorized("Sign in: this needs an access token.")
    claims = tokens.claims(token)
    user = await users.by_id(str(claims["sub"]))
    if (
        user is None
        or not user.is_active
        or claims.get("ver") != user.token_version
        or claims.get("role") != user.role
    ):
        raise _unauthorized("The access token is no longer valid; sign in again.")
    return user, claims


def require_admin(user: User) -> User:
    if not user.is_admin:
        raise PermissionDeniedException(detail="Only an admin may do this.")
    return user
