"""What callers ask for, in the imperative.

Every command carries its `command_id` (recorded in the events' metadata), the `actor`
(who asks, and in what role), `now` (an aware instant: deciders never read a clock) and
its `venue_id` (whose streams it is decided against; it reads no other venue's).
Commands that create something carry its new id: ids are made by the caller, so a
decision stays pure and a retried command keeps its ids.

Change commands use `msgspec.UNSET` for "leave as it is", so a field can also be set to
`None` on purpose (clearing a guest's phone number).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType

from booking_core.domain.streams import DEFAULT_VENUE_ID
from booking_core.domain.values import (
    BookingSource,
    Canvas,
    LayoutArea,
    LayoutTable,
    OpeningHours,
    PacingRule,
    TableShape,
    TurnTime,
)

__all__ = [
    "UNSET",
    "ActivateLayout",
    "Actor",
    "AddClosure",
    "AddTable",
    "AddToWaitlist",
    "BlockTable",
    "BookTable",
    "BookingCommand",
    "CancelBooking",
    "ChangeBooking",
    "ChangeLayout",
    "ChangeSlotSettings",
    "ChangeTable",
    "ChangeVenueDetails",
    "Command",
    "CompleteBooking",
    "CreateLayout",
    "DefineTableCombination",
    "DeleteLayout",
    "GuestCommand",
    "LiftBlock",
    "MarkNoShow",
    "MergeGuests",
    "NoteGuest",
    "NotifyWaitlistGuest",
    "OpenVenue",
    "RegistryCommand",
    "RemoveClosure",
    "RemoveFromWaitlist",
    "RemoveTableCombination",
    "RetireTable",
    "Role",
    "SeatBooking",
    "SeatFromWaitlist",
    "SetOpeningHours",
    "TableCommand",
    "UnsetType",
    "VenueCommand",
    "WaitlistCommand",
]

Role = Literal["system_user", "admin", "manager", "host"]
"""The actor's role in the command's venue: `admin` (of every venue), that venue's
`manager` or `host`, or a guest (`system_user`)."""


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    role: Role = "system_user"

    @property
    def account(self) -> str | None:
        """The account a guest acts for themselves with: its details are its own person's.
        None for staff (who write other people's details) and guests without an account."""
        return self.user_id if self.has_account and not self.is_staff else None

    @property
    def has_account(self) -> bool:
        """False for a guest who booked on the public page without an account: they act
        as `public_guest(booking_id)`, a stand-in for that one booking, not an account."""
        return not self.user_id.startswith(PUBLIC_GUEST_PREFIX)

    @property
    def is_staff(self) -> bool:
        """Works the venue's floor: may see and run every booking of the venue."""
        return self.role != "system_user"

    @property
    def runs_venue(self) -> bool:
        """May change the venue itself: its tables, blocks, hours and settings."""
        return self.role in ("admin", "manager")


PUBLIC_GUEST_PREFIX = "public:"


def public_guest(booking_id: str) -> Actor:
    """The actor of a guest without an account, for the one booking they made and manage
    with its token: its `user_id` names the booking, so the booking's own rules (only its
    guest or staff may change it) hold it to that booking alone."""
    return Actor(user_id=f"{PUBLIC_GUEST_PREFIX}{booking_id}")


class Command(msgspec.Struct, frozen=True, kw_only=True):
    command_id: str
    actor: Actor
    now: dt.datetime
    venue_id: str = DEFAULT_VENUE_ID
    """The venue whose streams decide the command."""

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("a command's `now` must be an aware datetime")
        if self.now.tzinfo is not dt.UTC:
            # Bypasses frozen on purpose: normalising once here keeps every event in UTC.
            msgspec.structs.force_setattr(self, "now", self.now.astimezone(dt.UTC))


# --- registry ---------------------------------------------------------------------------


class OpenVenue(Command, frozen=True, kw_only=True):
    """Open the venue `venue_id` (the command's venue) under a slug no other venue holds."""

    name: str
    slug: str
    time_zone: str
    address: str | None = None


class ChangeVenueDetails(Command, frozen=True, kw_only=True):
    """Change any of the venue's directory details; a new slug is claimed and the old one
    released in the same write, a new time zone becomes the slot settings' one."""

    name: str | UnsetType = UNSET
    slug: str | UnsetType = UNSET
    time_zone: str | UnsetType = UNSET
    address: str | UnsetType | None = UNSET


# --- venue ------------------------------------------------------------------------------


class SetOpeningHours(Command, frozen=True, kw_only=True):
    hours: OpeningHours


class ChangeSlotSettings(Command, frozen=True, kw_only=True):
    interval_minutes: int
    turn_times: tuple[TurnTime, ...]
    buffer_minutes: int
    min_lead_minutes: int
    max_days_ahead: int
    time_zone: str
    pacing: tuple[PacingRule, ...] = ()


class AddClosure(Command, frozen=True, kw_only=True):
    date: dt.date
    reason: str


class RemoveClosure(Command, frozen=True, kw_only=True):
    date: dt.date


class CreateLayout(Command, frozen=True, kw_only=True):
    layout_id: str
    name: str
    tables: tuple[LayoutTable, ...] = ()
    areas: tuple[LayoutArea, ...] = ()
    canvas: Canvas | None = None


class ChangeLayout(Command, frozen=True, kw_only=True):
    """Replaces the whole layout. `expected_version` (the HTTP `If-Match`) refuses the
    change if the layout has changed since the caller read it."""

    layout_id: str
    name: str
    tables: tuple[LayoutTable, ...] = ()
    areas: tuple[LayoutArea, ...] = ()
    canvas: Canvas | None = None
    expected_version: int | None = None


class DeleteLayout(Command, frozen=True, kw_only=True):
    layout_id: str
    expected_version: int | None = None


class ActivateLayout(Command, frozen=True, kw_only=True):
    layout_id: str


class DefineTableCombination(Command, frozen=True, kw_only=True):
    """Join `table_ids` for parties of `min_capacity` to `capacity`."""

    combination_id: str
    table_ids: tuple[str, ...]
    min_capacity: int
    capacity: int
    name: str | None = None


class RemoveTableCombination(Command, frozen=True, kw_only=True):
    combination_id: str


# --- tables -----------------------------------------------------------------------------


class AddTable(Command, frozen=True, kw_only=True):
    table_id: str
    name: str
    capacity: int
    min_capacity: int = 1
    area: str | None = None
    x: float = 0.0
    y: float = 0.0
    width: float = 1.0
    height: float = 1.0
    rotation: float = 0.0
    shape: TableShape = "rectangle"


class ChangeTable(Command, frozen=True, kw_only=True):
    table_id: str
    name: str | UnsetType = UNSET
    capacity: int | UnsetType = UNSET
    min_capacity: int | UnsetType = UNSET
    area: str | UnsetType | None = UNSET
    x: float | UnsetType = UNSET
    y: float | UnsetType = UNSET
    width: float | UnsetType = UNSET
    height: float | UnsetType = UNSET
    rotation: float | UnsetType = UNSET
    shape: TableShape | UnsetType = UNSET


class RetireTable(Command, frozen=True, kw_only=True):
    """Refused while the table has bookings still to come, unless `cancel_bookings`."""

    table_id: str
    cancel_bookings: bool = False


class BlockTable(Command, frozen=True, kw_only=True):
    """Take a table out of service from `start` to `end`: aware datetimes are instants,
    naive ones are the venue's wall clock."""

    table_id: str
    block_id: str
    start: dt.datetime
    end: dt.datetime
    reason: str = ""


class LiftBlock(Command, frozen=True, kw_only=True):
    table_id: str
    block_id: str


# --- bookings ---------------------------------------------------------------------------


class BookTable(Command, frozen=True, kw_only=True):
    """Book at venue-local `date` and `time`. Without `table_ids` the smallest free table
    that fits is picked; a large party may name several tables. Only an admin may set
    `duration_minutes` instead of the venue's turn time."""

    booking_id: str
    date: dt.date
    time: dt.time
    party_size: int
    guest_name: str
    guest_phone: str | None = None
    guest_email: str | None = None
    special_requests: str | None = None
    table_ids: tuple[str, ...] = ()
    duration_minutes: int | None = None
    source: BookingSource = "online"
    seat_now: bool = False
    """Staff only: the booking starts at the current minute and is seated at once."""
    override: str | None = None
    """Staff only: the reason to set aside a rule that would refuse the booking."""
    manage_token_hash: str | None = None
    """For a booking made without an account: SHA-256 (hex) of its manage token."""
    manage_token: str | None = None
    """The manage token itself, for the confirmation's link (a personal field)."""
    person: str | None = None
    """The guest the booking belongs to, when known already (a party seated from the
    waitlist is the entry's guest); otherwise the store resolves it from the identity."""


class ChangeBooking(Command, frozen=True, kw_only=True):
    """Change any of the booking's details; a new date, time, party size, table or
    duration is decided like a new booking. A move without `table_ids` keeps the
    booking's tables if they are free and fit, or else picks as for a new booking (empty
    `table_ids` mean the same). `expected_version` (the HTTP `If-Match`)
    refuses the change if the booking has moved on since the caller read it."""

    booking_id: str
    date: dt.date | UnsetType = UNSET
    time: dt.time | UnsetType = UNSET
    party_size: int | UnsetType = UNSET
    table_ids: tuple[str, ...] | UnsetType = UNSET
    duration_minutes: int | UnsetType | None = UNSET
    guest_name: str | UnsetType = UNSET
    guest_phone: str | UnsetType | None = UNSET
    guest_email: str | UnsetType | None = UNSET
    special_requests: str | UnsetType | None = UNSET
    expected_version: int | None = None
    override: str | None = None
    """Staff only: the reason to set aside a rule that would refuse the change."""


class CancelBooking(Command, frozen=True, kw_only=True):
    booking_id: str
    reason: str | None = None


class SeatBooking(Command, frozen=True, kw_only=True):
    booking_id: str
    override: str | None = None
    """Staff only: the reason to seat outside the seating window."""


class CompleteBooking(Command, frozen=True, kw_only=True):
    booking_id: str


class MarkNoShow(Command, frozen=True, kw_only=True):
    booking_id: str


# --- waitlist ---------------------------------------------------------------------------


class AddToWaitlist(Command, frozen=True, kw_only=True):
    """Put a walk-in party on the waitlist of `service_date`. The quote is worked out from
    the floor by the caller (a read-side estimate, see `read_models.waitlist_quote`) and
    recorded as given; `token_hash` is the SHA-256 of the guest's follow-along token."""

    entry_id: str
    service_date: dt.date
    party_size: int
    guest_name: str
    guest_phone: str | None = None
    notes: str | None = None
    quoted_wait_minutes: int | None = None
    token_hash: str


class NotifyWaitlistGuest(Command, frozen=True, kw_only=True):
    """Tell the waiting party their table is ready (again, if asked twice)."""

    entry_id: str


class SeatFromWaitlist(Command, frozen=True, kw_only=True):
    """Seat the waiting party now as a walk-in booking `booking_id`, at `table_ids` or the
    smallest free table that fits; the entry leaves the list in the same append."""

    entry_id: str
    booking_id: str
    table_ids: tuple[str, ...] = ()
    override: str | None = None
    """The reason to set aside a rule that would refuse the walk-in (as for a booking)."""


class RemoveFromWaitlist(Command, frozen=True, kw_only=True):
    entry_id: str
    reason: str


# --- guest profiles ----------------------------------------------------------------------


class NoteGuest(Command, frozen=True, kw_only=True):
    """Set a guest profile's tags and/or notes (UNSET: leave as they are; notes None:
    clear them). `expected_version` (the HTTP `If-Match`) is the profile stream's."""

    person: str
    tags: tuple[str, ...] | UnsetType = UNSET
    notes: str | UnsetType | None = UNSET
    expected_version: int | None = None


class MergeGuests(Command, frozen=True, kw_only=True):
    """`merged`'s bookings count towards `person` (kept) from now on; the tags are
    joined, the notes put one after the other."""

    person: str
    merged: str


VenueCommand = (
    SetOpeningHours
    | ChangeSlotSettings
    | AddClosure
    | RemoveClosure
    | CreateLayout
    | ChangeLayout
    | DeleteLayout
    | ActivateLayout
    | DefineTableCombination
    | RemoveTableCombination
)
RegistryCommand = OpenVenue | ChangeVenueDetails
TableCommand = AddTable | ChangeTable | RetireTable | BlockTable | LiftBlock
BookingCommand = (
    BookTable | ChangeBooking | CancelBooking | SeatBooking | CompleteBooking | MarkNoShow
)
WaitlistCommand = AddToWaitlist | NotifyWaitlistGuest | SeatFromWaitlist | RemoveFromWaitlist
GuestCommand = NoteGuest | MergeGuests
