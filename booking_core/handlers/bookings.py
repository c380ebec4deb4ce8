"""Booking commands: book, change, cancel, seat, complete, no-show.

Each handler loads what its decision needs, lazily: booking a table reads the venue, the
booking's stream, and, in one round trip, the table it is trying with the three service
days around the slot; it moves to the next candidate when that one is taken. Candidates
are ranked from the seats the venue's table list carries, so the other tables' streams
are not read (only those of tables registered before the list kept seats).
The result carries the booking as decided and its stream version (the `If-Match` value
for a later change).
"""

from __future__ import annotations

from dataclasses import dataclass

from booking_core.domain import booking as booking_decider
from booking_core.domain import lifecycle, placement
from booking_core.domain.booking import BookingState
from booking_core.domain.commands import (
    BookTable,
    CancelBooking,
    ChangeBooking,
    CompleteBooking,
    MarkNoShow,
    SeatBooking,
)
from booking_core.domain.decision import Decision
from booking_core.domain.errors import NoTableAvailable, StaleVersion
from booking_core.domain.folding import BOOKING
from booking_core.handlers._session import (
    DEFAULT_RETRY,
    CommandResult,
    Decide,
    RetryPolicy,
    Session,
    StaleRead,
    execute,
)
from booking_core.store import EventStore, IdempotencyKey

__all__ = [
    "BookingResult",
    "book_table",
    "booking_decision",
    "cancel_booking",
    "change_booking",
    "complete_booking",
    "mark_no_show",
    "seat_booking",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingResult(CommandResult):
    booking: BookingState
    """The booking after the command."""
    version: int
    """The booking stream's version after the command."""


async def book_table(
    store: EventStore,
    command: BookTable,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> BookingResult:
    decide = booking_decision(command)
    return await _run(store, command.booking_id, command, decide, retry, idempotency)


def booking_decision(command: BookTable) -> Decide:
    """How a session decides `command`: the first free choice of tables, read lazily. A
    decision that places a booking among other changes (seating a party from the
    waitlist) starts from it."""

    async def decide(session: Session) -> Decision:
        await session.prefetch([session.streams.venue, session.streams.booking(command.booking_id)])
        venue = await session.venue()
        booking = await session.booking(command.booking_id)
        slot = placement.plan_booking(command, booking, venue)
        tables = await session.tables(command.table_ids or placement.unseated(venue))
        choices = placement.booking_choices(command, venue, tables)
        for option in choices.options:
            around = placement.day_streams(session.streams, option, slot.service_date)
            await session.prefetch([*(session.streams.table(t) for t in option), *around])
            tables = {**tables, **await session.tables(option)}
            days = await session.days(around)
            try:
                return placement.decide_place(
                    command,
                    booking=booking,
                    venue=venue,
                    tables=tables,
                    days=days,
                    table_ids=option,
                )
            except placement.UNAVAILABLE:
                if choices.explicit:
                    raise
            except placement.UNFIT as error:
                if choices.explicit:
                    raise
                raise StaleRead(
                    session.streams.venue
                ) from error  # chosen by seats the table no longer has
        raise NoTableAvailable(command.party_size)

    return decide


async def change_booking(
    store: EventStore,
    command: ChangeBooking,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> BookingResult:
    async def decide(session: Session) -> Decision:
        await session.prefetch([session.streams.venue, session.streams.booking(command.booking_id)])
        venue = await session.venue()
        booking = await session.booking(command.booking_id)
        booking_decider.require_visible(booking, command.actor, command.booking_id)
        stream_id = session.streams.booking(command.booking_id)
        version = session.version(stream_id)
        if command.expected_version is not None and command.expected_version != version:
            raise StaleVersion(stream_id, command.expected_version, version)
        move = placement.plan_move(command, booking, venue)
        if move is None:
            return placement.decide_change(
                command, booking=booking, venue=venue, tables={}, days={}
            )
        details = booking_decider.require_changeable(booking, command).details
        old_days = await session.days(lifecycle.reservation_streams(session.streams, booking))
        tables = await session.tables(
            move.table_ids or (*details.table_ids, *placement.unseated(venue))
        )
        choices = placement.move_choices(move, details, venue, tables)
        for option in choices.options:
            around = placement.day_streams(session.streams, option, move.slot.service_date)
            await session.prefetch([*(session.streams.table(t) for t in option), *around])
            tables = {**tables, **await session.tables(option)}
            days = await session.days(around)
            try:
                return placement.decide_change(
                    command,
                    booking=booking,
                    venue=venue,
                    tables=tables,
                    days={**old_days, **days},
                    table_ids=option,
                )
            except placement.UNAVAILABLE:
                if choices.explicit:
                    raise
            except placement.UNFIT as error:
                if choices.explicit:
                    raise
                raise StaleRead(
                    session.streams.venue
                ) from error  # chosen by seats the table no longer has
        raise NoTableAvailable(move.party_size)

    return await _run(store, command.booking_id, command, decide, retry, idempotency)


async def cancel_booking(
    store: EventStore,
    command: CancelBooking,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> BookingResult:
    """Cancelling a cancelled booking succeeds and writes nothing."""
    return await _step(store, command, retry, idempotency)


async def seat_booking(
    store: EventStore,
    command: SeatBooking,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> BookingResult:
    return await _step(store, command, retry, idempotency)


async def complete_booking(
    store: EventStore,
    command: CompleteBooking,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> BookingResult:
    return await _step(store, command, retry, idempotency)


async def mark_no_show(
    store: EventStore,
    command: MarkNoShow,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> BookingResult:
    return await _step(store, command, retry, idempotency)


async def _step(
    store: EventStore,
    command: lifecycle.LifecycleCommand,
    retry: RetryPolicy,
    idempotency: IdempotencyKey | None,
) -> BookingResult:
    async def decide(session: Session) -> Decision:
        booking = await session.booking(command.booking_id)
        days = await session.days(lifecycle.reservation_streams(session.streams, booking))
        return lifecycle.decide_step(command, booking=booking, days=days)

    return await _run(store, command.booking_id, command, decide, retry, idempotency)


async def _run(
    store: EventStore,
    booking_id: str,
    command: BookTable | ChangeBooking | lifecycle.LifecycleCommand,
    decide: Decide,
    retry: RetryPolicy,
    idempotency: IdempotencyKey | None,
) -> BookingResult:
    result, session, decision = await execute(
        store, command, decide, retry=retry, idempotency=idempotency
    )
    stream_id = session.streams.booking(booking_id)
    return BookingResult(
        events=result.events,
        token=result.token,
        versions=result.versions,
        duplicate=result.duplicate,
        payload=result.payload,
        attempts=result.attempts,
        booking=session.state_after(stream_id, BOOKING, decision),
        version=result.versions[stream_id],
    )
