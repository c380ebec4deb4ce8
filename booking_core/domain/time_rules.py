"""Venue time: wall clock, shifts, service dates and the slot grid.

Rules enforced here:

- A booking starts inside an opening shift. Shifts are wall-clock times of a weekday; a
  shift whose closing time is at or before its opening runs past midnight, and a start
  after midnight in such a shift belongs to the *previous* service date (00:30 on Sunday
  after Saturday's 18:00-01:30 shift is Saturday's business).
- Start times lie on the slot grid: every `interval_minutes` from the shift's opening.
- The whole turn fits before the shift closes, measured in real elapsed time (a turn over
  a daylight-saving change is as long as the clock says it is, not one hour more or less).
- Not on a whole-day closure (of the service date), not in the past, not sooner than the
  minimum lead time, not more than `max_days_ahead` days after the venue's today.
- A wall-clock time skipped by a daylight-saving change is refused; an ambiguous one
  (clocks going back) means its first occurrence.
- Shifts never overlap, within a day or across midnight into the next, and last at most
  24 hours. So a booking of service date `d` lies between `d` 00:00 and `d+2` 00:00, and
  only bookings of `d-1`, `d` and `d+1` can overlap it in time (see `service_day`).

`resolve_slot` is the one rule for "is this start bookable", used by the booking deciders
and by the availability reads, so the two cannot drift apart: `place_start` decides what
does not move with the clock (once per read-model snapshot, for the reads), `check_clock`
what does (on every request).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booking_core.domain.errors import (
    BeyondBookingWindow,
    ClosedOnDate,
    DomainError,
    InsideLeadTime,
    InvalidOpeningHours,
    NonexistentLocalTime,
    OffSlotGrid,
    OutsideOpeningHours,
    StartInPast,
    TurnRunsPastClose,
)
from booking_core.domain.values import OpeningHours, Shift, SlotSettings

__all__ = [
    "ShiftOccurrence",
    "Slot",
    "bookable_starts",
    "calendar_dates",
    "check_clock",
    "check_opening_hours",
    "day_slots",
    "is_time_zone",
    "local_today",
    "place_start",
    "resolve_slot",
    "shift_at",
    "shifts_of",
    "to_instant",
    "to_local",
    "zone",
]

_DAY = timedelta(days=1)
_WEEK_MINUTES = 7 * 24 * 60
_STAFF_DAYS_AHEAD = 3660
"""Staff are not held to the booking window, but a start ten years out is a typo."""


@dataclass(frozen=True, slots=True)
class ShiftOccurrence:
    """One shift on one service date, as naive venue-local datetimes."""

    service_date: date
    opens: datetime
    closes: datetime


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a booking sits in time: local wall clock, UTC instants and its service date."""

    service_date: dt.date
    date: dt.date
    time: dt.time
    end_date: dt.date
    end_time: dt.time
    starts_at: dt.datetime
    ends_at: dt.datetime
    duration_minutes: int


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_time_zone(name: str) -> bool:
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def to_instant(local: datetime, time_zone: str, *, strict: bool = True) -> datetime:
    """The UTC instant of a naive venue-local datetime.

    Strict: a time skipped by a daylight-saving change raises `NonexistentLocalTime`;
    otherwise it maps as the clock before the change would (used for closing times). A
    moment at the very edge of the calendar, with no instant, raises it either way.
    """
    tz = zone(time_zone)
    try:
        instant = local.replace(tzinfo=tz).astimezone(UTC)
        if strict and instant.astimezone(tz).replace(tzinfo=None) != local:
            raise NonexistentLocalTime(local, time_zone)
    except OverflowError as error:
        raise NonexistentLocalTime(local, time_zone) from error
    return instant


def to_local(instant: datetime, time_zone: str) -> datetime:
    return instant.astimezone(zone(time_zone)).replace(tzinfo=None)


def local_today(now: datetime, time_zone: str) -> date:
    return to_local(now, time_zone).date()


def shifts_of(hours: OpeningHours, service_date: date) -> list[ShiftOccurrence]:
    occurrences = []
    for shift in hours.of_weekday(service_date.weekday()):
        if shift.crosses_midnight and service_date == date.max:
            continue  # its end is past the last date there is
        opens = datetime.combine(service_date, shift.opens)
        closes = datetime.combine(
            service_date + _DAY if shift.crosses_midnight else service_date, shift.closes
        )
        occurrences.append(ShiftOccurrence(service_date, opens, closes))
    return sorted(occurrences, key=lambda occurrence: occurrence.opens)


def shift_at(hours: OpeningHours, local: datetime) -> ShiftOccurrence | None:
    """The shift open at a local wall-clock moment, this day's or last night's."""
    day = local.date()
    last_night = shifts_of(hours, day - _DAY) if day > date.min else []
    for occurrence in last_night + shifts_of(hours, day):
        if occurrence.opens <= local < occurrence.closes:
            return occurrence
    return None


def calendar_dates(starts_at: datetime, ends_at: datetime, time_zone: str) -> tuple[date, ...]:
    """The local calendar dates a period `[starts_at, ends_at)` touches."""
    first = to_local(starts_at, time_zone).date()
    last = to_local(ends_at - timedelta(microseconds=1), time_zone).date()
    return tuple(first + _DAY * offset for offset in range((last - first).days + 1))


def check_opening_hours(hours: OpeningHours) -> None:
    """Raise `InvalidOpeningHours` unless the week's shifts are whole minutes and never
    overlap, counting the part of a shift that runs past midnight into the next day. Every
    fault is reported at once, each on the shift's `open` or `close` (`monday[1].open`)."""
    problems: list[tuple[str, str]] = []
    spans: list[tuple[int, int, str, str]] = []  # start, end, path, label (week minutes)
    day_names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    for weekday, shifts in enumerate(hours.by_weekday()):
        for index, shift in enumerate(shifts):
            path = f"{day_names[weekday]}[{index}]"
            problems += _whole_minute_problems(shift, path)
            opens = _minutes(shift.opens)
            length = (_minutes(shift.closes) - opens) % (24 * 60) or 24 * 60
            start = weekday * 24 * 60 + opens
            label = f"{day_names[weekday].capitalize()}'s {_label(shift)}"
            spans.append((start, start + length, path, label))
    spans.sort()
    # A shift that opens before the one before it closes is the one at fault; Monday's
    # first shift is at fault when Sunday's last runs past midnight into it.
    pairs = list(pairwise(spans))
    if len(spans) > 1:
        last = spans[-1]
        pairs.append(((last[0], last[1] - _WEEK_MINUTES, last[2], last[3]), spans[0]))
    for (_, end, _, label), (start, _, path, _) in pairs:
        if start < end:
            problems.append((f"{path}.open", f"overlaps {label}"))
    InvalidOpeningHours.check(problems)


def resolve_slot(
    settings: SlotSettings,
    hours: OpeningHours,
    closures: Mapping[date, str],
    *,
    day: date,
    at: time,
    duration_minutes: int,
    now: datetime,
    notice: bool = True,
    grid: bool = True,
    in_hours: bool = True,
) -> Slot:
    """Place a start at local `day` and `at` in time, or raise the first rule it breaks.

    A start is bookable exactly when `place_start` accepts it and `check_clock` passes;
    the order only chooses which refusal a caller hears first: the past and the lead
    time before the venue's hours (on dates alone first, so that absurd years never
    reach time zone arithmetic), a time that does not exist before either.

    Staff book without the guests' notice (`notice=False`: no lead time, no booking
    window, and the current minute is not yet past); a walk-in starts off the slot grid
    (`grid=False`); an override sets the venue's hours aside (`in_hours=False`)."""
    today = local_today(now, settings.time_zone)
    if (today - day).days > 1:
        raise StartInPast(datetime.combine(day, at))
    ahead = settings.max_days_ahead if notice else _STAFF_DAYS_AHEAD
    if (day - today).days > ahead + 1:
        raise BeyondBookingWindow(day, ahead)
    starts_at = to_instant(datetime.combine(day, at), settings.time_zone)
    if notice:
        _check_notice(settings, starts_at, now)
    elif starts_at < now.replace(second=0, microsecond=0):
        raise StartInPast(starts_at)
    slot = place_start(
        settings,
        hours,
        closures,
        day=day,
        at=at,
        duration_minutes=duration_minutes,
        grid=grid,
        in_hours=in_hours,
    )
    if notice:
        check_clock(settings, slot, now, today=today)
    return slot


def place_start(
    settings: SlotSettings,
    hours: OpeningHours,
    closures: Mapping[date, str],
    *,
    day: date,
    at: time,
    duration_minutes: int,
    grid: bool = True,
    in_hours: bool = True,
) -> Slot:
    """The rules of a start that do not move with the clock: the local time exists, lies
    in a shift on its grid, on a service date that is not closed, and the whole turn fits
    before the shift closes. Raises the first one broken.

    Without `in_hours` (an override) only the time must exist: a start outside every
    shift belongs to its own calendar date."""
    local = datetime.combine(day, at)
    starts_at = to_instant(local, settings.time_zone)
    ends_at = starts_at + timedelta(minutes=duration_minutes)
    occurrence = shift_at(hours, local)
    service_date = day if occurrence is None else occurrence.service_date
    if in_hours:
        if occurrence is None:
            raise OutsideOpeningHours(local)
        if occurrence.service_date in closures:
            raise ClosedOnDate(occurrence.service_date, closures[occurrence.service_date])
        if grid and (local - occurrence.opens) % timedelta(minutes=settings.interval_minutes):
            raise OffSlotGrid(local, settings.interval_minutes)
        closes_at = to_instant(occurrence.closes, settings.time_zone, strict=False)
        if ends_at > closes_at:
            raise TurnRunsPastClose(to_local(ends_at, settings.time_zone), occurrence.closes)
    end = to_local(ends_at, settings.time_zone)
    return Slot(
        service_date=service_date,
        date=day,
        time=at,
        end_date=end.date(),
        end_time=end.time(),
        starts_at=starts_at,
        ends_at=ends_at,
        duration_minutes=duration_minutes,
    )


def check_clock(
    settings: SlotSettings, slot: Slot, now: datetime, *, today: date | None = None
) -> None:
    """The rules of a start that move with the clock: not in the past, not inside the
    lead time, and its service date within `max_days_ahead` days of the venue's today
    (`today`: the venue's date at `now`, for a caller asking about many starts at once)."""
    _check_notice(settings, slot.starts_at, now)
    if today is None:
        today = local_today(now, settings.time_zone)
    if (slot.service_date - today).days > settings.max_days_ahead:
        raise BeyondBookingWindow(slot.service_date, settings.max_days_ahead)


def _check_notice(settings: SlotSettings, starts_at: datetime, now: datetime) -> None:
    if starts_at < now:
        raise StartInPast(starts_at)
    if starts_at < now + timedelta(minutes=settings.min_lead_minutes):
        raise InsideLeadTime(starts_at, settings.min_lead_minutes)


def day_slots(
    settings: SlotSettings,
    hours: OpeningHours,
    closures: Mapping[date, str],
    service_date: date,
    duration_minutes: int,
) -> list[Slot]:
    """Every start of a service date that `place_start` accepts, in order, before any
    table or the clock is considered: the candidates of the availability reads, each
    placed by the same rule a booking is."""
    if service_date in closures:
        return []
    step = timedelta(minutes=settings.interval_minutes)
    slots = []
    for occurrence in shifts_of(hours, service_date):
        local = occurrence.opens
        while local < occurrence.closes:
            try:
                slot = place_start(
                    settings,
                    hours,
                    closures,
                    day=local.date(),
                    at=local.time(),
                    duration_minutes=duration_minutes,
                )
            except DomainError:
                pass
            else:
                if slot.service_date == service_date:
                    slots.append(slot)
            local += step
    return slots


def bookable_starts(
    settings: SlotSettings,
    hours: OpeningHours,
    closures: Mapping[date, str],
    service_date: date,
    duration_minutes: int,
) -> list[datetime]:
    """The local start times of `day_slots`."""
    return [
        datetime.combine(slot.date, slot.time)
        for slot in day_slots(settings, hours, closures, service_date, duration_minutes)
    ]


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _label(shift: Shift) -> str:
    return f"{shift.opens:%H:%M}-{shift.closes:%H:%M}"


def _whole_minute_problems(shift: Shift, path: str) -> list[tuple[str, str]]:
    return [
        (f"{path}.{name}", "shifts open and close on whole local minutes")
        for name, moment in (("open", shift.opens), ("close", shift.closes))
        if moment.second or moment.microsecond or moment.tzinfo is not None
    ]
