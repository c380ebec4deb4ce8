"""`/api/v1/auth`: register, sign in (OAuth2 password flow), refresh a session, sign
out, who am I, erase me (`api.accounts.personal_data`). How sessions slide and end:
`api.accounts.security`; how sign-ins and registrations are limited: `api.accounts.limits`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody, URLEncodedBody

from api.accounts.limits import client_address
from api.accounts.personal_data import erase_account
from api.accounts.security import session_of
from api.accounts.shapes import Email, Name, Phone, UserOut, check_email, user_out
from api.accounts.staff import StaffStore
from api.accounts.users import MAX_PASSWORD_BYTES, password_problem
from api.context import ApiDep, UserDep
from api.refused import Refused
from api.requests import AUTH

__all__ = ["AccessToken", "AuthController", "Register", "TokenForm"]


class Register(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Email
    password: Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD_BYTES)]
    full_name: Name
    phone: Phone | None = None


class TokenForm(msgspec.Struct, frozen=True):
    username: Annotated[str, msgspec.Meta(max_length=320)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]
    grant_type: str | None = None
    scope: str | None = None


class AccessToken(msgspec.Struct, frozen=True):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int


def _access(token: str, lifetime: int) -> AccessToken:
    return AccessToken(
        access_token=token,
        token_type="bearer",  # noqa: S106 - the OAuth2 token type, not a secret
        expires_in=lifetime,
    )


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/register",
        status_code=201,
        summary="Create a guest account",
        description="Limited per client address (`REGISTRATIONS_PER_ADDRESS` an hour): past"
        " the limit the answer is 429 with `Retry-After`.",
    )
    async def register(
        self, api: ApiDep, request: Request[Any, Any, Any], data: JSONBody[Register]
    ) -> UserOut:
        await api.registrations.hit(client_address(request))
        email = check_email(data.email)
        unfit = password_problem(data.password)
        if unfit is not None:
            raise Refused(422, f"password: {unfit}", "weak-password")
        hashed = await api.passwords.hash(data.password)
        user = await api.users.create(
            email=email, password_hash=hashed, full_name=data.full_name.strip(), phone=data.phone
        )
        return user_out(user)

    @post(
        "/token",
        status_code=200,
        summary="Sign in (OAuth2 password flow)",
        description="Form fields `username` (the email) and `password`. A client address"
        " that keeps giving wrong passwords (for one account, or for many) waits longer"
        " after each one: while it waits, its attempts get 429 with `Retry-After`, right"
        " password or not. Other addresses are not slowed by its failures, so nobody can"
        " lock an account out.",
        security=[],
    )
    async def token(
        self,
        api: ApiDep,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[TokenForm],
    ) -> AccessToken:
        address = client_address(request)
        email = data.username.strip()
        attempt = await api.logins.attempt(email, address)  # a failure until it succeeds
        try:
            found = await api.users.credentials(email) if email else None
            user, hashed = found if found else (None, None)
            right = await api.passwords.verify(data.password, hashed) and user is not None
        except Exception:
            await api.logins.withdrawn(attempt)  # a fault, not a guess
            raise
        if not right or user is None:
            await api.logins.failed(attempt)
            raise NotAuthorizedException(detail="Wrong email or password.")
        if not user.is_active:
            await api.logins.failed(attempt)
            raise NotAuthorizedException(detail="This account has been deactivated.")
        await api.logins.succeeded(attempt)
        return _access(*api.tokens.issue(user))

    @post(
        "/refresh",
        status_code=200,
        summary="Trade a still-valid access token for a fresh one",
        description="Sliding sessions: the fresh token belongs to the same session (it keeps"
        " the time of the sign-in), so a console that refreshes before its token expires"
        " stays signed in, up to the session's cap (`SESSION_HOURS` after the sign-in;"
        " 16 by default). An expired or revoked token, a deactivated account or a session"
        " past its cap gets 401: sign in again. The old token stays valid until it expires.",
        security=AUTH,
    )
    async def refresh(self, api: ApiDep, request: Request[Any, Any, Any]) -> AccessToken:
        user, claims = await session_of(request, api.tokens, api.users)
        return _access(*api.tokens.refreshed(user, claims))

    @post(
        "/sign-out",
        status_code=204,
        summary="Sign out: revoke every token of the account",
        description="Bumps the account's token version, so every token it holds (in this"
        " browser and any other) gets 401 from its next request on.",
        security=AUTH,
    )
    async def sign_out(self, api: ApiDep, user: UserDep) -> None:
        await api.users.revoke_tokens(user.id)

    @get("/me", summary="The signed-in user", security=AUTH)
    async def me(self, api: ApiDep, user: UserDep) -> UserOut:
        grants = await StaffStore(api.services.pool).grants_of([user.id])
        return user_out(user, grants[user.id])

    @delete(
        "/me",
        status_code=204,
        summary="Erase the signed-in user's personal data and close the account",
        description="The user's guest data at every venue (their own bookings, and those"
        " staff took for their email) becomes unreadable everywhere while the bookings'"
        " facts stay, and the account's name, email and phone are erased; every token of"
        " it stops working. An admin account is closed by another admin first."
        " See `GET /api/v1/auth/me/export` for what is held.",
        security=AUTH,
    )
    async def erase_me(self, api: ApiDep, user: UserDep) -> None:
        await erase_account(api, user)
