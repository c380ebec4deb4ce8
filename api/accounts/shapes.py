"""How an account is written and shown: the email rule, and a user as the API shows it.

Shared by the sign-up route and staff's user routes, so both accept and show an account
the same way (and the OpenAPI schema states the same email pattern).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec

from api.accounts.staff import Grant
from api.accounts.users import User
from api.refused import Refused

__all__ = [
    "EMAIL_PATTERN",
    "Email",
    "Name",
    "Phone",
    "UserOut",
    "VenueGrantOut",
    "check_email",
    "user_out",
]

EMAIL_PATTERN = r"^[^@\x00-\x20\x7f]{1,64}@[^@\x00-\x20\x7f]{1,255}\.[^@\x00-\x20\x7f]{2,63}$"
"""No control characters or spaces, spelled out: the whitespace classes of Python and
JSON Schema differ, and the schema states this same pattern."""

_EMAIL = re.compile(EMAIL_PATTERN)

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320, examples=["ada@example.com"])]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]

Phone = Annotated[str, msgspec.Meta(min_length=3, max_length=32, pattern=r"^\+?[0-9 ()./-]+$")]


class VenueGrantOut(msgspec.Struct, frozen=True):
    """The user works at `venue_id` as its `role`."""

    venue_id: str
    role: Literal["manager", "host"]


class UserOut(msgspec.Struct, frozen=True):
    id: str
    email: str
    full_name: str
    phone: str | None
    role: Literal["system_user", "admin"]
    is_active: bool
    created_at: dt.datetime
    venues: list[VenueGrantOut]
    """The venues the user works at, and as what (an admin works at every venue)."""


def user_out(user: User, grants: Sequence[Grant] = ()) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        phone=user.phone,
        role=user.role,
        is_active=user.is_active,
        created_at=user.created_at,
        venues=[VenueGrantOut(grant.venue_id, grant.role) for grant in grants],
    )


def check_email(email: str) -> str:
    email = email.strip(" \t\r\n")  # ASCII only: the pattern takes other spaces, as the schema says
    if not _EMAIL.match(email):
        raise Refused(422, "email: not a valid email address", "invalid-email")
    return email
