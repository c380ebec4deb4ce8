"""Which event fields are a person's personal data, and what they read as once erased.

A person is a guest as one venue knows them: an account that books for itself, or, for
bookings staff take by phone and for walk-ins, a normalised email address or phone number
(a booking with neither is a person of its own). Each person has a random key id,
`gst_…`, which is also their guest profile's id; the events that carry their personal
fields name it in `person`. The event store seals those fields under the person's key
(`booking_core.store.sealing`) and opens them on every read; once the key is destroyed
(`PersonErased`) they read as `ERASED` — the same value whether the event is read live, in
a rebuild or in a replay, so read models stay equal whichever way they were built.

Non-personal facts (a party of 4 at table 7 at 19:00, who on the staff did what) are never
sealed: reports and statistics stay what they were after an erasure.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

__all__ = [
    "ERASED",
    "PERSONAL_FIELDS",
    "PERSON_ID_PREFIX",
    "erased_value",
    "is_person_id",
    "new_person_id",
    "normalise_email",
    "normalise_phone",
]

ERASED: Final = "[erased]"
"""What a required personal text field (a guest's name) reads as after erasure; optional
ones (phone, email, requests, notes, the manage token) read as None."""

PERSON_ID_PREFIX: Final = "gst_"

PERSONAL_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "BookingPlaced": (
        "guest_name",
        "guest_phone",
        "guest_email",
        "special_requests",
        "manage_token",
    ),
    "BookingChanged": ("guest_name", "guest_phone", "guest_email", "special_requests"),
    "WaitlistEntryAdded": ("guest_name", "guest_phone", "notes"),
    "WaitlistGuestNotified": ("guest_name", "guest_phone"),
    "GuestProfileNoted": ("notes",),
}
"""Event type (its stored name) → the payload fields sealed under the event's `person`."""

REQUIRED_FIELDS: Final = frozenset({"guest_name"})

_PERSON_ID: Final = re.compile(r"gst_[0-9a-f]{32}")


def new_person_id() -> str:
    """A fresh person (and guest profile) id: 128 random bits."""
    return f"{PERSON_ID_PREFIX}{secrets.token_hex(16)}"


def is_person_id(value: str) -> bool:
    return _PERSON_ID.fullmatch(value) is not None


def erased_value(field: str) -> str | None:
    """What `field` reads as once its person is erased."""
    return ERASED if field in REQUIRED_FIELDS else None


def normalise_email(email: str) -> str:
    """The form two spellings of one address share: trimmed and lower-cased."""
    return email.strip().lower()


def normalise_phone(phone: str) -> str:
    """The digits of a number, a leading + kept: "+44 20 7946-0000" and "+442079460000"
    are one person. Without a country rule, "020 7946 0000" is another."""
    digits = "".join(ch for ch in phone if ch.isdigit() and ch.isascii())
    return f"+{digits}" if phone.strip().startswith("+") else digits
