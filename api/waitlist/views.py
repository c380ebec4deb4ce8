"""How the waitlist is shown, to staff and to the waiting guest, and the guest's token.

A write answers with the entry as its command left it (its place from the list's
stream, the quote it was given); a read shows the read model's rows with their places
and quotes worked out again from the floor at that moment (`read_models.waitlist`).

The guest's token is an HMAC of the entry under the deployment's secret key: the same
entry always gets the same token (a repeated request answers with it again), and only
its SHA-256 is written to the log.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Annotated, Literal

import msgspec

from api.context import Api
from api.schemas import BookingOut, GuestName, OverrideIn, PartySize, Phone
from booking_core.domain import waitlist as waitlist_decider
from booking_core.domain.errors import InvalidWaitlistEntry
from booking_core.domain.waitlist import Removed as RemovedEntry
from booking_core.domain.waitlist import SeatedFromList, Waiting, WaitlistEntry
from read_models import bookings_layout, venue_layout, waitlist_layout
from read_models import waitlist as waitlist_model
from read_models.venue import venue as venue_row
from read_models.waitlist import WaitlistRow
from read_models.waitlist_quote import Quote, WaitingParty

__all__ = [
    "QUOTE_MODELS",
    "EntryStatus",
    "GuestEntryOut",
    "SeatedOut",
    "WaitlistCreate",
    "WaitlistEntryOut",
    "WaitlistOut",
    "WaitlistRemove",
    "WaitlistSeat",
    "checked_table_ids",
    "entry_from_row",
    "entry_from_state",
    "quoted_line",
    "service_date_now",
    "token_for",
    "token_hash",
]

_MAX_ID = 200
QUOTE_MODELS = (waitlist_layout.NAME, bookings_layout.NAME, venue_layout.NAME)
"""The projections a list with quotes is read from (for `X-Consistency-Token`)."""

EntryStatus = Literal["waiting", "notified", "seated", "removed"]
Notes = Annotated[str, msgspec.Meta(max_length=500)]


class WaitlistCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    party_size: PartySize
    guest_name: GuestName
    guest_phone: Phone | None = None
    notes: Notes | None = None


class WaitlistSeat(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    table_ids: Annotated[list[str], msgspec.Meta(max_length=20)] | None = None
    """The tables to seat the party at; the smallest free table that fits if absent.
    (Each id is checked by `checked_table_ids`: the schema cannot bound a list's items.)"""
    override: OverrideIn | None = None
    """A reason to set aside a rule that would refuse the walk-in, as for a staff booking."""


class WaitlistRemove(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class WaitlistEntryOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    venue_id: str
    service_date: dt.date
    status: EntryStatus
    position: Annotated[
        int | None, msgspec.Meta(description="1 for the party first in line; null once it left")
    ]
    quoted_wait_minutes: Annotated[
        int | None,
        msgspec.Meta(
            description="Minutes the party is expected to wait from now, worked out from the"
            " floor (in a write's answer: the quote it was given); null if no table seats it"
        ),
    ]
    first_quote_minutes: Annotated[
        int | None, msgspec.Meta(description="The quote the party was given when it joined")
    ]
    party_size: int
    guest_name: str
    guest_phone: str | None
    notes: str | None
    added_at: dt.datetime
    notified_at: dt.datetime | None = None
    seated_at: dt.datetime | None = None
    booking_id: str | None = None
    waited_minutes: Annotated[
        int | None, msgspec.Meta(description="The actual wait, once seated")
    ] = None
    removed_reason: str | None = None
    token: Annotated[
        str | None,
        msgspec.Meta(
            description="Only when the party joins: the guest follows their place with it"
        ),
    ] = None


class WaitlistOut(msgspec.Struct, frozen=True):
    date: dt.date
    entries: list[WaitlistEntryOut]


class SeatedOut(msgspec.Struct, frozen=True):
    entry: WaitlistEntryOut
    booking: BookingOut


class GuestEntryOut(msgspec.Struct, frozen=True, kw_only=True):
    """What the waiting guest sees: their place and quote, nothing of anyone's details."""

    id: str
    status: EntryStatus
    position: int | None
    quoted_wait_minutes: int | None
    party_size: int
    added_at: dt.datetime


def checked_table_ids(table_ids: list[str] | None) -> tuple[str, ...]:
    """The tables a party is to be seated at, each an id a table can have."""
    for table_id in table_ids or ():
        if not 1 <= len(table_id) <= _MAX_ID or "@" in table_id or "/" in table_id:
            raise InvalidWaitlistEntry(
                "table_ids", "each must be a table's id: 1 to 200 characters, without @ or /"
            )
    return tuple(table_ids or ())


def token_for(api: Api, venue_id: str, entry_id: str) -> str:
    digest = hmac.new(
        api.config.secret_key.encode(), f"waitlist:{venue_id}:{entry_id}".encode(), "sha256"
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def service_date_now(api: Api, venue_id: str, now: dt.datetime) -> dt.date:
    """The service day a party arriving now waits on."""
    row = await venue_row(api.services.pool, venue_id)
    return waitlist_decider.service_date_at(row.hours, row.settings.time_zone, now)


def _status(entry: WaitlistEntry) -> EntryStatus:
    if isinstance(entry, Waiting):
        return "notified" if entry.notified_at else "waiting"
    return "seated" if isinstance(entry, SeatedFromList) else "removed"


def entry_from_state(
    venue_id: str, entry: WaitlistEntry, position: int | None, token: str | None = None
) -> WaitlistEntryOut:
    details = entry.details
    return WaitlistEntryOut(
        id=details.entry_id,
        venue_id=venue_id,
        service_date=waitlist_decider.service_date_of(details.entry_id),
        status=_status(entry),
        position=position,
        quoted_wait_minutes=details.quoted_wait_minutes if position else None,
        first_quote_minutes=details.quoted_wait_minutes,
        party_size=details.party_size,
        guest_name=details.guest_name,
        guest_phone=details.guest_phone,
        notes=details.notes,
        added_at=details.added_at,
        notified_at=entry.notified_at if isinstance(entry, Waiting) else None,
        seated_at=entry.seated_at if isinstance(entry, SeatedFromList) else None,
        booking_id=entry.booking_id if isinstance(entry, SeatedFromList) else None,
        waited_minutes=_waited(entry),
        removed_reason=entry.reason if isinstance(entry, RemovedEntry) else None,
        token=token,
    )


def _waited(entry: WaitlistEntry) -> int | None:
    if not isinstance(entry, SeatedFromList):
        return None
    return max(0, round((entry.seated_at - entry.details.added_at).total_seconds() / 60))


def entry_from_row(row: WaitlistRow, quote: Quote | None) -> WaitlistEntryOut:
    status: EntryStatus = row.status  # type: ignore[assignment]  # the table's CHECK
    if status == "waiting" and row.notified_at is not None:
        status = "notified"
    return WaitlistEntryOut(
        id=row.id,
        venue_id=row.venue_id,
        service_date=row.service_date,
        status=status,
        position=quote.position if quote else None,
        quoted_wait_minutes=quote.wait_minutes if quote else None,
        first_quote_minutes=row.quoted_wait_minutes,
        party_size=row.party_size,
        guest_name=row.guest_name,
        guest_phone=row.guest_phone,
        notes=row.notes,
        added_at=row.added_at,
        notified_at=row.notified_at,
        seated_at=row.seated_at,
        booking_id=row.booking_id,
        waited_minutes=row.waited_minutes,
        removed_reason=row.removed_reason,
    )


async def quoted_line(
    api: Api,
    venue_id: str,
    service_date: dt.date,
    now: dt.datetime,
    *,
    newcomer: int | None = None,
) -> tuple[list[tuple[WaitlistRow, Quote]], Quote | None]:
    """The day's waiting parties with their places and quotes from the floor now; with
    `newcomer` (a party size), the quote of a party joining the end of the line too."""
    pool = api.services.pool
    waiting = await waitlist_model.line(pool, venue_id, service_date)
    floor = await waitlist_model.floor(pool, venue_id, service_date)
    parties = [WaitingParty(row.id, row.party_size) for row in waiting]
    if newcomer is not None:
        parties.append(WaitingParty("", newcomer))
    quotes = waitlist_model.quotes(now, floor, parties)
    joined = quotes.pop() if newcomer is not None else None
    return list(zip(waiting, quotes, strict=True)), joined
