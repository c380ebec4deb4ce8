"""A booking's life: placed, changed, then cancelled, or seated and completed, or a no-show.

Rules enforced here:

- confirmed -> seated -> completed; confirmed -> cancelled; confirmed -> no-show, and a
  no-show only from the booking's start; nothing else (a cancelled booking is never
  seated, only a seated one is completed). Only a confirmed booking can be changed.
- A party is seated from an hour before its booking starts (`SEAT_EARLY`) until the
  booking ends; outside that window only staff giving a reason may seat it (the
  `BookingSeated` keeps the `Override`), and staff without one hear `OverrideRequired`.
- Repeating the step a booking has just taken (cancel a cancelled booking, seat a seated
  one) decides nothing, so a retried request is harmless.
- Guests see, change and cancel only their own bookings: anyone else's is "not found".
  Seating, completing and no-shows are staff work (admins). Only an admin sets a
  booking's duration instead of the venue's turn time.
- A party is 1 to 100 people with a guest name; guest details have sane lengths.

Where a booking sits (its `Placement`: slot and tables) is decided with the venue, tables
and service days in `placement`; this decider records it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import ClassVar, Final, assert_never

from msgspec import UnsetType

from booking_core.domain import overrides
from booking_core.domain._access import require_staff
from booking_core.domain._unset import or_current
from booking_core.domain.commands import (
    Actor,
    BookingCommand,
    BookTable,
    CancelBooking,
    ChangeBooking,
    CompleteBooking,
    MarkNoShow,
    SeatBooking,
)
from booking_core.domain.errors import (
    BookingAlreadyExists,
    BookingNotFound,
    InvalidBooking,
    InvalidTransition,
    NoShowBeforeStart,
    SeatingWindow,
)
from booking_core.domain.events import (
    BookingCancelled,
    BookingChanged,
    BookingCompleted,
    BookingEvent,
    BookingMarkedNoShow,
    BookingPlaced,
    BookingSeated,
)
from booking_core.domain.time_rules import Slot

__all__ = [
    "MAX_PARTY_SIZE",
    "SEAT_EARLY",
    "BookingDetails",
    "BookingState",
    "Cancelled",
    "Completed",
    "Confirmed",
    "ExistingBooking",
    "NoBooking",
    "NoShow",
    "Placement",
    "Seated",
    "check_party",
    "check_seating_window",
    "decide",
    "evolve",
    "initial_state",
    "is_terminal",
    "require_changeable",
    "require_visible",
]

MAX_PARTY_SIZE: Final = 100
SEAT_EARLY: Final = timedelta(minutes=60)
"""How long before its start a booking's party may be seated."""
_MAX_NAME = 200
_MAX_TEXT = 2000


@dataclass(frozen=True, slots=True)
class Placement:
    """Where and when a booking sits, as decided against venue, tables and service days."""

    slot: Slot
    table_ids: tuple[str, ...]
    duration_fixed: bool = False
    paced: bool = False
    """Its start counts towards the venue's pacing (it holds a `PacingTaken`)."""


@dataclass(frozen=True, slots=True)
class BookingDetails:
    booking_id: str
    placement: Placement
    party_size: int
    guest_name: str
    guest_phone: str | None
    guest_email: str | None
    special_requests: str | None
    user_id: str
    source: str
    placed_at: datetime
    updated_at: datetime
    manage_token_hash: str | None = None
    """Set when the booking was made without an account (`BookingPlaced`)."""
    person: str | None = None
    """Whose personal fields these are (`gst_…`): every later event of the booking carries
    it, so a changed email or phone never moves the booking to another guest."""

    @property
    def slot(self) -> Slot:
        return self.placement.slot

    @property
    def table_ids(self) -> tuple[str, ...]:
        return self.placement.table_ids


@dataclass(frozen=True, slots=True)
class NoBooking:
    status: ClassVar[str] = "none"


@dataclass(frozen=True, slots=True)
class Confirmed:
    status: ClassVar[str] = "confirmed"
    details: BookingDetails


@dataclass(frozen=True, slots=True)
class Seated:
    status: ClassVar[str] = "seated"
    details: BookingDetails
    seated_at: datetime


@dataclass(frozen=True, slots=True)
class Completed:
    status: ClassVar[str] = "completed"
    details: BookingDetails
    completed_at: datetime


@dataclass(frozen=True, slots=True)
class Cancelled:
    status: ClassVar[str] = "cancelled"
    details: BookingDetails
    cancelled_at: datetime
    reason: str | None


@dataclass(frozen=True, slots=True)
class NoShow:
    status: ClassVar[str] = "no_show"
    details: BookingDetails
    marked_at: datetime


BookingState = NoBooking | Confirmed | Seated | Completed | Cancelled | NoShow
ExistingBooking = Confirmed | Seated | Completed | Cancelled | NoShow

initial_state: Final = NoBooking()


def decide(
    command: BookingCommand, state: BookingState, placement: Placement | None = None
) -> list[BookingEvent]:
    """`placement` is where the booking goes: required to place one, and given to a change
    only when the change moves it (time, date, party size, table or duration)."""
    match command:
        case BookTable():
            if not isinstance(state, NoBooking):
                raise BookingAlreadyExists(command.booking_id)
            if command.duration_minutes is not None:
                require_staff(command.actor, "set a booking's duration")
            check_party(
                command.party_size,
                command.guest_name,
                guest_phone=command.guest_phone,
                guest_email=command.guest_email,
                special_requests=command.special_requests,
                source=command.source,
            )
            if placement is None:
                raise ValueError("placing a booking needs its placement")
            placed = _placed(command, placement)
            if not command.seat_now:
                return [placed]
            require_staff(command.actor, "seat a walk-in")
            seated = BookingSeated(
                booking_id=placed.booking_id,
                table_ids=placed.table_ids,
                service_date=placed.service_date,
                party_size=placed.party_size,
                seated_at=command.now,
            )
            return [placed, seated]
        case ChangeBooking():
            current = require_changeable(state, command)
            return _change(command, current.details, placement)
        case CancelBooking():
            existing = require_visible(state, command.actor, command.booking_id)
            if isinstance(existing, Cancelled):
                return []
            confirmed = _require_confirmed(existing, command.actor, command.booking_id, "cancelled")
            details = confirmed.details
            return [
                BookingCancelled(
                    booking_id=details.booking_id,
                    table_ids=details.table_ids,
                    service_date=details.slot.service_date,
                    starts_at=details.slot.starts_at,
                    party_size=details.party_size,
                    duration_minutes=details.slot.duration_minutes,
                    cancelled_at=command.now,
                    cancelled_by=command.actor.user_id,
                    reason=command.reason,
                )
            ]
        case SeatBooking():
            require_staff(command.actor, "seat guests")
            existing = require_visible(state, command.actor, command.booking_id)
            if isinstance(existing, Seated):
                return []
            details = _require_confirmed(
                existing, command.actor, command.booking_id, "seated"
            ).details
            override = overrides.override_of(command.actor, command.override)
            with overrides.overridable(command.actor, override, (SeatingWindow,)):
                check_seating_window(details, command.now)
            return [
                BookingSeated(
                    booking_id=details.booking_id,
                    table_ids=details.table_ids,
                    service_date=details.slot.service_date,
                    party_size=details.party_size,
                    seated_at=command.now,
                    override=override,
                )
            ]
        case CompleteBooking():
            require_staff(command.actor, "complete bookings")
            existing = require_visible(state, command.actor, command.booking_id)
            if isinstance(existing, Completed):
                return []
            if not isinstance(existing, Seated):
                raise InvalidTransition(command.booking_id, existing.status, "completed")
            details = existing.details
            return [
                BookingCompleted(
                    booking_id=details.booking_id,
                    table_ids=details.table_ids,
                    service_date=details.slot.service_date,
                    party_size=details.party_size,
                    completed_at=command.now,
                )
            ]
        case MarkNoShow():
            require_staff(command.actor, "mark no-shows")
            existing = require_visible(state, command.actor, command.booking_id)
            if isinstance(existing, NoShow):
                return []
            details = _require_confirmed(
                existing, command.actor, command.booking_id, "marked a no-show"
            ).details
            if command.now < details.slot.starts_at:
                raise NoShowBeforeStart(details.booking_id, details.slot.starts_at)
            return [
                BookingMarkedNoShow(
                    booking_id=details.booking_id,
                    table_ids=details.table_ids,
                    service_date=details.slot.service_date,
                    party_size=details.party_size,
                    duration_minutes=details.slot.duration_minutes,
                    marked_at=command.now,
                )
            ]
        case _:
            assert_never(command)


def check_seating_window(details: BookingDetails, now: datetime) -> None:
    """A party is seated from `SEAT_EARLY` before its booking starts until it ends."""
    slot = details.slot
    if slot.starts_at - SEAT_EARLY <= now <= slot.ends_at:
        return
    earliest = datetime.combine(slot.date, slot.time) - SEAT_EARLY
    raise SeatingWindow(
        details.booking_id, details.guest_name, slot.time, earliest.time(), slot.end_time
    )


def evolve(state: BookingState, event: BookingEvent) -> BookingState:
    """Total: an event that makes no sense in `state` leaves it as it is."""
    match event:
        case BookingPlaced():
            placement = Placement(
                _slot_of(event), event.table_ids, event.duration_fixed, event.paced
            )
            details = BookingDetails(
                booking_id=event.booking_id,
                placement=placement,
                party_size=event.party_size,
                guest_name=event.guest_name,
                guest_phone=event.guest_phone,
                guest_email=event.guest_email,
                special_requests=event.special_requests,
                user_id=event.user_id,
                source=event.source,
                placed_at=event.placed_at,
                updated_at=event.placed_at,
                manage_token_hash=event.manage_token_hash,
                person=event.person,
            )
            return Confirmed(details)
        case BookingChanged():
            if not isinstance(state, Confirmed):
                return state
            placement = Placement(
                _slot_of(event), event.table_ids, event.duration_fixed, event.paced
            )
            changed = replace(
                state.details,
                placement=placement,
                party_size=event.party_size,
                guest_name=event.guest_name,
                guest_phone=event.guest_phone,
                guest_email=event.guest_email,
                special_requests=event.special_requests,
                updated_at=event.changed_at,
            )
            return Confirmed(changed)
        case BookingCancelled():
            if not isinstance(state, Confirmed):
                return state
            details = replace(state.details, updated_at=event.cancelled_at)
            return Cancelled(details, event.cancelled_at, event.reason)
        case BookingSeated():
            if not isinstance(state, Confirmed):
                return state
            return Seated(replace(state.details, updated_at=event.seated_at), event.seated_at)
        case BookingCompleted():
            if not isinstance(state, Seated):
                return state
            details = replace(state.details, updated_at=event.completed_at)
            return Completed(details, event.completed_at)
        case BookingMarkedNoShow():
            if not isinstance(state, Confirmed):
                return state
            return NoShow(replace(state.details, updated_at=event.marked_at), event.marked_at)
        case _:
            assert_never(event)


def is_terminal(state: BookingState) -> bool:
    return isinstance(state, Completed | Cancelled | NoShow)


def require_visible(state: BookingState, actor: Actor, booking_id: str) -> ExistingBooking:
    """The booking, if it exists and `actor` may see it: its guest or an admin."""
    if isinstance(state, NoBooking):
        raise BookingNotFound(booking_id)
    if not actor.is_staff and state.details.user_id != actor.user_id:
        raise BookingNotFound(booking_id)
    return state


def require_changeable(state: BookingState, command: ChangeBooking) -> Confirmed:
    """The booking, if `command`'s actor may change it the way it asks."""
    confirmed = _require_confirmed(state, command.actor, command.booking_id, "changed")
    if not isinstance(command.duration_minutes, UnsetType):
        require_staff(command.actor, "set a booking's duration")
    return confirmed


def check_party(
    party_size: int,
    guest_name: str,
    *,
    guest_phone: str | None = None,
    guest_email: str | None = None,
    special_requests: str | None = None,
    source: str = "online",
) -> None:
    """Raise `InvalidBooking` for a party or guest details no restaurant would take."""
    if not 1 <= party_size <= MAX_PARTY_SIZE:
        raise InvalidBooking("party_size", f"must be from 1 to {MAX_PARTY_SIZE}")
    if not guest_name.strip() or len(guest_name) > _MAX_NAME:
        raise InvalidBooking("guest_name", f"must be 1 to {_MAX_NAME} characters")
    limits = (
        ("guest_phone", guest_phone, 50),
        ("guest_email", guest_email, 320),
        ("special_requests", special_requests, _MAX_TEXT),
        ("source", source, 50),
    )
    for name, value, limit in limits:
        if value is not None and len(value) > limit:
            raise InvalidBooking(name, f"must be at most {limit} characters")


def _require_confirmed(
    state: BookingState, actor: Actor, booking_id: str, action: str
) -> Confirmed:
    existing = require_visible(state, actor, booking_id)
    if not isinstance(existing, Confirmed):
        raise InvalidTransition(booking_id, existing.status, action)
    return existing


def _change(
    command: ChangeBooking, details: BookingDetails, placement: Placement | None
) -> list[BookingEvent]:
    new = or_current
    after = replace(
        details,
        placement=placement or details.placement,
        party_size=new(command.party_size, details.party_size),
        guest_name=new(command.guest_name, details.guest_name).strip(),
        guest_phone=new(command.guest_phone, details.guest_phone),
        guest_email=new(command.guest_email, details.guest_email),
        special_requests=new(command.special_requests, details.special_requests),
    )
    check_party(
        after.party_size,
        after.guest_name,
        guest_phone=after.guest_phone,
        guest_email=after.guest_email,
        special_requests=after.special_requests,
    )
    if after == details:
        return []
    slot = after.slot
    return [
        BookingChanged(
            booking_id=details.booking_id,
            table_ids=after.table_ids,
            service_date=slot.service_date,
            date=slot.date,
            time=slot.time,
            end_date=slot.end_date,
            end_time=slot.end_time,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            party_size=after.party_size,
            duration_minutes=slot.duration_minutes,
            duration_fixed=after.placement.duration_fixed,
            guest_name=after.guest_name,
            guest_phone=after.guest_phone,
            guest_email=after.guest_email,
            special_requests=after.special_requests,
            person=details.person,
            changed_at=command.now,
            changed_by=command.actor.user_id,
            previous_table_ids=details.table_ids,
            previous_service_date=details.slot.service_date,
            previous_party_size=details.party_size,
            previous_duration_minutes=details.slot.duration_minutes,
            override=overrides.override_of(command.actor, command.override),
            paced=after.placement.paced,
        )
    ]


def _placed(command: BookTable, placement: Placement) -> BookingPlaced:
    slot = placement.slot
    return BookingPlaced(
        booking_id=command.booking_id,
        table_ids=placement.table_ids,
        service_date=slot.service_date,
        date=slot.date,
        time=slot.time,
        end_date=slot.end_date,
        end_time=slot.end_time,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        party_size=command.party_size,
        duration_minutes=slot.duration_minutes,
        duration_fixed=placement.duration_fixed,
        guest_name=command.guest_name.strip(),
        guest_phone=command.guest_phone,
        guest_email=command.guest_email,
        special_requests=command.special_requests,
        person=command.person,
        user_id=command.actor.user_id,
        source=command.source,
        placed_at=command.now,
        override=overrides.override_of(command.actor, command.override),
        paced=placement.paced,
        manage_token_hash=command.manage_token_hash,
        manage_token=command.manage_token,
    )


def _slot_of(event: BookingPlaced | BookingChanged) -> Slot:
    return Slot(
        service_date=event.service_date,
        date=event.date,
        time=event.time,
        end_date=event.end_date,
        end_time=event.end_time,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        duration_minutes=event.duration_minutes,
    )
