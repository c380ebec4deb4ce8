"""Bearer tokens, the signed-in user, roles, and limits on guessing passwords
(`LoginLimiter`: growing waits for the address that fails, never an account lockout)
and on anonymous writes per address (`AddressLimiter`).

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
import hashlib
import ipaddress
import math
from dataclasses import dataclass
from typing import Any

import jwt
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from redis.asyncio import Redis

from api.accounts.users import User, UserStore

__all__ = [
    "AddressLimiter",
    "LoginLimiter",
    "TokenService",
    "TooManyAttempts",
    "authenticate",
    "bearer_token",
    "client_address",
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


class TooManyAttempts(Exception):
    """Answered with a 429 problem of `kind`, saying `Retry-After`."""

    def __init__(
        self,
        retry_after: int,
        detail: str = "Too many failed sign-in attempts; wait before trying again.",
        kind: str = "too-many-attempts",
    ) -> None:
        super().__init__(f"{detail} (retry in {retry_after} s)")
        self.retry_after = retry_after
        self.detail = detail
        self.kind = kind


def _plain(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def _wait_seconds(pttl: int | None) -> int:
    """Whole seconds (at least 1) from milliseconds, Redis' PTTL of a window or a wait."""
    return max(1, math.ceil((pttl if pttl and pttl > 0 else 1000) / 1000))


@dataclass(frozen=True, slots=True)
class AddressLimiter:
    """At most `limit` requests of one kind per client address in a fixed window, counted
    in Redis: the public booking page's writes, which need no account. Past the limit
    the request is refused with 429 and the window's remaining time."""

    redis: Redis
    prefix: str
    name: str
    limit: int
    window_seconds: int

    async def hit(self, address: str) -> None:
        key = f"{self.prefix}limit:{self.name}:{address}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self.window_seconds, nx=True)
            pipe.pttl(key)
            count, _, pttl = await pipe.execute()
        if int(count) > self.limit:
            raise TooManyAttempts(
                _wait_seconds(pttl),
                "Too many requests from this address; wait before trying again.",
                "too-many-requests",
            )


def client_address(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's address as limits count it: the peer, or the client a listed proxy
    names (`FORWARDED_ALLOW_IPS`). An IPv6 client is counted by its /64, which one
    household or one server holds whole, so hopping between its addresses gains nothing."""
    host = request.client.host if request.client else "unknown"
    try:
        parsed = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


@dataclass(frozen=True, slots=True)
class LoginLimiter:
    """Failed sign-ins slow down the address that fails, never the account as a whole.

    - An address may give `per_account` wrong passwords for one account, and `per_address`
      over all accounts, for free. Each failure past either makes that address (for that
      account, or for every account) wait: `first_delay_seconds`, doubled with each further
      failure, at most `max_delay_seconds`. While it waits, its attempts are refused (429,
      `Retry-After`) before the password is checked, right or wrong, and do not count.
    - The right password from an address that has not been failing is never refused:
      fifty wrong guesses from one place cannot lock the real admin out of another.
    - Guesses spread over many addresses: once an account has had `account_alert` failures
      from anywhere, an address's free failures for it are void, so every address that
      fails against it waits from its first failure on. Addresses that have not failed
      against it are let through as before. The trade-off: a botnet still gets a guess per
      address per wait (an account-wide wait would stop it, and lock the owner out too);
      bcrypt and the password length rule are what make those guesses worthless.
    - Counters forget `memory_seconds` after their last failure. A successful sign-in
      clears the address+account counter and its wait; not the address's counter (it
      counts other accounts) nor the account's (the owner signing in does not end an
      attack on it).

    Accounts are keyed by a digest of the email, so Redis holds no email addresses.
    """

    redis: Redis
    prefix: str
    per_account: int = 5
    per_address: int = 20
    account_alert: int = 50
    first_delay_seconds: float = 1.0
    max_delay_seconds: int = 900
    memory_seconds: int = 86_400

    def _account(self, email: str) -> str:
        return hashlib.blake2b(email.strip().lower().encode(), digest_size=16).hexdigest()

    def _keys(self, email: str, address: str) -> tuple[str, str, str]:
        """The failure counters: address+account, address, account."""
        account = self._account(email)
        return (
            f"{self.prefix}login:fails:pair:{address}:{account}",
            f"{self.prefix}login:fails:address:{address}",
            f"{self.prefix}login:fails:account:{account}",
        )

    def wait_keys(self, email: str, address: str) -> tuple[str, str]:
        """Set while the address (for the account, or for every account) must wait."""
        return (
            f"{self.prefix}login:wait:pair:{address}:{self._account(email)}",
            f"{self.prefix}login:wait:address:{address}",
        )

    def delay_ms(self, failures: int, free: int) -> int:
        """How long an address waits after its `failures`-th failure when `free` were
        free: nothing within them, then doubling from `first_delay_seconds`."""
        past = failures - free
        if past <= 0:
            return 0
        first = self.first_delay_seconds * 1000
        return int(min(first * 2 ** min(past - 1, 40), self.max_delay_seconds * 1000))

    async def check(self, email: str, address: str) -> None:
        """429 while this address must wait, for this account or for every account."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in self.wait_keys(email, address):
                pipe.pttl(key)
            left: list[int] = await pipe.execute()
        waiting = [ms for ms in left if ms > 0]
        if waiting:
            seconds = max(_wait_seconds(ms) for ms in waiting)
            raise TooManyAttempts(
                seconds,
                f"Too many wrong passwords from this address; try again in {_plain(seconds)}.",
            )

    async def failed(self, email: str, address: str) -> None:
        """Count a wrong password, and start the address's wait if it has one now."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in self._keys(email, address):
                pipe.incr(key)
                pipe.expire(key, self.memory_seconds)
            pair, _, where, _, account, _ = await pipe.execute()
        free = 0 if int(account) >= self.account_alert else self.per_account
        delays = (self.delay_ms(int(pair), free), self.delay_ms(int(where), self.per_address))
        async with self.redis.pipeline(transaction=True) as pipe:
            for key, ms in zip(self.wait_keys(email, address), delays, strict=True):
                if ms > 0:  # a wait already running longer (a concurrent failure) stays
                    pipe.set(key, 1, px=ms, nx=True)
                    pipe.pexpire(key, ms, gt=True)
            await pipe.execute()

    async def succeeded(self, email: str, address: str) -> None:
        await self.redis.delete(self._keys(email, address)[0], self.wait_keys(email, address)[0])
