"""The Harbour Bistro, for tests: a venue, its tables and guests, and an in-memory world of
streams that pure decisions are applied to.

The bistro is in London (UTC in December). It is closed on Mondays; Tuesday to Thursday
17:00-23:00; Friday and Saturday 17:00-01:00 (past midnight); Sunday a lunch shift
12:00-15:00 and a dinner shift 17:00-22:00. Start times every 15 minutes; parties of up
to 2 keep a table 90 minutes, up to 4 for 120, up to 8 for 150; 15 minutes between
bookings; bookings at least an hour ahead and at most 60 days.

"Now" is Tuesday 1 December 2026, 10:00.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from booking_core.codec import Event
from booking_core.domain import lifecycle, placement
from booking_core.domain.booking import (
    BookingDetails,
    BookingState,
    NoBooking,
    require_changeable,
)
from booking_core.domain.commands import Actor, BookTable, ChangeBooking
from booking_core.domain.decision import Decision
from booking_core.domain.errors import NoTableAvailable
from booking_core.domain.events import (
    OpeningHoursChanged,
    SlotSettingsChanged,
    TableAdded,
    TableRegistered,
)
from booking_core.domain.folding import kind_of
from booking_core.domain.lifecycle import LifecycleCommand
from booking_core.domain.pacing import PacingDay
from booking_core.domain.service_day import ServiceDay
from booking_core.domain.streams import PACING_PREFIX, local_name
from booking_core.domain.table import TableState
from booking_core.domain.values import OpeningHours, Shift, TurnTime
from booking_core.domain.venue import VenueState
from tests.support.scope import STREAMS, TEST_VENUE

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
CHRISTMAS_EVE = date(2026, 12, 24)  # a Thursday
FRIDAY = date(2026, 12, 4)
SATURDAY = date(2026, 12, 5)
SUNDAY = date(2026, 12, 6)
MONDAY = date(2026, 12, 7)

ADMIN = Actor(user_id="u-maitre-d", role="admin")
ADA = Actor(user_id="u-ada")
GRACE = Actor(user_id="u-grace")
ALAN = Actor(user_id="u-alan")

_WEEKDAY_DINNER = (Shift(opens=time(17), closes=time(23)),)
_WEEKEND_DINNER = (Shift(opens=time(17), closes=time(1)),)

HOURS = OpeningHours(
    tuesday=_WEEKDAY_DINNER,
    wednesday=_WEEKDAY_DINNER,
    thursday=_WEEKDAY_DINNER,
    friday=_WEEKEND_DINNER,
    saturday=_WEEKEND_DINNER,
    sunday=(Shift(opens=time(12), closes=time(15)), Shift(opens=time(17), closes=time(22))),
)

SETTINGS = SlotSettingsChanged(
    interval_minutes=15,
    turn_times=(
        TurnTime(max_party_size=2, minutes=90),
        TurnTime(max_party_size=4, minutes=120),
        TurnTime(max_party_size=8, minutes=150),
    ),
    buffer_minutes=15,
    min_lead_minutes=60,
    max_days_ahead=60,
    time_zone="Europe/London",
)

# (table id, name, capacity, minimum party)
TABLES = (
    ("t-bar", "BAR-2", 2, 1),
    ("t-window", "WINDOW-4", 4, 2),
    ("t-corner", "CORNER-4", 4, 2),
    ("t-booth", "BOOTH-6", 6, 3),
    ("t-terrace", "TERRACE-8", 8, 4),
)

_ids = itertools.count(1)


def command_id() -> str:
    return f"cmd-{next(_ids)}"


def table_added(table_id: str, name: str, capacity: int, min_capacity: int = 1) -> TableAdded:
    return TableAdded(
        table_id=table_id,
        name=name,
        capacity=capacity,
        min_capacity=min_capacity,
        added_at=NOW,
    )


def book(
    booking_id: str = "b-ada",
    *,
    day: date = CHRISTMAS_EVE,
    at: time = time(19),
    party_size: int = 2,
    guest_name: str = "Ada Lovelace",
    actor: Actor = ADA,
    table_ids: tuple[str, ...] = (),
    duration_minutes: int | None = None,
    now: datetime = NOW,
) -> BookTable:
    return BookTable(
        venue_id=TEST_VENUE,
        command_id=command_id(),
        actor=actor,
        now=now,
        booking_id=booking_id,
        date=day,
        time=at,
        party_size=party_size,
        guest_name=guest_name,
        table_ids=table_ids,
        duration_minutes=duration_minutes,
    )


@dataclass
class World:
    """Streams as lists of events; decisions are applied as an append would."""

    streams: dict[str, list[Event]] = field(default_factory=dict)

    def given(self, stream_id: str, *events: Event) -> World:
        self.streams.setdefault(stream_id, []).extend(events)
        return self

    def apply(self, decision: Decision) -> Decision:
        for stream_id, events in decision.events.items():
            if events:
                self.given(stream_id, *events)
        return decision

    def state(self, stream_id: str) -> Any:
        return kind_of(stream_id).fold(self.streams.get(stream_id, []))

    @property
    def venue(self) -> VenueState:
        state: VenueState = self.state(STREAMS.venue)
        return state

    @property
    def tables(self) -> Mapping[str, TableState]:
        return {
            local_name(stream_id)[len("table-") :]: self.state(stream_id)
            for stream_id in self.streams
            if local_name(stream_id).startswith("table-") and "@" not in stream_id
        }

    @property
    def days(self) -> Mapping[str, ServiceDay]:
        return {
            stream_id: self.state(stream_id)
            for stream_id in self.streams
            if local_name(stream_id).startswith("table-") and "@" in stream_id
        }

    @property
    def paced(self) -> Mapping[str, PacingDay]:
        return {
            stream_id: self.state(stream_id)
            for stream_id in self.streams
            if local_name(stream_id).startswith(PACING_PREFIX)
        }

    def booking(self, booking_id: str) -> BookingState:
        state: BookingState = self.state(STREAMS.booking(booking_id))
        return state

    def details(self, booking_id: str) -> BookingDetails:
        state = self.booking(booking_id)
        assert not isinstance(state, NoBooking), f"no booking {booking_id}"
        return state.details

    def change(self, command: ChangeBooking) -> Decision:
        """Decide a change the way the handler does (own tables first) and apply it."""
        booking = self.booking(command.booking_id)
        move = placement.plan_move(command, booking, self.venue)
        if move is None:
            return self.apply(
                placement.decide_change(
                    command, booking=booking, venue=self.venue, tables={}, days={}
                )
            )
        details = require_changeable(booking, command).details
        choices = placement.move_choices(move, details, self.venue, self.tables)
        for option in choices.options:
            try:
                decision = placement.decide_change(
                    command,
                    booking=booking,
                    venue=self.venue,
                    tables=self.tables,
                    days=self.days,
                    table_ids=option,
                    paced=self.paced,
                )
            except placement.UNAVAILABLE:
                if choices.explicit:
                    raise
            else:
                return self.apply(decision)
        raise NoTableAvailable(move.party_size)

    def step(self, command: LifecycleCommand) -> Decision:
        """Cancel, seat, complete or mark a no-show, and apply it."""
        booking = self.booking(command.booking_id)
        return self.apply(
            lifecycle.decide_step(command, booking=booking, days=self.days, paced=self.paced)
        )

    def book(self, command: BookTable) -> Decision:
        """Decide a booking (auto-assigning when no table is named) and apply it."""
        return self.apply(
            placement.decide_first_free(
                command,
                booking=self.booking(command.booking_id),
                venue=self.venue,
                tables=self.tables,
                days=self.days,
                paced=self.paced,
            )
        )


def bistro(tables: tuple[tuple[str, str, int, int], ...] = TABLES) -> World:
    world = World()
    world.given(STREAMS.venue, OpeningHoursChanged(hours=HOURS), SETTINGS)
    for table_id, name, capacity, min_capacity in tables:
        world.given(STREAMS.venue, TableRegistered(table_id=table_id, name=name))
        world.given(STREAMS.table(table_id), table_added(table_id, name, capacity, min_capacity))
    return world
