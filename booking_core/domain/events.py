"""Every domain event, by the stream kind it is written to.

Events are facts, named in the past tense, tagged with their class name for ever. Each
carries what the read side needs without loading another stream: a reservation has its
local date and times *and* its UTC instants; a booking event has the service date, the
tables and the party size, so availability, lists and statistics are pure folds.

Schema evolution: add fields with defaults, never change a type; a breaking change bumps
`schema_version` and adds an upcaster to `booking_core.codec`, which turns these
events into stored records and back (the domain knows nothing of storage).

Local dates and times are the venue's wall clock. `service_date` is the business day a
booking belongs to (a 00:30 start after a late shift belongs to the day before), `date` is
the calendar date of its start. Instants (`*_at`) are aware UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Final, Literal

import msgspec

from booking_core.domain.values import (
    Canvas,
    LayoutArea,
    LayoutTable,
    OpeningHours,
    Override,
    PacingRule,
    TableShape,
    TurnTime,
)

__all__ = [
    "ALL_EVENTS",
    "BlockLifted",
    "BlockPlaced",
    "BookingCancelled",
    "BookingChanged",
    "BookingCompleted",
    "BookingEvent",
    "BookingMarkedNoShow",
    "BookingPlaced",
    "BookingSeated",
    "ClosureAdded",
    "ClosureRemoved",
    "Event",
    "GuestProfileNoted",
    "GuestProfilesMerged",
    "LayoutActivated",
    "LayoutChanged",
    "LayoutCreated",
    "LayoutDeleted",
    "OpeningHoursChanged",
    "PacingEvent",
    "PacingReleased",
    "PacingTaken",
    "PersonErased",
    "PersonEvent",
    "ReleaseReason",
    "ServiceDayEvent",
    "SlotSettingsChanged",
    "SlugClaimed",
    "SlugEvent",
    "SlugReleased",
    "TableAdded",
    "TableBlocked",
    "TableChanged",
    "TableCombinationDefined",
    "TableCombinationRemoved",
    "TableDeregistered",
    "TableEvent",
    "TableRegistered",
    "TableReleased",
    "TableReserved",
    "TableRetired",
    "TableUnblocked",
    "VenueDetailsChanged",
    "VenueEvent",
    "VenueOpened",
    "WaitlistEntryAdded",
    "WaitlistEntryRemoved",
    "WaitlistEntrySeated",
    "WaitlistEvent",
    "WaitlistGuestNotified",
]


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of every domain event: `class X(Event, frozen=True, tag="X")` (frozen spelled
    out again so type checkers see it)."""

    schema_version: ClassVar[int] = 1


# --- venue ------------------------------------------------------------------------------


class VenueOpened(Event, frozen=True, kw_only=True, tag="VenueOpened"):
    """The venue's first event: it is in the directory from now on. Its time zone is
    its slot settings' (a `SlotSettingsChanged` beside it sets them when they differ)."""

    name: str
    slug: str
    time_zone: str
    address: str | None = None
    opened_at: dt.datetime | None = None


class VenueDetailsChanged(Event, frozen=True, kw_only=True, tag="VenueDetailsChanged"):
    """The venue's directory entry as it is now (every field, changed or not). A new time
    zone is a `SlotSettingsChanged`, the one place the venue's time zone is kept."""

    name: str
    slug: str
    address: str | None = None
    changed_at: dt.datetime | None = None


class OpeningHoursChanged(Event, frozen=True, kw_only=True, tag="OpeningHoursChanged"):
    hours: OpeningHours
    changed_at: dt.datetime | None = None
    """When the hours were set (the command's "now"); None in events written before the
    field existed, which the stats count from the instant they were recorded."""


class SlotSettingsChanged(Event, frozen=True, kw_only=True, tag="SlotSettingsChanged"):
    interval_minutes: int
    turn_times: tuple[TurnTime, ...]
    buffer_minutes: int
    min_lead_minutes: int
    max_days_ahead: int
    time_zone: str
    pacing: tuple[PacingRule, ...] = ()


class ClosureAdded(Event, frozen=True, kw_only=True, tag="ClosureAdded"):
    date: dt.date
    reason: str


class ClosureRemoved(Event, frozen=True, kw_only=True, tag="ClosureRemoved"):
    date: dt.date


class LayoutCreated(Event, frozen=True, kw_only=True, tag="LayoutCreated"):
    layout_id: str
    name: str
    tables: tuple[LayoutTable, ...] = ()
    areas: tuple[LayoutArea, ...] = ()
    canvas: Canvas | None = None


class LayoutChanged(Event, frozen=True, kw_only=True, tag="LayoutChanged"):
    layout_id: str
    name: str
    tables: tuple[LayoutTable, ...] = ()
    areas: tuple[LayoutArea, ...] = ()
    canvas: Canvas | None = None


class LayoutDeleted(Event, frozen=True, kw_only=True, tag="LayoutDeleted"):
    layout_id: str


class LayoutActivated(Event, frozen=True, kw_only=True, tag="LayoutActivated"):
    layout_id: str


class TableRegistered(Event, frozen=True, kw_only=True, tag="TableRegistered"):
    """The venue's list of tables gained `table_id`, or its name or seats changed:
    auto-assign and name uniqueness are decided from this list, never from a read model.

    `capacity` and `min_capacity` let auto-assign rank and pass over tables without
    reading each table's stream; events written before they existed have None, and such
    a table's own stream is read instead."""

    table_id: str
    name: str
    capacity: int | None = None
    min_capacity: int | None = None


class TableDeregistered(Event, frozen=True, kw_only=True, tag="TableDeregistered"):
    table_id: str


class TableCombinationDefined(Event, frozen=True, kw_only=True, tag="TableCombinationDefined"):
    """Staff joined `table_ids` for larger parties: together they seat from
    `min_capacity` to `capacity`, whatever their own seats add up to."""

    combination_id: str
    table_ids: tuple[str, ...]
    min_capacity: int
    capacity: int
    name: str | None = None
    defined_at: dt.datetime | None = None


class TableCombinationRemoved(Event, frozen=True, kw_only=True, tag="TableCombinationRemoved"):
    """The combination is no longer offered: staff removed it, or one of its tables was
    retired (`reason` "table_retired")."""

    combination_id: str
    reason: str | None = None
    removed_at: dt.datetime | None = None


# --- registry ---------------------------------------------------------------------------


class SlugClaimed(Event, frozen=True, kw_only=True, tag="SlugClaimed"):
    """`venue_id` holds the slug of this `registry/slug-{slug}` stream from now on."""

    slug: str
    venue_id: str


class SlugReleased(Event, frozen=True, kw_only=True, tag="SlugReleased"):
    """`venue_id` gave the slug up (it took another one): any venue may claim it again."""

    slug: str
    venue_id: str


# --- table ------------------------------------------------------------------------------


class TableAdded(Event, frozen=True, kw_only=True, tag="TableAdded"):
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
    added_at: dt.datetime


class TableChanged(Event, frozen=True, kw_only=True, tag="TableChanged"):
    """Every attribute as it is after the change, changed or not."""

    table_id: str
    name: str
    capacity: int
    min_capacity: int
    area: str | None
    x: float
    y: float
    width: float
    height: float
    rotation: float
    shape: TableShape
    changed_at: dt.datetime


class TableRetired(Event, frozen=True, kw_only=True, tag="TableRetired"):
    table_id: str
    retired_at: dt.datetime


class BlockPlaced(Event, frozen=True, kw_only=True, tag="BlockPlaced"):
    """A block as the table knows it; `TableBlocked` in each service day it touches is
    what bookings are checked against."""

    table_id: str
    block_id: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str
    service_dates: tuple[dt.date, ...]


class BlockLifted(Event, frozen=True, kw_only=True, tag="BlockLifted"):
    table_id: str
    block_id: str
    service_dates: tuple[dt.date, ...]


# --- table service day ------------------------------------------------------------------


ReleaseReason = Literal["cancelled", "moved", "completed", "no_show", "table_retired"]


class TableReserved(Event, frozen=True, kw_only=True, tag="TableReserved"):
    """The table is held for a booking from `starts_at` to `ends_at` (the buffer is not
    included: it is a venue setting applied when deciding)."""

    table_id: str
    service_date: dt.date
    booking_id: str
    date: dt.date
    time: dt.time
    end_date: dt.date
    end_time: dt.time
    starts_at: dt.datetime
    ends_at: dt.datetime
    party_size: int


class TableReleased(Event, frozen=True, kw_only=True, tag="TableReleased"):
    table_id: str
    service_date: dt.date
    booking_id: str
    reason: ReleaseReason
    date: dt.date
    time: dt.time
    end_date: dt.date
    end_time: dt.time
    starts_at: dt.datetime
    ends_at: dt.datetime
    party_size: int
    released_at: dt.datetime


class TableBlocked(Event, frozen=True, kw_only=True, tag="TableBlocked"):
    table_id: str
    service_date: dt.date
    block_id: str
    start_date: dt.date
    start_time: dt.time
    end_date: dt.date
    end_time: dt.time
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str


class TableUnblocked(Event, frozen=True, kw_only=True, tag="TableUnblocked"):
    table_id: str
    service_date: dt.date
    block_id: str
    starts_at: dt.datetime
    ends_at: dt.datetime


# --- booking ----------------------------------------------------------------------------


class BookingPlaced(Event, frozen=True, kw_only=True, tag="BookingPlaced"):
    booking_id: str
    table_ids: tuple[str, ...]
    service_date: dt.date
    date: dt.date
    time: dt.time
    end_date: dt.date
    end_time: dt.time
    starts_at: dt.datetime
    ends_at: dt.datetime
    party_size: int
    duration_minutes: int
    duration_fixed: bool = False
    """True when an admin set the duration; otherwise it follows the venue's turn times."""
    guest_name: str
    guest_phone: str | None = None
    guest_email: str | None = None
    special_requests: str | None = None
    person: str | None = None
    """The key id (`gst_…`) the guest's personal fields are sealed under in the store; the
    guest profile this booking counts towards (`booking_core.domain.personal`)."""
    manage_token_hash: str | None = None
    """SHA-256 (hex) of the token a guest without an account manages the booking with."""
    manage_token: str | None = None
    """The token itself, a personal field: sealed in the store, read only to put the
    manage link in the confirmation; erasing the person destroys it."""
    user_id: str
    source: str = "online"
    placed_at: dt.datetime
    override: Override | None = None
    """Set when staff placed it against a rule, with their reason."""
    paced: bool = False
    """True when its start counted towards the venue's pacing (`PacingTaken`)."""


class BookingChanged(Event, frozen=True, kw_only=True, tag="BookingChanged"):
    """The booking as it is after the change, with what it was before where statistics
    must subtract it (covers and seat-minutes of the old service date)."""

    booking_id: str
    table_ids: tuple[str, ...]
    service_date: dt.date
    date: dt.date
    time: dt.time
    end_date: dt.date
    end_time: dt.time
    starts_at: dt.datetime
    ends_at: dt.datetime
    party_size: int
    duration_minutes: int
    duration_fixed: bool = False
    guest_name: str
    guest_phone: str | None = None
    guest_email: str | None = None
    special_requests: str | None = None
    person: str | None = None
    changed_at: dt.datetime
    changed_by: str
    previous_table_ids: tuple[str, ...]
    previous_service_date: dt.date
    previous_party_size: int
    previous_duration_minutes: int
    override: Override | None = None
    paced: bool = False
    """True when its new start counts towards the venue's pacing (`PacingTaken`)."""


class BookingCancelled(Event, frozen=True, kw_only=True, tag="BookingCancelled"):
    booking_id: str
    table_ids: tuple[str, ...]
    service_date: dt.date
    starts_at: dt.datetime
    party_size: int
    duration_minutes: int
    cancelled_at: dt.datetime
    cancelled_by: str
    reason: str | None = None


class BookingSeated(Event, frozen=True, kw_only=True, tag="BookingSeated"):
    booking_id: str
    table_ids: tuple[str, ...]
    service_date: dt.date
    party_size: int
    seated_at: dt.datetime
    override: Override | None = None


class BookingCompleted(Event, frozen=True, kw_only=True, tag="BookingCompleted"):
    booking_id: str
    table_ids: tuple[str, ...]
    service_date: dt.date
    party_size: int
    completed_at: dt.datetime


class BookingMarkedNoShow(Event, frozen=True, kw_only=True, tag="BookingMarkedNoShow"):
    booking_id: str
    table_ids: tuple[str, ...]
    service_date: dt.date
    party_size: int
    duration_minutes: int
    marked_at: dt.datetime


class PacingTaken(Event, frozen=True, kw_only=True, tag="PacingTaken"):
    """A booking's start counts towards the pacing of its service date (a later one for
    the same booking replaces it: a move within the day)."""

    booking_id: str
    service_date: dt.date
    local_start: dt.datetime
    """The venue-local wall clock of the start (naive)."""
    starts_at: dt.datetime
    covers: int


class PacingReleased(Event, frozen=True, kw_only=True, tag="PacingReleased"):
    booking_id: str
    service_date: dt.date
    reason: ReleaseReason


# --- waitlist ---------------------------------------------------------------------------


class WaitlistEntryAdded(Event, frozen=True, kw_only=True, tag="WaitlistEntryAdded"):
    """A party joined the service day's waitlist, told it would wait about
    `quoted_wait_minutes` (None: no table of the venue seats it alone). `token_hash` is the
    SHA-256 of the token the guest follows their place with; the token itself is never
    stored."""

    entry_id: str
    service_date: dt.date
    party_size: int
    guest_name: str
    guest_phone: str | None = None
    notes: str | None = None
    person: str | None = None
    quoted_wait_minutes: int | None = None
    token_hash: str
    added_at: dt.datetime
    added_by: str


class WaitlistGuestNotified(Event, frozen=True, kw_only=True, tag="WaitlistGuestNotified"):
    """The guest was sent "your table is ready"; the entry keeps its place until seated or
    removed. Carries the party and guest for the message, so the notifications process
    needs no other stream."""

    entry_id: str
    service_date: dt.date
    party_size: int
    guest_name: str
    guest_phone: str | None = None
    person: str | None = None
    notified_at: dt.datetime
    notified_by: str


class WaitlistEntrySeated(Event, frozen=True, kw_only=True, tag="WaitlistEntrySeated"):
    """The party left the list for a table: `booking_id` is the seated walk-in booking
    appended with this event. `waited_minutes` is the actual wait, to compare with the
    quote."""

    entry_id: str
    service_date: dt.date
    booking_id: str
    table_ids: tuple[str, ...]
    party_size: int
    seated_at: dt.datetime
    waited_minutes: int
    quoted_wait_minutes: int | None = None


class WaitlistEntryRemoved(Event, frozen=True, kw_only=True, tag="WaitlistEntryRemoved"):
    entry_id: str
    service_date: dt.date
    reason: str
    removed_at: dt.datetime
    removed_by: str


# --- guests -----------------------------------------------------------------------------


class PersonErased(Event, frozen=True, kw_only=True, tag="PersonErased"):
    """The person's key (`person`, a `gst_…` id) was destroyed: every personal field sealed
    under it now reads as erased (`booking_core.domain.personal.ERASED`), and read models
    scrub what they kept of it. Appended to the venue's `person-{person}` stream, in the
    same transaction that deletes the key."""

    person: str
    erased_at: dt.datetime
    erased_by: str
    """The user who asked: the person themselves, or an admin."""


class GuestProfileNoted(Event, frozen=True, kw_only=True, tag="GuestProfileNoted"):
    """Staff set the profile's tags and notes: both as they are now (the whole list and
    the whole text, changed or not). `notes` is personal (sealed under `person`, erased
    with it); tags are a small vocabulary (VIP, allergy) and are not."""

    person: str
    tags: tuple[str, ...] = ()
    notes: str | None = None
    noted_by: str
    noted_at: dt.datetime


class GuestProfilesMerged(Event, frozen=True, kw_only=True, tag="GuestProfilesMerged"):
    """Staff found two profiles of one guest: `merged`'s bookings count towards `person`
    (the kept profile) from now on. Appended to both profiles' streams in one write, so
    neither can be merged or noted again as if it had not happened; the kept one's tags
    and notes after the merge follow in a `GuestProfileNoted` of its stream."""

    person: str
    merged: str
    merged_by: str
    merged_at: dt.datetime


VenueEvent = (
    VenueOpened
    | VenueDetailsChanged
    | OpeningHoursChanged
    | SlotSettingsChanged
    | ClosureAdded
    | ClosureRemoved
    | LayoutCreated
    | LayoutChanged
    | LayoutDeleted
    | LayoutActivated
    | TableRegistered
    | TableDeregistered
    | TableCombinationDefined
    | TableCombinationRemoved
)
TableEvent = TableAdded | TableChanged | TableRetired | BlockPlaced | BlockLifted
ServiceDayEvent = TableReserved | TableReleased | TableBlocked | TableUnblocked
SlugEvent = SlugClaimed | SlugReleased
PacingEvent = PacingTaken | PacingReleased
BookingEvent = (
    BookingPlaced
    | BookingChanged
    | BookingCancelled
    | BookingSeated
    | BookingCompleted
    | BookingMarkedNoShow
)

PersonEvent = PersonErased | GuestProfileNoted | GuestProfilesMerged
"""A guest profile's stream (`person-{gst_id}`)."""

WaitlistEvent = (
    WaitlistEntryAdded | WaitlistGuestNotified | WaitlistEntrySeated | WaitlistEntryRemoved
)

ALL_EVENTS: Final[tuple[type[Event], ...]] = (
    VenueOpened,
    VenueDetailsChanged,
    OpeningHoursChanged,
    SlotSettingsChanged,
    ClosureAdded,
    ClosureRemoved,
    LayoutCreated,
    LayoutChanged,
    LayoutDeleted,
    LayoutActivated,
    TableRegistered,
    TableDeregistered,
    TableCombinationDefined,
    TableCombinationRemoved,
    TableAdded,
    TableChanged,
    TableRetired,
    BlockPlaced,
    BlockLifted,
    TableReserved,
    TableReleased,
    TableBlocked,
    TableUnblocked,
    BookingPlaced,
    BookingChanged,
    BookingCancelled,
    BookingSeated,
    BookingCompleted,
    BookingMarkedNoShow,
    SlugClaimed,
    SlugReleased,
    PacingTaken,
    PacingReleased,
    WaitlistEntryAdded,
    WaitlistGuestNotified,
    WaitlistEntrySeated,
    WaitlistEntryRemoved,
    PersonErased,
    GuestProfileNoted,
    GuestProfilesMerged,
)
