"""Every way a command can be refused, one type per rule.

A `DomainError` has a `kind` the API turns into a status, and a stable `code` for the
problem type:

- `"conflict"` (409): the command clashes with the current state (slot taken, booking
  already cancelled, table still has bookings);
- `"rule"` (422): a well-formed command breaks a business rule whatever the state
  (outside opening hours, party too large, in the past);
- `"not_found"` (404): the thing does not exist, or the caller may not see it;
- `"forbidden"` (403): the caller's role may not do this.

The message is meant for people; the attributes are meant for programs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import ClassVar, Literal

__all__ = [
    "BeyondBookingWindow",
    "BlockAlreadyExists",
    "BlockNotFound",
    "BlockOverlapsBookings",
    "BookingAlreadyExists",
    "BookingNotFound",
    "ClosedOnDate",
    "ClosureAlreadyExists",
    "ClosureNotFound",
    "CombinationAlreadyExists",
    "CombinationNotFound",
    "CombinationOverlap",
    "DomainError",
    "DuplicateTableName",
    "ErrorKind",
    "FieldProblems",
    "Forbidden",
    "GuestNotFound",
    "GuestProfileErased",
    "GuestProfileMerged",
    "InsideLeadTime",
    "InvalidBooking",
    "InvalidCombination",
    "InvalidGuestProfile",
    "InvalidId",
    "InvalidLayout",
    "InvalidOpeningHours",
    "InvalidPeriod",
    "InvalidSlotSettings",
    "InvalidSlug",
    "InvalidTable",
    "InvalidTransition",
    "InvalidVenue",
    "InvalidWaitlistEntry",
    "LayoutAlreadyExists",
    "LayoutIsActive",
    "LayoutNotFound",
    "NoShowBeforeStart",
    "NoTableAvailable",
    "NoTableFitsParty",
    "NonexistentLocalTime",
    "OffSlotGrid",
    "OutsideOpeningHours",
    "OverrideRequired",
    "PacingLimitReached",
    "PartyTooLarge",
    "PartyTooSmall",
    "SeatingWindow",
    "SlugTaken",
    "StaleVersion",
    "StartInPast",
    "TableAlreadyBooked",
    "TableAlreadyExists",
    "TableHasBookings",
    "TableIsBlocked",
    "TableIsRetired",
    "TableNotFound",
    "TooMuchContention",
    "TurnRunsPastClose",
    "UnknownTableInCombination",
    "UnknownTableInLayout",
    "VenueAlreadyOpen",
    "VenueNotFound",
    "WaitlistEntryAlreadyExists",
    "WaitlistEntryClosed",
    "WaitlistEntryNotFound",
]

ErrorKind = Literal["conflict", "rule", "not_found", "forbidden"]


class DomainError(Exception):
    kind: ClassVar[ErrorKind]
    code: ClassVar[str]
    title: ClassVar[str]

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


def _names(ids: Iterable[str]) -> str:
    return ", ".join(sorted(ids))


# --- not found -------------------------------------------------------------------------


class TableNotFound(DomainError):
    kind = "not_found"
    code = "table-not-found"
    title = "No such table"

    def __init__(self, table_id: str) -> None:
        self.table_id = table_id
        super().__init__(f"there is no table {table_id!r}")


class BookingNotFound(DomainError):
    """Also raised for a booking that exists but is someone else's."""

    kind = "not_found"
    code = "booking-not-found"
    title = "No such booking"

    def __init__(self, booking_id: str) -> None:
        self.booking_id = booking_id
        super().__init__(f"there is no booking {booking_id!r}")


class CombinationNotFound(DomainError):
    kind = "not_found"
    code = "combination-not-found"
    title = "No such table combination"

    def __init__(self, combination_id: str) -> None:
        self.combination_id = combination_id
        super().__init__(f"there is no table combination {combination_id!r}")


class BlockNotFound(DomainError):
    kind = "not_found"
    code = "block-not-found"
    title = "No such block"

    def __init__(self, table_id: str, block_id: str) -> None:
        self.table_id = table_id
        self.block_id = block_id
        super().__init__(f"table {table_id!r} has no block {block_id!r}")


class LayoutNotFound(DomainError):
    kind = "not_found"
    code = "layout-not-found"
    title = "No such layout"

    def __init__(self, layout_id: str) -> None:
        self.layout_id = layout_id
        super().__init__(f"there is no layout {layout_id!r}")


class ClosureNotFound(DomainError):
    kind = "not_found"
    code = "closure-not-found"
    title = "No such closure"

    def __init__(self, day: date) -> None:
        self.date = day
        super().__init__(f"the venue is not closed on {day.isoformat()}")


class VenueNotFound(DomainError):
    """Also raised for a venue that exists but that the caller may not see."""

    kind = "not_found"
    code = "venue-not-found"
    title = "No such venue"

    def __init__(self, venue: str) -> None:
        self.venue = venue
        super().__init__(f"there is no venue {venue[:80]!r}")


# --- forbidden -------------------------------------------------------------------------


class Forbidden(DomainError):
    kind = "forbidden"
    code = "forbidden"
    title = "Not allowed for this role"

    def __init__(self, action: str) -> None:
        self.action = action
        super().__init__(f"this role may not {action}")


# --- conflicts with existing state -----------------------------------------------------


class TableAlreadyExists(DomainError):
    kind = "conflict"
    code = "table-already-exists"
    title = "Table already exists"

    def __init__(self, table_id: str) -> None:
        self.table_id = table_id
        super().__init__(f"table {table_id!r} already exists")


class SlugTaken(DomainError):
    kind = "conflict"
    code = "slug-taken"
    title = "Slug taken"

    def __init__(self, slug: str) -> None:
        self.slug = slug
        super().__init__(f"another venue already has the slug {slug!r}")


class VenueAlreadyOpen(DomainError):
    kind = "conflict"
    code = "venue-already-open"
    title = "Venue already open"

    def __init__(self, venue_id: str) -> None:
        self.venue_id = venue_id
        super().__init__(f"venue {venue_id!r} is already open")


class DuplicateTableName(DomainError):
    kind = "conflict"
    code = "duplicate-table-name"
    title = "Table name taken"

    def __init__(self, name: str, table_id: str) -> None:
        self.name = name
        self.table_id = table_id
        super().__init__(f"table {table_id!r} is already called {name!r}")


class TableIsRetired(DomainError):
    kind = "conflict"
    code = "table-retired"
    title = "Table retired"

    def __init__(self, table_id: str) -> None:
        self.table_id = table_id
        super().__init__(f"table {table_id!r} is retired")


class TableAlreadyBooked(DomainError):
    """The turn, widened by the buffer on both sides, overlaps another live booking."""

    kind = "conflict"
    code = "table-already-booked"
    title = "Table already booked"

    def __init__(self, table_id: str, booking_id: str) -> None:
        self.table_id = table_id
        self.booking_id = booking_id
        super().__init__(f"table {table_id!r} is booked at that time")


class CombinationOverlap(TableAlreadyBooked):
    """A table of a combination (or of any booking of several tables) is held by another
    booking for part of the turn, its buffer included: the whole combination is taken."""

    code = "combination-overlap"
    title = "A table of the combination is taken"

    def __init__(
        self, table_id: str, booking_id: str, *, table_name: str, held_from: str, held_to: str
    ) -> None:
        self.table_id = table_id
        self.booking_id = booking_id
        self.table_name = table_name
        self.held_from = held_from
        self.held_to = held_to
        DomainError.__init__(
            self,
            f"table {table_name} of these tables is taken by another booking from"
            f" {held_from} to {held_to}, so they cannot be booked together at that time",
        )


class TableIsBlocked(DomainError):
    kind = "conflict"
    code = "table-blocked"
    title = "Table blocked"

    def __init__(self, table_id: str, block_id: str) -> None:
        self.table_id = table_id
        self.block_id = block_id
        super().__init__(f"table {table_id!r} is blocked at that time")


class NoTableAvailable(DomainError):
    """Tables that fit the party exist, but none is free for the whole turn."""

    kind = "conflict"
    code = "no-table-available"
    title = "No table available"

    def __init__(self, party_size: int) -> None:
        self.party_size = party_size
        super().__init__(f"no table for {party_size} is free at that time")


class TableHasBookings(DomainError):
    kind = "conflict"
    code = "table-has-bookings"
    title = "Table has bookings"

    def __init__(self, table_id: str, booking_ids: Iterable[str]) -> None:
        self.table_id = table_id
        self.booking_ids = tuple(sorted(booking_ids))
        super().__init__(f"table {table_id!r} still has bookings: {_names(self.booking_ids)}")


class BlockOverlapsBookings(DomainError):
    kind = "conflict"
    code = "block-overlaps-bookings"
    title = "Bookings in that period"

    def __init__(self, table_id: str, booking_ids: Iterable[str]) -> None:
        self.table_id = table_id
        self.booking_ids = tuple(sorted(booking_ids))
        super().__init__(
            f"table {table_id!r} has bookings in that period: {_names(self.booking_ids)}"
        )


class BlockAlreadyExists(DomainError):
    kind = "conflict"
    code = "block-already-exists"
    title = "Block already exists"

    def __init__(self, table_id: str, block_id: str) -> None:
        self.table_id = table_id
        self.block_id = block_id
        super().__init__(f"table {table_id!r} already has a block {block_id!r}")


class BookingAlreadyExists(DomainError):
    kind = "conflict"
    code = "booking-already-exists"
    title = "Booking already exists"

    def __init__(self, booking_id: str) -> None:
        self.booking_id = booking_id
        super().__init__(f"booking {booking_id!r} already exists")


class InvalidTransition(DomainError):
    """The booking's status does not allow this step (seating a cancelled booking)."""

    kind = "conflict"
    code = "invalid-transition"
    title = "Not possible in this status"

    def __init__(self, booking_id: str, status: str, action: str) -> None:
        self.booking_id = booking_id
        self.status = status
        self.action = action
        super().__init__(f"booking {booking_id!r} is {status}: it cannot be {action}")


class StaleVersion(DomainError):
    """The caller changed what it saw at one version, and the stream has moved on."""

    kind = "conflict"
    code = "stale-version"
    title = "Changed by someone else"

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(f"{stream_id!r} is at version {actual}, not {expected}")


class TooMuchContention(DomainError):
    """Others kept writing the same streams through every retry."""

    kind = "conflict"
    code = "too-much-contention"
    title = "Too busy, try again"

    def __init__(self, attempts: int) -> None:
        self.attempts = attempts
        super().__init__(f"gave up after {attempts} attempts lost to concurrent writes")


class LayoutAlreadyExists(DomainError):
    kind = "conflict"
    code = "layout-already-exists"
    title = "Layout already exists"

    def __init__(self, layout_id: str) -> None:
        self.layout_id = layout_id
        super().__init__(f"layout {layout_id!r} already exists")


class CombinationAlreadyExists(DomainError):
    kind = "conflict"
    code = "combination-already-exists"
    title = "Combination already exists"

    def __init__(self, combination_id: str, table_ids: Iterable[str]) -> None:
        self.combination_id = combination_id
        self.table_ids = tuple(sorted(table_ids))
        super().__init__(
            f"tables {_names(self.table_ids)} are already combined (combination"
            f" {combination_id!r}); remove it first to change its seats"
        )


class LayoutIsActive(DomainError):
    kind = "conflict"
    code = "layout-is-active"
    title = "Layout is active"

    def __init__(self, layout_id: str) -> None:
        self.layout_id = layout_id
        super().__init__(f"layout {layout_id!r} is the active one; activate another first")


class ClosureAlreadyExists(DomainError):
    kind = "conflict"
    code = "closure-already-exists"
    title = "Already closed"

    def __init__(self, day: date) -> None:
        self.date = day
        super().__init__(f"the venue is already closed on {day.isoformat()}")


# --- broken rules ----------------------------------------------------------------------


class PartyTooLarge(DomainError):
    kind = "rule"
    code = "party-too-large"
    title = "Party too large for the table"

    def __init__(self, table_ids: tuple[str, ...], capacity: int, party_size: int) -> None:
        self.table_ids = table_ids
        self.capacity = capacity
        self.party_size = party_size
        super().__init__(
            f"a party of {party_size} does not fit {_names(table_ids)} (seats {capacity})"
        )


class PartyTooSmall(DomainError):
    kind = "rule"
    code = "party-too-small"
    title = "Party too small for the table"

    def __init__(self, table_ids: tuple[str, ...], min_capacity: int, party_size: int) -> None:
        self.table_ids = table_ids
        self.min_capacity = min_capacity
        self.party_size = party_size
        super().__init__(
            f"{_names(table_ids)} needs a party of at least {min_capacity}, not {party_size}"
        )


class NoTableFitsParty(DomainError):
    """No table of the venue (or none the booking may use) seats a party this size."""

    kind = "rule"
    code = "no-table-fits-party"
    title = "No table fits the party"

    def __init__(self, party_size: int) -> None:
        self.party_size = party_size
        super().__init__(f"no table seats a party of {party_size}")


class OutsideOpeningHours(DomainError):
    kind = "rule"
    code = "outside-opening-hours"
    title = "Outside opening hours"

    def __init__(self, start: datetime) -> None:
        self.start = start
        super().__init__(f"the venue is not open at {start:%Y-%m-%d %H:%M}")


class OffSlotGrid(DomainError):
    kind = "rule"
    code = "off-slot-grid"
    title = "Not a bookable start time"

    def __init__(self, start: datetime, interval_minutes: int) -> None:
        self.start = start
        self.interval_minutes = interval_minutes
        super().__init__(
            f"{start:%H:%M} is not on the {interval_minutes}-minute grid from the shift's opening"
        )


class TurnRunsPastClose(DomainError):
    kind = "rule"
    code = "turn-runs-past-close"
    title = "Turn runs past closing"

    def __init__(self, end: datetime, closes: datetime) -> None:
        self.end = end
        self.closes = closes
        super().__init__(
            f"the table would be needed until {end:%H:%M}, the shift closes at {closes:%H:%M}"
        )


class ClosedOnDate(DomainError):
    kind = "rule"
    code = "closed-on-date"
    title = "Closed that day"

    def __init__(self, service_date: date, reason: str) -> None:
        self.service_date = service_date
        self.reason = reason
        super().__init__(f"the venue is closed on {service_date.isoformat()}: {reason}")


class StartInPast(DomainError):
    kind = "rule"
    code = "start-in-past"
    title = "In the past"

    def __init__(self, starts_at: datetime) -> None:
        """`starts_at` is the instant, or the local wall clock of a start days ago."""
        self.starts_at = starts_at
        super().__init__(f"{starts_at:%Y-%m-%d %H:%M} is in the past")


class InsideLeadTime(DomainError):
    kind = "rule"
    code = "inside-lead-time"
    title = "Too short notice"

    def __init__(self, starts_at: datetime, min_lead_minutes: int) -> None:
        self.starts_at = starts_at
        self.min_lead_minutes = min_lead_minutes
        super().__init__(f"bookings need at least {min_lead_minutes} minutes' notice")


class BeyondBookingWindow(DomainError):
    kind = "rule"
    code = "beyond-booking-window"
    title = "Too far ahead"

    def __init__(self, day: date, max_days_ahead: int) -> None:
        self.date = day
        self.max_days_ahead = max_days_ahead
        super().__init__(
            f"{day.isoformat()} is more than {max_days_ahead} days ahead; not bookable yet"
        )


class NonexistentLocalTime(DomainError):
    """A wall-clock time skipped by a daylight-saving change."""

    kind = "rule"
    code = "nonexistent-local-time"
    title = "No such local time"

    def __init__(self, local: datetime, time_zone: str) -> None:
        self.local = local
        self.time_zone = time_zone
        super().__init__(f"{local:%Y-%m-%d %H:%M} does not exist in {time_zone}")


class PacingLimitReached(DomainError):
    """Too many guests or parties would start together (the venue's pacing)."""

    kind = "rule"
    code = "pacing"
    title = "Too many arrivals at that time"

    def __init__(
        self,
        window: tuple[datetime, datetime],
        used: int,
        limit: int,
        unit: str,
        party: int,
        later: datetime | None,
    ) -> None:
        self.window = window
        self.used = used
        self.limit = limit
        self.unit = unit
        self.later = later
        span = f"{window[0]:%H:%M}\u2013{window[1]:%H:%M}"
        if party > limit:
            sentence = f"at most {limit} {unit} may start in {span}"
        else:
            sentence = f"{span} already has {used} of {limit} {unit} starting"
        if later is not None:
            sentence += f"; try {later:%H:%M}"
        super().__init__(sentence)


class NoShowBeforeStart(DomainError):
    kind = "rule"
    code = "no-show-before-start"
    title = "Too early for a no-show"

    def __init__(self, booking_id: str, starts_at: datetime) -> None:
        self.booking_id = booking_id
        self.starts_at = starts_at
        super().__init__(f"booking {booking_id!r} starts at {starts_at.isoformat()}")


class SeatingWindow(DomainError):
    """A party is seated well before its booking starts, or after it has ended."""

    kind = "rule"
    code = "seating-window"
    title = "Outside the booking's seating window"

    def __init__(
        self, booking_id: str, guest_name: str, starts: time, earliest: time, ends: time
    ) -> None:
        self.booking_id = booking_id
        self.starts = starts
        self.earliest = earliest
        self.ends = ends
        super().__init__(
            f"{guest_name}'s booking starts at {starts:%H:%M}; it can be seated from"
            f" {earliest:%H:%M} until {ends:%H:%M}"
        )


class FieldProblems(DomainError):
    """Settings refused for every field at fault at once, each `(path, message)` with the
    path as the client sent it (`monday[1].close`, `turn_times[0].minutes`), so a form
    can show each message beside its input."""

    def __init__(self, field: str, message: str, *more: tuple[str, str]) -> None:
        self.problems: tuple[tuple[str, str], ...] = ((field, message), *more)
        self.field = field.split("[")[0].split(".")[0]
        super().__init__("; ".join(f"{path}: {says}" for path, says in self.problems))

    @classmethod
    def check(cls, problems: Iterable[tuple[str, str]]) -> None:
        """Raise for `problems` unless there are none."""
        found = list(problems)
        if found:
            (field, message), *more = found
            raise cls(field, message, *more)


class InvalidOpeningHours(FieldProblems):
    kind = "rule"
    code = "invalid-opening-hours"
    title = "Invalid opening hours"


class InvalidSlotSettings(FieldProblems):
    kind = "rule"
    code = "invalid-slot-settings"
    title = "Invalid slot settings"


class InvalidTable(DomainError):
    kind = "rule"
    code = "invalid-table"
    title = "Invalid table"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class InvalidId(DomainError):
    kind = "rule"
    code = "invalid-id"
    title = "Not a usable id"

    def __init__(self, entity_id: str) -> None:
        self.entity_id = entity_id
        super().__init__(f"{entity_id[:80]!r} is not a usable id: 1 to 200 characters, no '@'")


class InvalidPeriod(DomainError):
    kind = "rule"
    code = "invalid-period"
    title = "Invalid period"


class InvalidBooking(DomainError):
    kind = "rule"
    code = "invalid-booking"
    title = "Invalid booking"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class InvalidCombination(DomainError):
    kind = "rule"
    code = "invalid-combination"
    title = "Invalid table combination"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class UnknownTableInCombination(DomainError):
    kind = "rule"
    code = "unknown-table-in-combination"
    title = "Combination names an unknown or retired table"

    def __init__(self, table_ids: Iterable[str]) -> None:
        self.table_ids = tuple(sorted(table_ids))
        super().__init__(
            "the combination names tables the venue does not have, or has retired:"
            f" {_names(self.table_ids)}"
        )


class InvalidLayout(DomainError):
    kind = "rule"
    code = "invalid-layout"
    title = "Invalid layout"


class UnknownTableInLayout(DomainError):
    kind = "rule"
    code = "unknown-table-in-layout"
    title = "Layout names an unknown table"

    def __init__(self, table_ids: Iterable[str]) -> None:
        self.table_ids = tuple(sorted(table_ids))
        super().__init__(f"the layout places tables that do not exist: {_names(self.table_ids)}")


class InvalidSlug(DomainError):
    kind = "rule"
    code = "invalid-slug"
    title = "Not a usable slug"

    def __init__(self, slug: str) -> None:
        self.slug = slug
        super().__init__(
            f"slug: {slug[:80]!r} is not a usable slug: 2 to 60 lower-case letters, digits"
            " or hyphens"
        )


class InvalidVenue(DomainError):
    kind = "rule"
    code = "invalid-venue"
    title = "Invalid venue details"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class OverrideRequired(DomainError):
    """Staff asked for something a venue rule refuses, without a reason to set it aside.
    `rule` is the refusal a guest would have heard."""

    kind = "rule"
    code = "override-required"
    title = "A reason is needed to override this rule"

    def __init__(self, rule: DomainError) -> None:
        self.rule = rule
        super().__init__(f"{rule.detail}; give a reason to override it")


# --- the waitlist ----------------------------------------------------------------------


class WaitlistEntryNotFound(DomainError):
    kind = "not_found"
    code = "waitlist-entry-not-found"
    title = "No such waitlist entry"

    def __init__(self, entry_id: str) -> None:
        self.entry_id = entry_id
        super().__init__(f"there is no waitlist entry {entry_id[:80]!r}")


class WaitlistEntryAlreadyExists(DomainError):
    kind = "conflict"
    code = "waitlist-entry-already-exists"
    title = "Waitlist entry already exists"

    def __init__(self, entry_id: str) -> None:
        self.entry_id = entry_id
        super().__init__(f"waitlist entry {entry_id!r} already exists")


class WaitlistEntryClosed(DomainError):
    """The party has left the list (seated or removed): nothing more can be done to it."""

    kind = "conflict"
    code = "waitlist-entry-closed"
    title = "No longer on the waitlist"

    def __init__(self, entry_id: str, status: str) -> None:
        self.entry_id = entry_id
        self.status = status
        super().__init__(f"this party is no longer waiting: it was already {status}")


class InvalidWaitlistEntry(DomainError):
    kind = "rule"
    code = "invalid-waitlist-entry"
    title = "Invalid waitlist entry"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


# --- guest profiles ----------------------------------------------------------------------


class GuestNotFound(DomainError):
    """No profile of that id at this venue (another venue's guest is not found either)."""

    kind = "not_found"
    code = "guest-not-found"
    title = "No such guest"

    def __init__(self, guest_id: str) -> None:
        self.guest_id = guest_id
        super().__init__(f"there is no guest {guest_id[:80]!r}")


class GuestProfileMerged(DomainError):
    """The profile was merged into another: write to the kept one (`into`)."""

    kind = "conflict"
    code = "guest-profile-merged"
    title = "Merged into another profile"

    def __init__(self, guest_id: str, into: str) -> None:
        self.guest_id = guest_id
        self.into = into
        super().__init__(f"guest {guest_id!r} was merged into {into!r}")


class GuestProfileErased(DomainError):
    """The guest's personal data was erased: their profile takes no more notes."""

    kind = "conflict"
    code = "guest-profile-erased"
    title = "Guest erased"

    def __init__(self, guest_id: str) -> None:
        self.guest_id = guest_id
        super().__init__(f"guest {guest_id!r} was erased")


class InvalidGuestProfile(FieldProblems):
    """Tags or notes out of bounds, or a merge of a profile into itself."""

    kind = "rule"
    code = "invalid-guest-profile"
    title = "Invalid guest profile"
