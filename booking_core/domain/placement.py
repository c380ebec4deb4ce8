"""Where and when a booking sits: the rules of BookTable, and of a change, decided alike.

Rules enforced here, each with its own error (see `errors`):

- the tables exist and are not retired; together they seat the party (`table.check_fits`);
- the start is bookable (`time_rules.resolve_slot`: opening shift, slot grid, whole turn
  before closing, no closure, not past, lead time, booking window);
- the turn is the venue's turn time for the party size, unless an admin fixed a duration;
- no table is reserved or blocked for any of the turn, the buffer included between
  bookings (`service_day.decide`);
- without tables named, the smallest free table that fits is picked, ties broken by name,
  and only then the smallest free table combination that fits (`candidates`, see
  `combinations`); a change tries the booking's own tables first, so a guest who moves
  their dinner by half an hour keeps their table when it is free;
- a table held among several named together is refused as `CombinationOverlap`, naming
  the table and when it is taken.

A change that moves a booking (date, time, party size, tables or duration) releases its
old reservations and makes the new ones in the same decision, so the handler's single
append either moves it entirely or leaves it exactly as it was. A change of guest details
alone is not re-decided: it does not move anything.

The handler loads streams lazily (only the day streams of the table it is trying) and
walks the `Choices` in order; `decide_first_free` is the same walk over states already
loaded, for callers that have them all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Final

from msgspec import UnsetType

from booking_core.domain import booking as booking_decider
from booking_core.domain import combinations, overrides, service_day
from booking_core.domain._access import require_staff
from booking_core.domain._unset import or_current
from booking_core.domain.booking import BookingDetails, BookingState, NoBooking, Placement
from booking_core.domain.commands import Actor, BookTable, ChangeBooking
from booking_core.domain.decision import Decision, DecisionBuilder
from booking_core.domain.errors import (
    BookingAlreadyExists,
    ClosedOnDate,
    CombinationOverlap,
    DomainError,
    InvalidBooking,
    NoTableAvailable,
    NoTableFitsParty,
    OffSlotGrid,
    OutsideOpeningHours,
    PartyTooLarge,
    PartyTooSmall,
    TableAlreadyBooked,
    TableIsBlocked,
    TableIsRetired,
    TableNotFound,
    TurnRunsPastClose,
)
from booking_core.domain.service_day import Release, Reserve, ServiceDay, neighbourhood
from booking_core.domain.streams import VenueStreams, neighbouring_days, streams_of
from booking_core.domain.table import ActiveTable, TableState
from booking_core.domain.time_rules import Slot, resolve_slot, to_local
from booking_core.domain.values import Override
from booking_core.domain.venue import Seats, VenueState

__all__ = [
    "UNAVAILABLE",
    "UNFIT",
    "Choices",
    "Move",
    "booking_choices",
    "candidates",
    "day_streams",
    "decide_change",
    "decide_first_free",
    "decide_place",
    "move_choices",
    "plan_booking",
    "plan_move",
    "plan_slot",
    "unseated",
]

UNAVAILABLE: Final = (TableAlreadyBooked, TableIsBlocked)
"""Errors after which the next choice of tables is worth trying."""

UNFIT: Final = (PartyTooLarge, PartyTooSmall, TableIsRetired, TableNotFound)
"""Errors of a table chosen by the venue's seats that its own stream refuses: the venue
was read before a change of the table, so the choice must be made again."""

_MAX_DURATION = 24 * 60

_HOURS: Final = (OutsideOpeningHours, ClosedOnDate, OffSlotGrid, TurnRunsPastClose)
"""The venue's hours: what an override may set aside when placing a start."""


@dataclass(frozen=True, slots=True)
class Choices:
    """Table sets to try in order. `explicit`: the caller named them, so the first one's
    error is the answer rather than `NoTableAvailable`.

    `options` may be produced as they are tried (walk it once): a booking in a venue of a
    thousand tables usually takes the first, and need not rank the other 999."""

    options: Iterable[tuple[str, ...]]
    explicit: bool


@dataclass(frozen=True, slots=True)
class Move:
    """A change that moves a booking: its new slot and party, and tables if named."""

    slot: Slot
    party_size: int
    duration_fixed: bool
    table_ids: tuple[str, ...] | None


def plan_slot(
    venue: VenueState,
    *,
    day: date,
    at: time,
    party_size: int,
    duration_minutes: int | None,
    now: datetime,
    actor: Actor | None = None,
    override: Override | None = None,
    walk_in: bool = False,
) -> Slot:
    """The slot of a start, for the venue's turn time or an admin's fixed duration.

    Guests (no `actor`, or one who is not staff) are held to every rule. Staff are not
    held to the lead time or the booking window, a walk-in starts off the slot grid, and
    the venue's hours (closures, grid, the turn before closing) yield to an override."""
    if duration_minutes is None:
        duration_minutes = venue.settings.turn_minutes(party_size)
    elif not 1 <= duration_minutes <= _MAX_DURATION:
        raise InvalidBooking("duration_minutes", f"must be from 1 to {_MAX_DURATION}")
    staff = actor is not None and actor.is_staff

    def resolve(*, in_hours: bool) -> Slot:
        return resolve_slot(
            venue.settings,
            venue.hours,
            venue.closures,
            day=day,
            at=at,
            duration_minutes=duration_minutes,
            now=now,
            notice=not staff,
            grid=not walk_in,
            in_hours=in_hours,
        )

    try:
        return resolve(in_hours=True)
    except _HOURS as error:
        if actor is None:
            raise
        overrides.enforce(error, actor, override)
        return resolve(in_hours=False)


def plan_booking(command: BookTable, booking: BookingState, venue: VenueState) -> Slot:
    """Every rule of a new booking that needs no table, in the order callers see them."""
    if not isinstance(booking, NoBooking):
        raise BookingAlreadyExists(command.booking_id)
    if command.duration_minutes is not None:
        require_staff(command.actor, "set a booking's duration")
    if command.source != "online":
        require_staff(command.actor, "book by phone or for a walk-in")
    if command.seat_now:
        require_staff(command.actor, "seat a walk-in")
    override = overrides.override_of(command.actor, command.override)
    booking_decider.check_party(
        command.party_size,
        command.guest_name,
        guest_phone=command.guest_phone,
        guest_email=command.guest_email,
        special_requests=command.special_requests,
        source=command.source,
    )
    day, at = command.date, command.time
    if command.seat_now:
        local = to_local(command.now, venue.settings.time_zone)
        day, at = local.date(), local.time().replace(second=0, microsecond=0)
    return plan_slot(
        venue,
        day=day,
        at=at,
        party_size=command.party_size,
        duration_minutes=command.duration_minutes,
        now=command.now,
        actor=command.actor,
        override=override,
        walk_in=command.seat_now,
    )


def plan_move(command: ChangeBooking, booking: BookingState, venue: VenueState) -> Move | None:
    """The new slot of a change that moves the booking; None for a change of details."""
    details = booking_decider.require_changeable(booking, command).details
    moves = (
        _differs(command.date, details.slot.date)
        or _differs(command.time, details.slot.time)
        or _differs(command.party_size, details.party_size)
        or _differs(command.table_ids, details.table_ids)
        or _differs(command.duration_minutes, _fixed_duration(details))
    )
    if not moves:
        return None
    override = overrides.override_of(command.actor, command.override)
    party_size = or_current(command.party_size, details.party_size)
    booking_decider.check_party(party_size, or_current(command.guest_name, details.guest_name))
    duration = or_current(command.duration_minutes, _fixed_duration(details))
    slot = plan_slot(
        venue,
        day=or_current(command.date, details.slot.date),
        at=or_current(command.time, details.slot.time),
        party_size=party_size,
        duration_minutes=duration,
        now=command.now,
        actor=command.actor,
        override=override,
    )
    tables = None if isinstance(command.table_ids, UnsetType) else command.table_ids
    return Move(slot, party_size, duration is not None, tables or None)


def candidates(
    venue: VenueState, tables: Mapping[str, TableState], party_size: int
) -> Iterator[tuple[str, ...]]:
    """Auto-assign's order: the venue's tables that seat the party alone, smallest first,
    ties by name; then its combinations that seat it (`combinations.singles_first`).

    A table's seats come from the venue's list when it has them (`VenueState.seats`), so
    only `unseated` tables need to be in `tables`."""
    singles = _singles(venue, tables, party_size)
    if not venue.combinations:
        return ((table_id,) for _, table_id in singles)
    return combinations.singles_first(venue, singles, party_size)


def _singles(
    venue: VenueState, tables: Mapping[str, TableState], party_size: int
) -> Iterator[tuple[int, str]]:
    """(capacity, table id) of the tables that seat the party alone, in auto-assign's order."""
    if not unseated(venue):  # the venue's own order, walked only as far as it is tried
        return (
            (entry.capacity, entry.table_id)
            for entry in venue.ranked
            if entry.min_capacity <= party_size <= entry.capacity
        )
    fitting = []
    for table_id, name in venue.tables.items():
        seats = venue.seats.get(table_id)
        if seats is None:
            state = tables.get(table_id)
            if not isinstance(state, ActiveTable):
                continue
            seats = Seats(state.spec.capacity, state.spec.min_capacity)
            name = state.spec.name
        if seats.fit(party_size):
            fitting.append((seats.capacity, name.casefold(), table_id))
    return iter([(capacity, table_id) for capacity, _, table_id in sorted(fitting)])


def unseated(venue: VenueState) -> list[str]:
    """The venue's tables whose seats only their own stream tells (registered before the
    venue kept seats): what `candidates` needs read besides the venue."""
    if len(venue.seats) == len(venue.tables):  # every table's seats are known
        return []
    return [table_id for table_id in venue.tables if table_id not in venue.seats]


def booking_choices(
    command: BookTable, venue: VenueState, tables: Mapping[str, TableState]
) -> Choices:
    if command.table_ids:
        return Choices((command.table_ids,), explicit=True)
    options = candidates(venue, tables, command.party_size)
    first = next(options, None)
    if first is None:
        raise NoTableFitsParty(command.party_size)
    return Choices(itertools.chain((first,), options), explicit=False)


def move_choices(
    move: Move, details: BookingDetails, venue: VenueState, tables: Mapping[str, TableState]
) -> Choices:
    if move.table_ids is not None:
        return Choices((move.table_ids,), explicit=True)
    options = [
        option
        for option in candidates(venue, tables, move.party_size)
        if option != details.table_ids
    ]
    try:
        combinations.check_fits(venue, tables, details.table_ids, move.party_size)
    except DomainError:
        pass
    else:
        options.insert(0, details.table_ids)
    if not options:
        raise NoTableFitsParty(move.party_size)
    return Choices(tuple(options), explicit=False)


def day_streams(streams: VenueStreams, table_ids: tuple[str, ...], service_date: date) -> list[str]:
    """The service-day streams a reservation of these tables on that date is checked in."""
    return [
        streams.service_day(table_id, day)
        for table_id in table_ids
        for day in neighbouring_days(service_date)
    ]


def decide_place(
    command: BookTable,
    *,
    booking: BookingState,
    venue: VenueState,
    tables: Mapping[str, TableState],
    days: Mapping[str, ServiceDay],
    table_ids: tuple[str, ...],
) -> Decision:
    """Place the booking at `table_ids`; `days` holds their `day_streams` (missing ones are
    empty)."""
    slot = plan_booking(command, booking, venue)
    _check_table_ids(table_ids)
    _check_seats(command, venue, tables, table_ids, command.party_size)
    streams = streams_of(command.venue_id)
    decision = DecisionBuilder()
    decision.read(streams.venue, *(streams.table(table_id) for table_id in table_ids))
    _reserve(
        decision, streams, command.booking_id, slot, command.party_size, table_ids, venue, days
    )
    fixed = command.duration_minutes is not None
    events = booking_decider.decide(command, booking, Placement(slot, table_ids, fixed))
    decision.add(streams.booking(command.booking_id), events)
    return decision.build()


def decide_change(
    command: ChangeBooking,
    *,
    booking: BookingState,
    venue: VenueState,
    tables: Mapping[str, TableState],
    days: Mapping[str, ServiceDay],
    table_ids: tuple[str, ...] | None = None,
) -> Decision:
    """Change the booking; a move goes to `table_ids` (required then), and `days` holds the
    `day_streams` of its old and its new tables."""
    move = plan_move(command, booking, venue)
    streams = streams_of(command.venue_id)
    decision = DecisionBuilder()
    stream_id = streams.booking(command.booking_id)
    if move is None:
        decision.add(stream_id, booking_decider.decide(command, booking))
        return decision.build()
    if table_ids is None:
        raise ValueError("a change that moves the booking needs its tables")
    details = booking_decider.require_changeable(booking, command).details
    _check_table_ids(table_ids)
    _check_seats(command, venue, tables, table_ids, move.party_size)
    decision.read(streams.venue, *(streams.table(table_id) for table_id in table_ids))
    old_date = details.slot.service_date
    for table_id in details.table_ids:
        old_stream = streams.service_day(table_id, old_date)
        release = Release(table_id, old_date, details.booking_id, "moved", command.now)
        decision.add(old_stream, service_day.decide(release, days.get(old_stream, ServiceDay())))
    _reserve(
        decision, streams, details.booking_id, move.slot, move.party_size, table_ids, venue, days
    )
    placement = Placement(move.slot, table_ids, move.duration_fixed)
    events = booking_decider.decide(command, booking, placement)
    if not events:
        return Decision()  # it lands where it was: nothing to release or reserve
    decision.add(stream_id, events)
    return decision.build()


def decide_first_free(
    command: BookTable,
    *,
    booking: BookingState,
    venue: VenueState,
    tables: Mapping[str, TableState],
    days: Mapping[str, ServiceDay],
) -> Decision:
    """`decide_place` at the first free choice of tables (auto-assign when none is named)."""
    plan_booking(command, booking, venue)
    choices = booking_choices(command, venue, tables)
    for option in choices.options:
        try:
            return decide_place(
                command, booking=booking, venue=venue, tables=tables, days=days, table_ids=option
            )
        except UNAVAILABLE:
            if choices.explicit:
                raise
    raise NoTableAvailable(command.party_size)


def _reserve(
    decision: DecisionBuilder,
    streams: VenueStreams,
    booking_id: str,
    slot: Slot,
    party_size: int,
    table_ids: tuple[str, ...],
    venue: VenueState,
    days: Mapping[str, ServiceDay],
) -> None:
    buffer = venue.settings.buffer_minutes
    for table_id in table_ids:
        around = day_streams(streams, (table_id,), slot.service_date)
        decision.read(*around)
        view = neighbourhood(days.get(stream_id, ServiceDay()) for stream_id in around)
        reserve = Reserve(table_id, booking_id, slot, party_size, buffer)
        try:
            events = service_day.decide(reserve, view)
        except TableAlreadyBooked as taken:
            if len(table_ids) < 2:
                raise
            raise _overlap(taken, venue, view) from taken
        decision.add(streams.service_day(table_id, slot.service_date), events)


def _check_seats(
    command: BookTable | ChangeBooking,
    venue: VenueState,
    tables: Mapping[str, TableState],
    table_ids: tuple[str, ...],
    party_size: int,
) -> None:
    """The tables seat the party (a combination's tables by its own seats); staff naming
    tables may seat a party too large or too small for them with a reason (auto-assign
    only ever picks tables that fit)."""
    named = bool(command.table_ids)
    if not named:
        combinations.check_fits(venue, tables, table_ids, party_size)
        return
    with overrides.overridable(
        command.actor,
        overrides.override_of(command.actor, command.override),
        (PartyTooLarge, PartyTooSmall),
    ):
        combinations.check_fits(venue, tables, table_ids, party_size)


def _overlap(taken: TableAlreadyBooked, venue: VenueState, view: ServiceDay) -> CombinationOverlap:
    """One table of several is held: say which, and from when to when (local times)."""
    held = view.reservations.get(taken.booking_id)
    held_from = held_to = "?"
    if held is not None:
        held_from = f"{held.date.isoformat()} {held.time:%H:%M}"
        held_to = f"{held.end_time:%H:%M}"
    return CombinationOverlap(
        taken.table_id,
        taken.booking_id,
        table_name=venue.tables.get(taken.table_id, taken.table_id),
        held_from=held_from,
        held_to=held_to,
    )


def _fixed_duration(details: BookingDetails) -> int | None:
    return details.slot.duration_minutes if details.placement.duration_fixed else None


def _differs(value: object, current: object) -> bool:
    return not isinstance(value, UnsetType) and value != current


def _check_table_ids(table_ids: tuple[str, ...]) -> None:
    if not table_ids:
        raise InvalidBooking("table_ids", "a booking needs at least one table")
    if len(set(table_ids)) != len(table_ids):
        raise InvalidBooking("table_ids", "each table may be named once")
