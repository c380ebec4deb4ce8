"""Small value types shared by commands, events and states.

They are msgspec Structs because events carry them; they are frozen so a state holding
one can never be changed behind a decider's back. Times of day and dates are venue-local
wall-clock values; instants elsewhere are aware UTC datetimes.
"""

from __future__ import annotations

from datetime import time
from typing import Literal

import msgspec

__all__ = [
    "BookingSource",
    "Canvas",
    "LayoutArea",
    "LayoutTable",
    "OpeningHours",
    "Override",
    "PacingRule",
    "Shift",
    "SlotSettings",
    "TableShape",
    "TurnTime",
]

TableShape = Literal["rectangle", "square", "round", "oval"]

BookingSource = Literal["online", "phone", "walk_in"]
"""How a booking came in: a guest online, or staff for a caller or a walk-in."""


class Override(msgspec.Struct, frozen=True, kw_only=True):
    """A rule a member of staff set aside for one decision, and who did it: kept in the
    event, so the booking's history says why it breaks the venue's rules."""

    reason: str
    given_by: str
    """The user id of the member of staff."""


class Shift(msgspec.Struct, frozen=True, kw_only=True):
    """Open from `opens` to `closes`; a `closes` at or before `opens` is on the next day
    (18:00-01:30 runs past midnight)."""

    opens: time
    closes: time

    @property
    def crosses_midnight(self) -> bool:
        return self.closes <= self.opens


class OpeningHours(msgspec.Struct, frozen=True, kw_only=True):
    """The shifts of each weekday; a day without shifts is closed."""

    monday: tuple[Shift, ...] = ()
    tuesday: tuple[Shift, ...] = ()
    wednesday: tuple[Shift, ...] = ()
    thursday: tuple[Shift, ...] = ()
    friday: tuple[Shift, ...] = ()
    saturday: tuple[Shift, ...] = ()
    sunday: tuple[Shift, ...] = ()

    def of_weekday(self, weekday: int) -> tuple[Shift, ...]:
        """Shifts of `date.weekday()` (Monday is 0)."""
        return self.by_weekday()[weekday]

    def by_weekday(self) -> tuple[tuple[Shift, ...], ...]:
        return (
            self.monday,
            self.tuesday,
            self.wednesday,
            self.thursday,
            self.friday,
            self.saturday,
            self.sunday,
        )

    @classmethod
    def every_day(cls, *shifts: Shift) -> OpeningHours:
        return cls(
            monday=shifts,
            tuesday=shifts,
            wednesday=shifts,
            thursday=shifts,
            friday=shifts,
            saturday=shifts,
            sunday=shifts,
        )


class PacingRule(msgspec.Struct, frozen=True, kw_only=True):
    """At most `max_covers` guests and/or `max_bookings` parties may start in any window of
    `per_minutes`, counting the starts this rule covers: on service days of `weekday`
    (Monday is 0; None: every day), from `from_time` (inclusive) to `to_time` (exclusive),
    venue-local (None: from the start, to the end, of the service day)."""

    per_minutes: int
    weekday: int | None = None
    from_time: time | None = None
    to_time: time | None = None
    max_covers: int | None = None
    max_bookings: int | None = None


class TurnTime(msgspec.Struct, frozen=True, kw_only=True):
    """Parties of up to `max_party_size` keep a table for `minutes`."""

    max_party_size: int
    minutes: int


class SlotSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How start times and table turns are laid out.

    - start times are `interval_minutes` apart, counted from each shift's opening;
    - a party keeps its table for the turn time of the smallest bracket that holds it (the
      largest bracket for a party bigger than all of them);
    - `buffer_minutes` stay free between two bookings on one table;
    - a booking starts at least `min_lead_minutes` from now and at most `max_days_ahead`
      days after today, both in `time_zone`;
    - `pacing` caps the covers and bookings that start together.
    """

    interval_minutes: int = 15
    turn_times: tuple[TurnTime, ...] = (
        TurnTime(max_party_size=2, minutes=90),
        TurnTime(max_party_size=4, minutes=120),
        TurnTime(max_party_size=8, minutes=150),
        TurnTime(max_party_size=20, minutes=180),
    )
    buffer_minutes: int = 15
    min_lead_minutes: int = 60
    max_days_ahead: int = 90
    time_zone: str = "UTC"
    pacing: tuple[PacingRule, ...] = ()
    """How many guests and parties may start together (see `domain.pacing`)."""

    def turn_minutes(self, party_size: int) -> int:
        brackets = sorted(self.turn_times, key=lambda turn: turn.max_party_size)
        for turn in brackets:
            if party_size <= turn.max_party_size:
                return turn.minutes
        return brackets[-1].minutes


class LayoutTable(msgspec.Struct, frozen=True, kw_only=True):
    """Where a table stands in one layout."""

    table_id: str
    x: float
    y: float
    width: float = 1.0
    height: float = 1.0
    rotation: float = 0.0
    shape: TableShape = "rectangle"


class LayoutArea(msgspec.Struct, frozen=True, kw_only=True):
    """A named region of the floor plan (terrace, bar, window)."""

    name: str
    x: float
    y: float
    width: float
    height: float
    color: str | None = None


class Canvas(msgspec.Struct, frozen=True, kw_only=True):
    width: float
    height: float
    background: str | None = None
