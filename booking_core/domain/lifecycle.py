"""The evening's steps across streams: cancel, seat, complete, no-show.

Rules enforced here (the transitions themselves are `booking.decide`'s):

- a booking that is cancelled, completed or a no-show frees its tables: the same decision
  releases its reservation in the service-day stream of each of its tables, so the slot is
  bookable the moment the append commits;
- seating keeps the tables held.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from booking_core.domain import booking as booking_decider
from booking_core.domain import service_day
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
from booking_core.domain.service_day import Release, ServiceDay
from booking_core.domain.streams import VenueStreams, streams_of

__all__ = ["LifecycleCommand", "decide_step", "release", "reservation_streams"]

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


def decide_step(
    command: LifecycleCommand, *, booking: BookingState, days: Mapping[str, ServiceDay]
) -> Decision:
    """`days` holds the booking's `reservation_streams`."""
    decision = DecisionBuilder()
    events = booking_decider.decide(command, booking)
    streams = streams_of(command.venue_id)
    decision.add(streams.booking(command.booking_id), events)
    for event in events:
        reason = _RELEASES.get(type(event))
        if reason is not None and not isinstance(booking, NoBooking):
            release(decision, streams, booking.details, reason, days, command.now)
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
