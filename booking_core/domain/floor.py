"""The floor across streams: tables joining and leaving the venue, and blocks.

Rules enforced here:

- a table added or renamed joins the venue's list under a name no other table has;
  a retired table leaves it, so auto-assign never considers it again, and takes the
  table combinations it belongs to with it (`combinations.removed_with`);
- a table is retired only while it has no bookings still to come (in service days from
  yesterday, whose late shift may still be running, to the end of the booking window),
  unless the admin asks to cancel them; a seated party is never cancelled;
- a block needs an end after its start, lasts at most a year and lies within three years
  of today; it is refused while a booking holds the table in the period; it is written
  to the table and to every service day whose calendar date it touches, and lifted from
  all of them at once.

Scanning the booking window for a retirement reads one stream per day (about 90); it is
rare, and the append holds every one of those streams at its version, so a booking made
meanwhile forces the retirement to be decided again. Bookings beyond today's window,
made while the window was longer, are not seen: shrinking the window is rare too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from booking_core.domain import booking as booking_decider
from booking_core.domain import combinations, service_day, table
from booking_core.domain._access import require_manager
from booking_core.domain.booking import BookingState, Confirmed, Seated
from booking_core.domain.commands import (
    AddTable,
    BlockTable,
    CancelBooking,
    ChangeTable,
    LiftBlock,
    RetireTable,
)
from booking_core.domain.decision import Decision, DecisionBuilder
from booking_core.domain.errors import (
    BlockAlreadyExists,
    BlockNotFound,
    InvalidPeriod,
    TableHasBookings,
)
from booking_core.domain.events import (
    BlockLifted,
    BlockPlaced,
    TableAdded,
    TableChanged,
    TableDeregistered,
    TableRegistered,
)
from booking_core.domain.lifecycle import release
from booking_core.domain.service_day import Block, ServiceDay, Unblock, neighbourhood
from booking_core.domain.streams import VenueStreams, streams_of
from booking_core.domain.table import ActiveTable, TableState
from booking_core.domain.time_rules import calendar_dates, local_today, to_instant, to_local
from booking_core.domain.venue import Seats, VenueState, check_table_name

__all__ = [
    "block_day_streams",
    "block_period",
    "check_block",
    "decide_add",
    "decide_block",
    "decide_change",
    "decide_lift",
    "decide_retire",
    "lift_day_streams",
    "retirement_day_streams",
    "upcoming_bookings",
]

_MAX_BLOCK = timedelta(days=366)
_BLOCK_HORIZON = timedelta(days=3 * 366)
_DAY = timedelta(days=1)


def decide_add(command: AddTable, *, venue: VenueState, table_state: TableState) -> Decision:
    events = table.decide(command, table_state)
    name = next((e.name for e in events if isinstance(e, TableAdded)), command.name)
    check_table_name(venue, command.table_id, name)
    streams = streams_of(command.venue_id)
    decision = DecisionBuilder()
    decision.add(streams.table(command.table_id), events)
    for event in events:
        if isinstance(event, TableAdded):
            registered = TableRegistered(
                table_id=command.table_id,
                name=name,
                capacity=event.capacity,
                min_capacity=event.min_capacity,
            )
            decision.add(streams.venue, [registered])
    return decision.build()


def decide_change(command: ChangeTable, *, venue: VenueState, table_state: TableState) -> Decision:
    events = table.decide(command, table_state)
    streams = streams_of(command.venue_id)
    decision = DecisionBuilder()
    decision.add(streams.table(command.table_id), events)
    before = table.require_active(table_state, command.table_id).spec
    for event in events:
        if not isinstance(event, TableChanged):
            continue
        if event.name != before.name:
            check_table_name(venue, command.table_id, event.name)
        seats = Seats(event.capacity, event.min_capacity)
        if event.name != before.name or seats != Seats(before.capacity, before.min_capacity):
            registered = TableRegistered(
                table_id=command.table_id,
                name=event.name,
                capacity=event.capacity,
                min_capacity=event.min_capacity,
            )
            decision.add(streams.venue, [registered])
    return decision.build()


def retirement_day_streams(
    streams: VenueStreams, table_id: str, venue: VenueState, now: datetime
) -> list[str]:
    """The service days of the table that may hold bookings still to come."""
    today = local_today(now, venue.settings.time_zone)
    first = today - _DAY
    days = (today + timedelta(days=venue.settings.max_days_ahead) - first).days + 1
    return [streams.service_day(table_id, first + _DAY * offset) for offset in range(days)]


def upcoming_bookings(days: Mapping[str, ServiceDay], now: datetime) -> set[str]:
    """Bookings holding a table in `days` that have not ended yet."""
    return {
        held.booking_id
        for day in days.values()
        for held in day.reservations.values()
        if held.ends_at > now
    }


def decide_retire(
    command: RetireTable,
    *,
    venue: VenueState,
    table_state: TableState,
    days: Mapping[str, ServiceDay],
    bookings: Mapping[str, BookingState],
) -> Decision:
    """`days` holds the `retirement_day_streams` and, when bookings are cancelled, the
    reservation streams of their other tables; `bookings` the `upcoming_bookings`."""
    events = table.decide(command, table_state)
    streams = streams_of(command.venue_id)
    scanned = retirement_day_streams(streams, command.table_id, venue, command.now)
    upcoming = upcoming_bookings({s: days.get(s, ServiceDay()) for s in scanned}, command.now)
    seated = {b for b in upcoming if isinstance(bookings.get(b), Seated)}
    if seated or (upcoming and not command.cancel_bookings):
        raise TableHasBookings(command.table_id, seated or upcoming)
    decision = DecisionBuilder()
    decision.read(*scanned)
    decision.add(streams.table(command.table_id), events)
    decision.add(
        streams.venue,
        [
            TableDeregistered(table_id=command.table_id),
            *combinations.removed_with(venue, command.table_id, command.now),
        ],
    )
    for booking_id in sorted(upcoming):
        state = bookings.get(booking_id)
        if not isinstance(state, Confirmed):
            continue
        cancel = CancelBooking(
            command_id=command.command_id,
            actor=command.actor,
            now=command.now,
            venue_id=command.venue_id,
            booking_id=booking_id,
            reason="table retired",
        )
        decision.add(streams.booking(booking_id), booking_decider.decide(cancel, state))
        release(decision, streams, state.details, "table_retired", days, command.now)
    return decision.build()


def block_period(command: BlockTable, venue: VenueState) -> tuple[datetime, datetime]:
    """The block's `[start, end)` as UTC instants, checked."""
    time_zone = venue.settings.time_zone

    def instant(moment: datetime) -> datetime:
        if abs((moment.date() - command.now.date()).days) > _BLOCK_HORIZON.days:
            raise InvalidPeriod("a block lies within three years of today")
        if moment.tzinfo is None:
            return to_instant(moment, time_zone, strict=False)
        return moment.astimezone(UTC)

    starts_at, ends_at = instant(command.start), instant(command.end)
    if ends_at <= starts_at:
        raise InvalidPeriod("a block ends after it starts")
    if ends_at - starts_at > _MAX_BLOCK:
        raise InvalidPeriod("a block lasts at most 366 days; retire the table instead")
    return starts_at, ends_at


def block_day_streams(command: BlockTable, venue: VenueState) -> list[str]:
    """The service days a block is checked against: each date it touches and the day
    before (whose late bookings may run into it)."""
    starts_at, ends_at = block_period(command, venue)
    dates = calendar_dates(starts_at, ends_at, venue.settings.time_zone)
    streams = streams_of(command.venue_id)
    return [
        streams.service_day(command.table_id, day)
        for day in (dates[0] - _DAY, *dates, dates[-1] + _DAY)
    ]


def check_block(command: BlockTable, *, venue: VenueState, table_state: TableState) -> None:
    """Every rule of a block that needs no service day."""
    require_manager(command.actor, "block tables")
    active = table.require_active(table_state, command.table_id)
    if command.block_id in active.blocks:
        raise BlockAlreadyExists(command.table_id, command.block_id)
    block_period(command, venue)


def decide_block(
    command: BlockTable,
    *,
    venue: VenueState,
    table_state: TableState,
    days: Mapping[str, ServiceDay],
) -> Decision:
    """`days` holds the `block_day_streams`."""
    check_block(command, venue=venue, table_state=table_state)
    starts_at, ends_at = block_period(command, venue)
    time_zone = venue.settings.time_zone
    dates = calendar_dates(starts_at, ends_at, time_zone)
    streams = streams_of(command.venue_id)
    decision = DecisionBuilder()
    decision.read(streams.venue)
    decision.add(
        streams.table(command.table_id),
        [
            BlockPlaced(
                table_id=command.table_id,
                block_id=command.block_id,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=command.reason,
                service_dates=dates,
            )
        ],
    )
    for day in dates:
        around = [streams.service_day(command.table_id, d) for d in (day - _DAY, day, day + _DAY)]
        decision.read(*around)
        block = Block(
            table_id=command.table_id,
            service_date=day,
            block_id=command.block_id,
            starts_at=starts_at,
            ends_at=ends_at,
            start_local=to_local(starts_at, time_zone),
            end_local=to_local(ends_at, time_zone),
            reason=command.reason,
        )
        view = neighbourhood(days.get(stream_id, ServiceDay()) for stream_id in around)
        decision.add(around[1], service_day.decide(block, view))
    return decision.build()


def lift_day_streams(command: LiftBlock, table_state: TableState) -> list[str]:
    """The service days the block was written to (none if there is no such block)."""
    if not isinstance(table_state, ActiveTable) or command.block_id not in table_state.blocks:
        return []
    block = table_state.blocks[command.block_id]
    streams = streams_of(command.venue_id)
    return [streams.service_day(command.table_id, day) for day in block.service_dates]


def decide_lift(
    command: LiftBlock, *, table_state: TableState, days: Mapping[str, ServiceDay]
) -> Decision:
    """`days` holds the `lift_day_streams`."""
    require_manager(command.actor, "lift blocks")
    active = table.require_active(table_state, command.table_id)
    block = active.blocks.get(command.block_id)
    if block is None:
        raise BlockNotFound(command.table_id, command.block_id)
    streams = streams_of(command.venue_id)
    decision = DecisionBuilder()
    decision.add(
        streams.table(command.table_id),
        [
            BlockLifted(
                table_id=command.table_id,
                block_id=command.block_id,
                service_dates=block.service_dates,
            )
        ],
    )
    for day in block.service_dates:
        stream_id = streams.service_day(command.table_id, day)
        unblock = Unblock(command.table_id, day, command.block_id)
        decision.add(stream_id, service_day.decide(unblock, days.get(stream_id, ServiceDay())))
    return decision.build()
