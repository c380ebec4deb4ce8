"""The floor the stats projection measures occupancy against, day by day.

A day's open seat-minutes are the minutes the venue is open that day times the seats of
its tables, and 0 on a closure. Which hours and which tables count for a day is decided by
the events alone, never by the clock or by how the log was cut into batches:

- a table added, changed or retired counts from the venue-local date of the instant its
  event carries (`added_at`, `changed_at`, `retired_at`: the command's "now");
- new opening hours count from the local date of their `changed_at` (events written
  before that field existed count from the date they were recorded);
- a closure counts for its own date, whenever it was added or removed;
- a day's floor is every such change dated on or before it, applied in log order.

So adding a table today leaves last month's occupancy as it was, and a rebuild, a replay
and a daemon that read the log in any batches give the same numbers. The history is kept
as versions, one per date on which the floor changed: a change dated D is applied to the
version of D (made from the one before it, if there was none) and to every later one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from booking_core.domain.events import (
    ClosureAdded,
    ClosureRemoved,
    OpeningHoursChanged,
    SlotSettingsChanged,
    TableAdded,
    TableChanged,
    TableRetired,
)
from booking_core.domain.time_rules import shifts_of
from booking_core.domain.values import OpeningHours

__all__ = ["FLOOR_EVENTS", "Floor", "FloorVersion"]

FLOOR_EVENTS = (
    TableAdded,
    TableChanged,
    TableRetired,
    OpeningHoursChanged,
    SlotSettingsChanged,
    ClosureAdded,
    ClosureRemoved,
)

_Change = Callable[["FloorVersion"], None]


class FloorVersion(msgspec.Struct, kw_only=True):
    """The hours and tables in force from `since` until the next version."""

    since: dt.date
    opening_hours: OpeningHours = msgspec.field(default_factory=OpeningHours)
    capacities: dict[str, int] = msgspec.field(default_factory=dict)

    def copy(self, since: dt.date) -> FloorVersion:
        return FloorVersion(
            since=since, opening_hours=self.opening_hours, capacities=dict(self.capacities)
        )


class Floor(msgspec.Struct, kw_only=True):
    time_zone: str = "UTC"
    closures: list[dt.date] = msgspec.field(default_factory=list)
    versions: list[FloorVersion] = msgspec.field(default_factory=list)

    @property
    def latest(self) -> FloorVersion:
        return self.versions[-1] if self.versions else FloorVersion(since=dt.date.min)

    def version_on(self, day: dt.date) -> FloorVersion | None:
        found = None
        for version in self.versions:
            if version.since > day:
                break
            found = version
        return found

    def open_seat_minutes(self, day: dt.date) -> int:
        version = self.version_on(day)
        if version is None or day in self.closures:
            return 0
        minutes = sum(
            int((shift.closes - shift.opens) / dt.timedelta(minutes=1))
            for shift in shifts_of(version.opening_hours, day)
        )
        return minutes * sum(version.capacities.values())

    def apply(self, event: object, recorded_at: dt.datetime) -> dt.date | None:
        """Apply a floor event; the first day whose numbers it may change, or None for an
        event that is not about the floor."""
        match event:
            case TableAdded():
                return self._change(event.added_at, _seats(event.table_id, event.capacity))
            case TableChanged():
                return self._change(event.changed_at, _seats(event.table_id, event.capacity))
            case TableRetired():
                return self._change(event.retired_at, _seats(event.table_id, None))
            case OpeningHoursChanged():
                return self._change(event.changed_at or recorded_at, _hours(event.hours))
            case SlotSettingsChanged():
                self.time_zone = event.time_zone
                return None
            case ClosureAdded():
                if event.date not in self.closures:
                    self.closures.append(event.date)
                    self.closures.sort()
                return event.date
            case ClosureRemoved():
                if event.date in self.closures:
                    self.closures.remove(event.date)
                return event.date
        return None

    def _change(self, at: dt.datetime, change: _Change) -> dt.date:
        since = at.astimezone(self._zone()).date()
        index = next((i for i, v in enumerate(self.versions) if v.since >= since), None)
        if index is None or self.versions[index].since != since:
            before = [v for v in self.versions if v.since < since]
            version = before[-1].copy(since) if before else FloorVersion(since=since)
            index = len(before)
            self.versions.insert(index, version)
        for version in self.versions[index:]:
            change(version)
        return since

    def _zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")


def _seats(table_id: str, capacity: int | None) -> _Change:
    def change(version: FloorVersion) -> None:
        if capacity is None:
            version.capacities.pop(table_id, None)
        else:
            version.capacities[table_id] = capacity

    return change


def _hours(hours: OpeningHours) -> _Change:
    def change(version: FloorVersion) -> None:
        version.opening_hours = hours

    return change
