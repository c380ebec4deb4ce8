"""Waitlist commands: add a party, tell it its table is ready, seat it, or remove it.

Each is decided against the list's stream of the entry's service day (named by the entry
id). Seating reads the venue too and decides the walk-in booking as a booking is decided
(`bookings.booking_decision`: the tables named, or the smallest free one that fits);
the entry leaves the list in the same decision, so the booking, its tables' service
days and the list are one append: a party is seated from the list once, or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from booking_core.domain import waitlist as waitlist_decider
from booking_core.domain.booking import BookingState, NoBooking
from booking_core.domain.booking import initial_state as initial_booking
from booking_core.domain.commands import (
    AddToWaitlist,
    NotifyWaitlistGuest,
    RemoveFromWaitlist,
    SeatFromWaitlist,
    WaitlistCommand,
)
from booking_core.domain.decision import Decision
from booking_core.domain.folding import BOOKING, WAITLIST
from booking_core.domain.waitlist import SeatedFromList, Waitlist, WaitlistEntry
from booking_core.handlers._session import (
    DEFAULT_RETRY,
    CommandResult,
    Decide,
    RetryPolicy,
    Session,
    execute,
)
from booking_core.handlers.bookings import booking_decision
from booking_core.store import EventStore, IdempotencyKey

__all__ = [
    "WaitlistResult",
    "add_to_waitlist",
    "notify_waitlist_guest",
    "remove_from_waitlist",
    "seat_from_waitlist",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitlistResult(CommandResult):
    waitlist: Waitlist
    """The service day's list after the command."""
    entry: WaitlistEntry
    booking: BookingState = initial_booking
    """The walk-in booking, when the entry was seated from the list."""
    booking_version: int = 0
    """The walk-in booking's stream version (its `ETag`)."""

    @property
    def position(self) -> int | None:
        return self.waitlist.position(self.entry.details.entry_id)


async def add_to_waitlist(
    store: EventStore,
    command: AddToWaitlist,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> WaitlistResult:
    return await _on_list(store, command, retry, idempotency)


async def notify_waitlist_guest(
    store: EventStore,
    command: NotifyWaitlistGuest,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> WaitlistResult:
    return await _on_list(store, command, retry, idempotency)


async def remove_from_waitlist(
    store: EventStore,
    command: RemoveFromWaitlist,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> WaitlistResult:
    return await _on_list(store, command, retry, idempotency)


async def seat_from_waitlist(
    store: EventStore,
    command: SeatFromWaitlist,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> WaitlistResult:
    async def decide(session: Session) -> Decision:
        stream_id = session.streams.waitlist(waitlist_decider.service_date_of(command.entry_id))
        await session.prefetch([stream_id, session.streams.venue])
        waitlist = await session.load(stream_id, WAITLIST)
        venue = await session.venue()
        booking = waitlist_decider.walk_in(command, waitlist, venue.settings.time_zone)
        placed = await booking_decision(booking)(session)
        return waitlist_decider.seat(command, waitlist, placed)

    return await _run(store, command, decide, retry, idempotency)


async def _on_list(
    store: EventStore,
    command: AddToWaitlist | NotifyWaitlistGuest | RemoveFromWaitlist,
    retry: RetryPolicy,
    idempotency: IdempotencyKey | None,
) -> WaitlistResult:
    async def decide(session: Session) -> Decision:
        stream_id = session.streams.waitlist(waitlist_decider.service_date_of(command.entry_id))
        waitlist = await session.load(stream_id, WAITLIST)
        return Decision(
            events={stream_id: tuple(waitlist_decider.decide(command, waitlist))},
            reads=frozenset({stream_id}),
        )

    return await _run(store, command, decide, retry, idempotency)


async def _run(
    store: EventStore,
    command: WaitlistCommand,
    decide: Decide,
    retry: RetryPolicy,
    idempotency: IdempotencyKey | None,
) -> WaitlistResult:
    result, session, decision = await execute(
        store, command, decide, retry=retry, idempotency=idempotency
    )
    stream_id = session.streams.waitlist(waitlist_decider.service_date_of(command.entry_id))
    waitlist = session.state_after(stream_id, WAITLIST, decision)
    entry = waitlist.entries.get(command.entry_id)
    if entry is None:
        raise AssertionError(f"the waitlist has no entry {command.entry_id!r} after deciding")
    booking: BookingState = initial_booking
    booking_version = 0
    if isinstance(entry, SeatedFromList):
        booking_stream = session.streams.booking(entry.booking_id)
        booking = session.state_after(booking_stream, BOOKING, decision)
        booking_version = result.versions.get(booking_stream, 0)
        if isinstance(booking, NoBooking):  # a repeat: its decision stopped before the booking
            fresh = Session(store, streams=session.streams)
            booking = await fresh.booking(entry.booking_id)
            booking_version = fresh.version(booking_stream)
    return WaitlistResult(
        events=result.events,
        token=result.token,
        versions=result.versions,
        duplicate=result.duplicate,
        payload=result.payload,
        attempts=result.attempts,
        waitlist=waitlist,
        entry=entry,
        booking=booking,
        booking_version=booking_version,
    )
