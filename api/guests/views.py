"""How a guest profile is shown to staff, and what a change or a merge sends.

The bounds of tags and notes (20 tags of 30 characters, notes of 2000) are the domain's
(`booking_core.domain.guest`): a request past them is a 422 `invalid-guest-profile`
naming each field at fault in `errors`, not a schema error.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from booking_core.domain.commands import UNSET
from read_models import guests_layout
from read_models.guests import GuestBooking, GuestProfile

__all__ = [
    "GUEST_MODELS",
    "GuestBookingOut",
    "GuestMerge",
    "GuestOut",
    "GuestPage",
    "GuestPatch",
    "GuestRef",
    "GuestSummaryOut",
    "guest_out",
    "summary_out",
]

GUEST_MODELS = (guests_layout.NAME,)
"""The projections a profile is read from (for `X-Consistency-Token`)."""

GuestRef = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[^@]+$")]


class GuestPatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    tags: list[str] | msgspec.UnsetType = UNSET
    """The whole list of tags (at most 20, each 1-30 characters); absent: unchanged."""
    notes: str | msgspec.UnsetType | None = UNSET
    """The whole notes (at most 2000 characters); null or blank: none; absent: unchanged."""


class GuestMerge(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    guest_id: GuestRef
    """The other profile of the same guest: it is merged into the one in the path."""


class GuestBookingOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    service_date: dt.date
    starts_at: dt.datetime
    party_size: int
    status: str


class GuestSummaryOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    phones: list[str]
    emails: list[str]
    visits: int
    covers: int
    no_shows: int
    cancellations: int
    first_visit: dt.date | None
    last_visit: dt.date | None
    tags: list[str]


class GuestOut(GuestSummaryOut, frozen=True, kw_only=True):
    notes: str | None
    merged: list[str]
    """The profiles merged into this one (their ids read as this profile)."""
    version: int
    """The profile's version, its `ETag` (what `If-Match` takes)."""
    bookings: list[GuestBookingOut]
    """The newest 50 bookings of the guest, newest start first."""


class GuestPage(msgspec.Struct, frozen=True):
    items: list[GuestSummaryOut]
    next_cursor: str | None = None


def summary_out(profile: GuestProfile) -> GuestSummaryOut:
    return GuestSummaryOut(
        id=profile.id,
        name=profile.name,
        phones=profile.phones,
        emails=profile.emails,
        visits=profile.visits,
        covers=profile.covers,
        no_shows=profile.no_shows,
        cancellations=profile.cancellations,
        first_visit=profile.first_visit,
        last_visit=profile.last_visit,
        tags=profile.tags,
    )


def guest_out(profile: GuestProfile, bookings: list[GuestBooking]) -> GuestOut:
    summary = msgspec.structs.asdict(summary_out(profile))
    return GuestOut(
        **summary,
        notes=profile.notes,
        merged=profile.merged,
        version=profile.version,
        bookings=[
            GuestBookingOut(
                id=b.booking_id,
                service_date=b.service_date,
                starts_at=b.starts_at,
                party_size=b.party_size,
                status=b.status,
            )
            for b in bookings
        ],
    )
