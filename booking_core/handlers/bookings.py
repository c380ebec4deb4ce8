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

import asyncio
import contextlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Final

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
from booking_core.domain.folding import BOOKING, PACING
from booking_core.domain.streams import streams_of
from booking_core.domain.venue import VenueState
from booking_core.handlers._session import (
    DEFAULT_RETRY,
    CommandResult,
    Decide,
    RetryPolicy,
    Session,
    StaleRead,
    execute,
)
from booking_core.handlers._state_cache import cache_for
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
    """Place a new booking. Its first attempt decides on this process's cached states
    without reading them, and takes the booking's stream as new (`execute`'s
    `trust_cache`): a process that wrote those streams last appends without a read, and a
    stale state costs a second attempt on fresh reads."""
    decide = booking_decision(command)
    async with _paced_turn(store, command.venue_id, command.date):
        return await _run(
            store, command.booking_id, command, decide, retry, idempotency, trust_cache=True
        )


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
        paced_ids = placement.pacing_streams(session.streams, venue, slot)
        passed_over: list[str] = []
        for option in choices.options:
            around = placement.day_streams(session.streams, option, slot.service_date)
            await session.prefetch(
                [*(session.streams.table(t) for t in option), *around, *paced_ids]
            )
            tables = {**tables, **await session.tables(option)}
            days = await session.days(around)
            paced = await session.load_many(paced_ids, PACING)
            try:
                decision = placement.decide_place(
                    command,
                    booking=booking,
                    venue=venue,
                    tables=tables,
                    days=days,
                    table_ids=option,
                    paced=paced,
                )
            except placement.UNAVAILABLE:
                if choices.explicit:
                    raise
                passed_over += [*(session.streams.table(t) for t in option), *around]
            except placement.UNFIT as error:
                if choices.explicit:
                    raise
                raise StaleRead(
                    session.streams.venue
                ) from error  # chosen by seats the table no longer has
            else:
                # Tables and days passed over on cached states, not read now, are held by
                # the append too: if one was freed meanwhile, the first free table may be
                # another, and the booking is decided again on fresh reads.
                unread = session.unread.intersection(passed_over)
                return Decision(events=decision.events, reads=decision.reads | unread)
        raise NoTableAvailable(command.party_size)

    return decide


_TURNS: Final[
    OrderedDict[tuple[int, str, date], tuple[asyncio.AbstractEventLoop, asyncio.Lock]]
] = OrderedDict()
_MAX_TURNS = 1024


def _paced_turn(
    store: EventStore, venue_id: str, day: date
) -> contextlib.AbstractAsyncContextManager[object]:
    """One booking at a time, in this process, for a day of a venue with pacing rules.

    Every paced booking of a service day appends to its pacing stream, so bookings racing
    for it (on different tables) would mostly lose the append and decide again; taking
    turns here lets each decide once. Correctness does not rest on it: other processes
    still race, and the append's expected versions decide. The venue's rules are read
    from the state cache, as last folded (a stale answer only costs a lock or a race)."""
    cached = cache_for(store).get(streams_of(venue_id).venue)
    state = None if cached is None else cached.state
    if not isinstance(state, VenueState) or not state.settings.pacing:
        return contextlib.nullcontext()
    loop = asyncio.get_running_loop()
    key = (id(store), venue_id, day)
    found = _TURNS.get(key)
    if found is None or found[0] is not loop:  # a lock belongs to one event loop
        found = _TURNS[key] = (loop, asyncio.Lock())
        if len(_TURNS) > _MAX_TURNS:
            idle = [k for k, (_, lock) in _TURNS.items() if not lock.locked() and k != key]
            for old in idle[: _MAX_TURNS // 2]:
                del _TURNS[old]
    return found[1]


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
        paced_ids = placement.pacing_streams(session.streams, venue, move.slot, details)
        for option in choices.options:
            around = placement.day_streams(session.streams, option, move.slot.service_date)
            await session.prefetch(
                [*(session.streams.table(t) for t in option), *around, *paced_ids]
            )
            tables = {**tables, **await session.tables(option)}
            days = await session.days(around)
            paced = await session.load_many(paced_ids, PACING)
            try:
                return placement.decide_change(
                    command,
                    booking=booking,
                    venue=venue,
                    tables=tables,
                    days={**old_days, **days},
                    table_ids=option,
                    paced=paced,
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
        reserved = lifecycle.reservation_streams(session.streams, booking)
        paced_ids = lifecycle.pacing_streams(session.streams, booking)
        await session.prefetch([*reserved, *paced_ids])
        days = await session.days(reserved)
        paced = await session.load_many(paced_ids, PACING)
        return lifecycle.decide_step(command, booking=booking, days=days, paced=paced)

    return await _run(store, command.booking_id, command, decide, retry, idempotency)


async def _run(
    store: EventStore,
    booking_id: str,
    command: BookTable | ChangeBooking | lifecycle.LifecycleCommand,
    decide: Decide,
    retry: RetryPolicy,
    idempotency: IdempotencyKey | None,
    *,
    trust_cache: bool = False,
) -> BookingResult:
    stream_id = streams_of(command.venue_id).booking(booking_id)
    result, session, decision = await execute(
        store,
        command,
        decide,
        retry=retry,
        idempotency=idempotency,
        trust_cache=trust_cache,
        fresh=(stream_id,),
    )
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
