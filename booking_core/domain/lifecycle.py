"""The evening's steps across streams: cancel, seat, complete, no-show.

Rules enforced here (the transitions themselves are `booking.decide`'s):

- a booking that is cancelled, completed or a no-show frees its tables: the same decision
  releases its reservation in the service-day stream of each of its tables, so the slot is
  bookable the moment the append commits;
- seating keeps the tables held;
- a booking that took pacing (`Placement.paced`) gives its start back when it is
  cancelled or marked a no-show, in the same decision; a completed booking did start,
  and keeps counting.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from booking_core.domain import booking as booking_decider
from booking_core.domain import pacing, service_day
from booking_core.domain.booking import BookingDetails, BookingState, NoBooking
from booking_core.domain.commands import CancelBooking, CompleteBooking, MarkNoShow, SeatBooking
from booking_core.domain.decision import Decision, DecisionBuilder
from booking_core.domain.events import (
    BookingCancelled,
    BookingCompleted,
    BookingEvent,
    BookingMarkedNoShow,
    ReleaseReason,
)
from booking_core.domain.pacing import PacingDay
from booking_core.domain.service_day import Release, ServiceDay
from booking_core.domain.streams import VenueStreams, streams_of

__all__ = [
    "LifecycleCommand",
    "decide_step",
    "pacing_streams",
    "release",
    "reservation_streams",
]

LifecycleCommand = CancelBooking | SeatBooking | CompleteBooking | MarkNoShow

_RELEASES: Final[Mapping[type[BookingEvent], ReleaseReason]] = {
    BookingCancelled: "cancelled",
    BookingCompleted: "completed",
    BookingMarkedNoShow: "no_show",
}


def reservation_streams(streams: VenueStreams, state: BookingState) -> list[str]:
    """The service-day streams holding the booking's reservations."""
    if isinstance(state, NoBooking):
        return []
    details = state.details
    return [
        streams.service_day(table_id, details.slot.service_date) for table_id in details.table_ids
    ]


_PACING_RELEASES: Final = frozenset({BookingCancelled, BookingMarkedNoShow})


def pacing_streams(streams: VenueStreams, state: BookingState) -> list[str]:
    """The pacing stream holding the booking's start, if it took pacing."""
    if isinstance(state, NoBooking) or not state.details.placement.paced:
        return []
    return [streams.pacing(state.details.slot.service_date)]


def decide_step(
    command: LifecycleCommand,
    *,
    booking: BookingState,
    days: Mapping[str, ServiceDay],
    paced: Mapping[str, PacingDay] | None = None,
) -> Decision:
    """`days` holds the booking's `reservation_streams`, `paced` its `pacing_streams`."""
    decision = DecisionBuilder()
    events = booking_decider.decide(command, booking)
    streams = streams_of(command.venue_id)
    decision.add(streams.booking(command.booking_id), events)
    for event in events:
        reason = _RELEASES.get(type(event))
        if reason is not None and not isinstance(booking, NoBooking):
            release(decision, streams, booking.details, reason, days, command.now)
            if type(event) in _PACING_RELEASES and booking.details.placement.paced:
                pacing.let_go(
                    decision,
                    streams,
                    paced or {},
                    booking_id=booking.details.booking_id,
                    service_date=booking.details.slot.service_date,
                    reason=reason,
                )
    return decision.build()


def release(
    decision: DecisionBuilder,
    streams: VenueStreams,
    details: BookingDetails,
    reason: ReleaseReason,
    days: Mapping[str, ServiceDay],
    now: datetime,
) -> None:
    """Add the release of every reservation of a booking to `decision`."""
    service_date = details.slot.service_date
    for table_id in details.table_ids:
        stream_id = streams.service_day(table_id, service_date)
        command = Release(table_id, service_date, details.booking_id, reason, now)
        decision.add(stream_id, service_day.decide(command, days.get(stream_id, ServiceDay())))
