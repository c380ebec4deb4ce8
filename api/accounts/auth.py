"""`/api/v1/auth`: register, sign in (OAuth2 password flow), who am I."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody, URLEncodedBody

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


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/register", status_code=201, summary="Create a guest account")
    async def register(self, api: ApiDep, data: JSONBody[Register]) -> UserOut:
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
        description="Form fields `username` (the email) and `password`. Failed attempts are "
        "limited per account and per client address; past the limit the answer is 429 "
        "with `Retry-After`.",
        security=[],
    )
    async def token(
        self,
        api: ApiDep,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[TokenForm],
    ) -> AccessToken:
        address = request.client.host if request.client else "unknown"
        email = data.username.strip()
        await api.logins.check(email, address)
        found = await api.users.credentials(email) if email else None
        user, hashed = found if found else (None, None)
        if not await api.passwords.verify(data.password, hashed) or user is None:
            await api.logins.failed(email, address)
            raise NotAuthorizedException(detail="Wrong email or password.")
        if not user.is_active:
            raise NotAuthorizedException(detail="This account has been deactivated.")
        await api.logins.succeeded(email, address)
        return AccessToken(
            access_token=api.tokens.issue(user),
            token_type="bearer",  # noqa: S106 - the OAuth2 token type, not a secret
            expires_in=api.tokens.minutes * 60,
        )

    @get("/me", summary="The signed-in user", security=AUTH)
    async def me(self, api: ApiDep, user: UserDep) -> UserOut:
        grants = await StaffStore(api.services.pool).grants_of([user.id])
        return user_out(user, grants[user.id])
