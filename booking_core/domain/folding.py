"""From a stream's events to its state: which decider a stream id belongs to, and folding.

Each decider's `evolve` takes only its own events; `StreamKind.evolve` takes any event
and refuses one that does not belong in that kind of stream, which can only mean a bug
or a corrupted store, never something to skip quietly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from booking_core.domain import (
    booking,
    guest,
    pacing,
    registry,
    service_day,
    table,
    venue,
    waitlist,
)
from booking_core.domain.events import (
    BookingEvent,
    Event,
    PacingEvent,
    PersonEvent,
    ServiceDayEvent,
    SlugEvent,
    TableEvent,
    VenueEvent,
    WaitlistEvent,
)
from booking_core.domain.streams import (
    BOOKING_PREFIX,
    PACING_PREFIX,
    PERSON_PREFIX,
    SLUG_PREFIX,
    TABLE_PREFIX,
    VENUE,
    WAITLIST_PREFIX,
    is_registry_stream,
    local_name,
)

__all__ = [
    "BOOKING",
    "PACING",
    "PERSON",
    "SERVICE_DAY",
    "SLUG",
    "TABLE",
    "VENUE_KIND",
    "WAITLIST",
    "StreamKind",
    "kind_of",
]

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class StreamKind(Generic[S]):
    name: str
    initial: S
    evolve: Callable[[S, Event], S]

    def fold(self, events: Iterable[Event], state: S | None = None) -> S:
        current = self.initial if state is None else state
        for event in events:
            current = self.evolve(current, event)
        return current


def _venue(state: venue.VenueState, event: Event) -> venue.VenueState:
    if not isinstance(event, VenueEvent):
        raise _misplaced(event, "venue")
    return venue.evolve(state, event)


def _table(state: table.TableState, event: Event) -> table.TableState:
    if not isinstance(event, TableEvent):
        raise _misplaced(event, "table")
    return table.evolve(state, event)


def _service_day(state: service_day.ServiceDay, event: Event) -> service_day.ServiceDay:
    if not isinstance(event, ServiceDayEvent):
        raise _misplaced(event, "service day")
    return service_day.evolve(state, event)


def _booking(state: booking.BookingState, event: Event) -> booking.BookingState:
    if not isinstance(event, BookingEvent):
        raise _misplaced(event, "booking")
    return booking.evolve(state, event)


def _pacing(state: pacing.PacingDay, event: Event) -> pacing.PacingDay:
    if not isinstance(event, PacingEvent):
        raise _misplaced(event, "pacing")
    return pacing.evolve(state, event)


def _slug(state: registry.SlugHold, event: Event) -> registry.SlugHold:
    if not isinstance(event, SlugEvent):
        raise _misplaced(event, "slug")
    return registry.evolve_slug(state, event)


def _waitlist(state: waitlist.Waitlist, event: Event) -> waitlist.Waitlist:
    if not isinstance(event, WaitlistEvent):
        raise _misplaced(event, "waitlist")
    return waitlist.evolve(state, event)


def _person(state: guest.GuestProfile, event: Event) -> guest.GuestProfile:
    if not isinstance(event, PersonEvent):
        raise _misplaced(event, "guest profile")
    return guest.evolve(state, event)


def _misplaced(event: Event, kind: str) -> ValueError:
    return ValueError(f"a {type(event).__name__} does not belong in a {kind} stream")


VENUE_KIND: Final[StreamKind[venue.VenueState]] = StreamKind("venue", venue.initial_state, _venue)
TABLE: Final[StreamKind[table.TableState]] = StreamKind("table", table.initial_state, _table)
SERVICE_DAY: Final[StreamKind[service_day.ServiceDay]] = StreamKind(
    "service day", service_day.initial_state, _service_day
)
BOOKING: Final[StreamKind[booking.BookingState]] = StreamKind(
    "booking", booking.initial_state, _booking
)
PACING: Final[StreamKind[pacing.PacingDay]] = StreamKind("pacing", pacing.initial_state, _pacing)

SLUG: Final[StreamKind[registry.SlugHold]] = StreamKind("slug", registry.initial_hold, _slug)
WAITLIST: Final[StreamKind[waitlist.Waitlist]] = StreamKind(
    "waitlist", waitlist.initial_state, _waitlist
)

PERSON: Final[StreamKind[guest.GuestProfile]] = StreamKind(
    "guest profile", guest.initial_state, _person
)


def kind_of(stream_id: str) -> StreamKind[Any]:
    """The kind of a stream of any venue."""
    name = local_name(stream_id)
    if is_registry_stream(stream_id) and name.startswith(SLUG_PREFIX):
        return SLUG
    if name == VENUE:
        return VENUE_KIND
    if name.startswith(BOOKING_PREFIX):
        return BOOKING
    if name.startswith(PACING_PREFIX):
        return PACING
    if name.startswith(WAITLIST_PREFIX):
        return WAITLIST
    if name.startswith(PERSON_PREFIX):
        return PERSON
    if name.startswith(TABLE_PREFIX):
        return SERVICE_DAY if "@" in name else TABLE
    raise ValueError(f"no domain stream is called {stream_id!r}")
