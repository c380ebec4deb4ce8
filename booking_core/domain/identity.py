"""Identity → person: which guest of a venue an event's personal fields belong to.

A person is a guest as one venue knows them (`booking_core.domain.personal`). The event
that first carries a guest's details (a `BookingPlaced`, a `WaitlistEntryAdded`) is
resolved to a person by its *identity*, the first of:

1. the account, when a signed-in guest books for themselves (`user:{id}`);
2. the normalised email address (`email:{address}`), for bookings staff take and for
   guests without an account;
3. the normalised phone number (`phone:{digits}`);

and with none of them, a person of its own. One identity of one venue is always one
person (the store keeps an index of digests, `person_index`); the same email at two
venues is two persons. Later events of one booking or waitlist entry do not resolve
again: they carry the person of its first event (the deciders copy it from the folded
state), so changing a booking's email does not move it to another guest.

Only the SHA-256 digest of an identity is stored, never the identity itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from booking_core.domain.personal import normalise_email, normalise_phone

__all__ = ["RESOLVED_TYPES", "identity_digest", "identity_of", "payload_identity"]

RESOLVED_TYPES: Final = frozenset({"BookingPlaced", "WaitlistEntryAdded"})
"""The event types that start a booking or an entry, whose person is resolved from their
identity when they do not name one (later events copy theirs)."""


def identity_of(
    *, account: str | None = None, email: str | None = None, phone: str | None = None
) -> str | None:
    """The identity that decides the person: the account booking for itself, else the
    email, else the phone; None for a guest with none of them (a person of their own)."""
    if account:
        return f"user:{account}"
    if email and (address := normalise_email(email)):
        return f"email:{address}"
    if phone and (digits := normalise_phone(phone)).strip("+"):
        return f"phone:{digits}"
    return None


def payload_identity(payload: Mapping[str, Any], account: str | None = None) -> str | None:
    """The identity of a stored payload (`guest_email`, `guest_phone`), or of `account`
    when a signed-in guest wrote it for themselves."""
    email = payload.get("guest_email")
    phone = payload.get("guest_phone")
    return identity_of(
        account=account,
        email=email if isinstance(email, str) else None,
        phone=phone if isinstance(phone, str) else None,
    )


def identity_digest(identity: str) -> bytes:
    """What the index keeps of an identity: its SHA-256."""
    return hashlib.sha256(identity.encode()).digest()
