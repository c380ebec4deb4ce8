"""The waitlist of one service day: walk-in parties waiting for a table, in the order
they came.

Rules enforced here:

- only staff keep the list (add, notify, seat, remove): guests follow their place with
  their entry's token and nothing else;
- a party is 1 to 100 people with a guest name; a phone number of at most 50 characters,
  notes of at most 500; a removal gives its reason (1 to 200 characters);
- an entry id names its service day (`wl-YYYYMMDD-...`), so every command finds the
  entry's stream from the id alone, and it is taken once;
- a party waits until it is seated or removed: notifying it ("your table is ready") keeps
  its place, and may be repeated;
- a party that has left the list (seated or removed) cannot be notified, seated or removed
  again: seating one entry twice makes one booking, never two;
- seating from the list places a walk-in booking seated now (`walk_in`, decided by
  `placement.decide_place` like any booking) and the entry leaves the list in the same
  decision (`seat`), so the handler's one append does both or neither.

The quote a party is given is worked out on the read side from the floor
(`read_models.waitlist_quote`) and recorded here as given, with the actual wait when the
party is seated, so the quotes' accuracy can be reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import MappingProxyType
from typing import ClassVar, Final, assert_never

from booking_core.domain._access import require_staff
from booking_core.domain.booking import MAX_PARTY_SIZE
from booking_core.domain.commands import (
    AddToWaitlist,
    BookTable,
    NotifyWaitlistGuest,
    RemoveFromWaitlist,
    SeatFromWaitlist,
    WaitlistCommand,
)
from booking_core.domain.decision import Decision
from booking_core.domain.errors import (
    InvalidWaitlistEntry,
    WaitlistEntryAlreadyExists,
    WaitlistEntryClosed,
    WaitlistEntryNotFound,
)
from booking_core.domain.events import (
    BookingPlaced,
    WaitlistEntryAdded,
    WaitlistEntryRemoved,
    WaitlistEntrySeated,
    WaitlistEvent,
    WaitlistGuestNotified,
)
from booking_core.domain.streams import streams_of
from booking_core.domain.time_rules import shift_at, to_local
from booking_core.domain.values import OpeningHours

__all__ = [
    "EntryDetails",
    "Removed",
    "SeatedFromList",
    "Waiting",
    "Waitlist",
    "WaitlistEntry",
    "decide",
    "entry_id_for",
    "evolve",
    "initial_state",
    "seat",
    "service_date_at",
    "service_date_of",
    "walk_in",
]

_MAX_NAME = 200
_MAX_PHONE = 50
_MAX_NOTES = 500
_MAX_REASON = 200
_MAX_QUOTE = 24 * 60
_ENTRY_ID = re.compile(r"^wl-([0-9]{8})-[A-Za-z0-9_]{1,80}$")


@dataclass(frozen=True, slots=True)
class EntryDetails:
    entry_id: str
    party_size: int
    guest_name: str
    guest_phone: str | None
    notes: str | None
    quoted_wait_minutes: int | None
    token_hash: str
    added_at: datetime
    person: str | None = None
    """Whose personal fields these are: the notice and the walk-in booking carry it."""


@dataclass(frozen=True, slots=True)
class Waiting:
    status: ClassVar[str] = "waiting"
    details: EntryDetails
    notified_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SeatedFromList:
    status: ClassVar[str] = "seated"
    details: EntryDetails
    booking_id: str
    seated_at: datetime


@dataclass(frozen=True, slots=True)
class Removed:
    status: ClassVar[str] = "removed"
    details: EntryDetails
    reason: str
    removed_at: datetime


WaitlistEntry = Waiting | SeatedFromList | Removed


@dataclass(frozen=True, slots=True)
class Waitlist:
    """One service day's list: every entry ever added, in the order they were added."""

    entries: Mapping[str, WaitlistEntry] = field(default_factory=lambda: MappingProxyType({}))

    def waiting(self) -> list[Waiting]:
        return [entry for entry in self.entries.values() if isinstance(entry, Waiting)]

    def position(self, entry_id: str) -> int | None:
        """1 for the party first in line; None for an entry not waiting."""
        for place, entry in enumerate(self.waiting(), start=1):
            if entry.details.entry_id == entry_id:
                return place
        return None


initial_state: Final = Waitlist()


def entry_id_for(service_date: date, unique: str) -> str:
    """The id of a new entry on `service_date`'s list; `unique` is letters, digits or `_`."""
    return f"wl-{service_date:%Y%m%d}-{unique}"


def service_date_of(entry_id: str) -> date:
    """The service date an entry id names; `WaitlistEntryNotFound` for any other text."""
    found = _ENTRY_ID.fullmatch(entry_id)
    if found is None:
        raise WaitlistEntryNotFound(entry_id)
    digits = found.group(1)
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError as error:
        raise WaitlistEntryNotFound(entry_id) from error


def service_date_at(hours: OpeningHours, time_zone: str, now: datetime) -> date:
    """The service day a walk-in arriving at `now` waits on: the shift open then (last
    night's, after midnight), or the venue's calendar date while it is closed."""
    local = to_local(now, time_zone)
    shift = shift_at(hours, local)
    return shift.service_date if shift is not None else local.date()


def decide(
    command: WaitlistCommand, state: Waitlist, table_ids: tuple[str, ...] = ()
) -> list[WaitlistEvent]:
    """`table_ids`: where a party being seated was placed (by the walk-in's decision)."""
    require_staff(command.actor, "keep the waitlist")
    match command:
        case AddToWaitlist():
            if command.entry_id in state.entries:
                raise WaitlistEntryAlreadyExists(command.entry_id)
            _check_entry(command)
            return [
                WaitlistEntryAdded(
                    entry_id=command.entry_id,
                    service_date=command.service_date,
                    party_size=command.party_size,
                    guest_name=command.guest_name.strip(),
                    guest_phone=command.guest_phone,
                    notes=command.notes,
                    quoted_wait_minutes=command.quoted_wait_minutes,
                    token_hash=command.token_hash,
                    added_at=command.now,
                    added_by=command.actor.user_id,
                )
            ]
        case NotifyWaitlistGuest():
            details = _require_waiting(state, command.entry_id).details
            return [
                WaitlistGuestNotified(
                    entry_id=command.entry_id,
                    service_date=service_date_of(command.entry_id),
                    party_size=details.party_size,
                    guest_name=details.guest_name,
                    guest_phone=details.guest_phone,
                    person=details.person,
                    notified_at=command.now,
                    notified_by=command.actor.user_id,
                )
            ]
        case SeatFromWaitlist():
            details = _require_waiting(state, command.entry_id).details
            if not table_ids:
                raise ValueError("seating a party from the list needs the tables it took")
            waited = max(0, round((command.now - details.added_at).total_seconds() / 60))
            return [
                WaitlistEntrySeated(
                    entry_id=command.entry_id,
                    service_date=service_date_of(command.entry_id),
                    booking_id=command.booking_id,
                    table_ids=table_ids,
                    party_size=details.party_size,
                    seated_at=command.now,
                    waited_minutes=waited,
                    quoted_wait_minutes=details.quoted_wait_minutes,
                )
            ]
        case RemoveFromWaitlist():
            _require_waiting(state, command.entry_id)
            reason = command.reason.strip()
            if not reason or len(reason) > _MAX_REASON:
                raise InvalidWaitlistEntry("reason", f"must be 1 to {_MAX_REASON} characters")
            return [
                WaitlistEntryRemoved(
                    entry_id=command.entry_id,
                    service_date=service_date_of(command.entry_id),
                    reason=reason,
                    removed_at=command.now,
                    removed_by=command.actor.user_id,
                )
            ]
        case _:
            assert_never(command)


def evolve(state: Waitlist, event: WaitlistEvent) -> Waitlist:
    """Total: an event about an entry the list does not hold, or that has left it, leaves
    the list as it is."""
    entries = state.entries
    match event:
        case WaitlistEntryAdded():
            if event.entry_id in entries:
                return state
            details = EntryDetails(
                entry_id=event.entry_id,
                party_size=event.party_size,
                guest_name=event.guest_name,
                guest_phone=event.guest_phone,
                notes=event.notes,
                quoted_wait_minutes=event.quoted_wait_minutes,
                token_hash=event.token_hash,
                added_at=event.added_at,
                person=event.person,
            )
            return _with(state, Waiting(details))
        case WaitlistGuestNotified():
            current = entries.get(event.entry_id)
            if not isinstance(current, Waiting):
                return state
            return _with(state, replace(current, notified_at=event.notified_at))
        case WaitlistEntrySeated():
            current = entries.get(event.entry_id)
            if not isinstance(current, Waiting):
                return state
            return _with(state, SeatedFromList(current.details, event.booking_id, event.seated_at))
        case WaitlistEntryRemoved():
            current = entries.get(event.entry_id)
            if not isinstance(current, Waiting):
                return state
            return _with(state, Removed(current.details, event.reason, event.removed_at))
        case _:
            assert_never(event)


def walk_in(command: SeatFromWaitlist, state: Waitlist, time_zone: str) -> BookTable:
    """The booking that seats the waiting party now: a walk-in, seated at once, with the
    entry's party, name, phone and notes."""
    details = _require_waiting(state, command.entry_id).details
    local = to_local(command.now, time_zone).replace(second=0, microsecond=0)
    return BookTable(
        command_id=command.command_id,
        actor=command.actor,
        now=command.now,
        venue_id=command.venue_id,
        booking_id=command.booking_id,
        date=local.date(),
        time=local.time(),
        party_size=details.party_size,
        guest_name=details.guest_name,
        guest_phone=details.guest_phone,
        special_requests=details.notes,
        table_ids=command.table_ids,
        source="walk_in",
        seat_now=True,
        override=command.override,
        person=details.person,
    )


def seat(command: SeatFromWaitlist, state: Waitlist, placed: Decision) -> Decision:
    """The walk-in's decision (`placed`, from `walk_in`) with the entry leaving the list
    added to it: one decision, so one append."""
    stream_id = streams_of(command.venue_id).waitlist(service_date_of(command.entry_id))
    booking = streams_of(command.venue_id).booking(command.booking_id)
    placements = [e for e in placed.events.get(booking, ()) if isinstance(e, BookingPlaced)]
    if not placements:
        raise ValueError("the walk-in's decision places no booking")
    events = decide(command, state, placements[0].table_ids)
    return Decision(
        events={**placed.events, stream_id: tuple(events)},
        reads=placed.reads | {stream_id},
    )


def _require_waiting(state: Waitlist, entry_id: str) -> Waiting:
    entry = state.entries.get(entry_id)
    if entry is None:
        raise WaitlistEntryNotFound(entry_id)
    if not isinstance(entry, Waiting):
        raise WaitlistEntryClosed(entry_id, entry.status)
    return entry


def _check_entry(command: AddToWaitlist) -> None:
    if service_date_of(command.entry_id) != command.service_date:
        raise InvalidWaitlistEntry("entry_id", "must name the list's service date")
    if not 1 <= command.party_size <= MAX_PARTY_SIZE:
        raise InvalidWaitlistEntry("party_size", f"must be from 1 to {MAX_PARTY_SIZE}")
    if not command.guest_name.strip() or len(command.guest_name) > _MAX_NAME:
        raise InvalidWaitlistEntry("guest_name", f"must be 1 to {_MAX_NAME} characters")
    if command.guest_phone is not None and len(command.guest_phone) > _MAX_PHONE:
        raise InvalidWaitlistEntry("guest_phone", f"must be at most {_MAX_PHONE} characters")
    if command.notes is not None and len(command.notes) > _MAX_NOTES:
        raise InvalidWaitlistEntry("notes", f"must be at most {_MAX_NOTES} characters")
    quote = command.quoted_wait_minutes
    if quote is not None and not 0 <= quote <= _MAX_QUOTE:
        raise InvalidWaitlistEntry("quoted_wait_minutes", f"must be from 0 to {_MAX_QUOTE}")


def _with(state: Waitlist, entry: WaitlistEntry) -> Waitlist:
    entries = dict(state.entries)
    entries[entry.details.entry_id] = entry
    return Waitlist(MappingProxyType(entries))
