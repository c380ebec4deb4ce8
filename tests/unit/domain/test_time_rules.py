"""Venue time: shifts past midnight, service dates, the slot grid, daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking_core.domain.errors import DomainError, InvalidOpeningHours, NonexistentLocalTime
from booking_core.domain.time_rules import (
    bookable_starts,
    calendar_dates,
    check_clock,
    check_opening_hours,
    day_slots,
    place_start,
    resolve_slot,
    shift_at,
    to_instant,
)
from booking_core.domain.values import OpeningHours, Shift, SlotSettings
from tests.unit.domain.world import FRIDAY, HOURS, SATURDAY, SUNDAY

LONDON = SlotSettings(
    interval_minutes=30, min_lead_minutes=0, max_days_ahead=400, time_zone="Europe/London"
)
ALL_NIGHT = OpeningHours.every_day(Shift(opens=time(20), closes=time(4)))


@pytest.mark.parametrize(
    ("local", "service_date"),
    [
        pytest.param(datetime(2026, 12, 4, 23, 45), FRIDAY, id="a quarter to midnight on Friday"),
        pytest.param(datetime(2026, 12, 5, 0, 30), FRIDAY, id="half past midnight is still Friday"),
        pytest.param(datetime(2026, 12, 5, 19, 0), SATURDAY, id="Saturday evening is Saturday"),
        pytest.param(datetime(2026, 12, 6, 0, 30), SATURDAY, id="after Saturday's late shift"),
        pytest.param(datetime(2026, 12, 6, 13, 0), SUNDAY, id="Sunday lunch is Sunday"),
    ],
)
def test_a_start_belongs_to_the_service_date_of_its_shift(
    local: datetime, service_date: date
) -> None:
    occurrence = shift_at(HOURS, local)

    assert occurrence is not None
    assert occurrence.service_date == service_date


def test_after_a_late_shift_closes_the_venue_is_closed() -> None:
    assert shift_at(HOURS, datetime(2026, 12, 5, 1, 0)) is None


@pytest.mark.parametrize(
    "hours",
    [
        pytest.param(
            OpeningHours(monday=(Shift(opens=time(12), closes=time(15)),) * 2),
            id="the same shift twice",
        ),
        pytest.param(
            OpeningHours(
                monday=(
                    Shift(opens=time(12), closes=time(15)),
                    Shift(opens=time(14), closes=time(22)),
                )
            ),
            id="lunch running into dinner",
        ),
        pytest.param(
            OpeningHours(
                friday=(Shift(opens=time(18), closes=time(2)),),
                saturday=(Shift(opens=time(1), closes=time(5)),),
            ),
            id="a late Friday running into an early Saturday",
        ),
        pytest.param(
            OpeningHours(
                sunday=(Shift(opens=time(18), closes=time(3)),),
                monday=(Shift(opens=time(2), closes=time(5)),),
            ),
            id="Sunday night running into Monday across the week's end",
        ),
        pytest.param(
            OpeningHours(monday=(Shift(opens=time(12, 0, 30), closes=time(15)),)),
            id="a shift opening on a second that is not a whole minute",
        ),
    ],
)
def test_overlapping_or_ragged_shifts_are_refused(hours: OpeningHours) -> None:
    with pytest.raises(InvalidOpeningHours):
        check_opening_hours(hours)


def test_a_venue_open_round_the_clock_every_day_is_allowed() -> None:
    check_opening_hours(OpeningHours.every_day(Shift(opens=time(0), closes=time(0))))
    check_opening_hours(HOURS)
    check_opening_hours(ALL_NIGHT)


def test_a_wall_clock_time_skipped_by_the_clocks_going_forward_does_not_exist() -> None:
    with pytest.raises(NonexistentLocalTime):
        to_instant(datetime(2026, 3, 29, 1, 30), "Europe/London")


def test_an_ambiguous_time_when_the_clocks_go_back_is_its_first_occurrence() -> None:
    assert to_instant(datetime(2026, 10, 25, 1, 30), "Europe/London") == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


def test_a_turn_across_the_clocks_going_forward_lasts_its_real_length() -> None:
    slot = resolve_slot(
        LONDON,
        ALL_NIGHT,
        {},
        day=date(2026, 3, 29),
        at=time(0, 30),
        duration_minutes=120,
        now=datetime(2026, 3, 1, tzinfo=UTC),
    )

    assert (slot.service_date, slot.end_time) == (date(2026, 3, 28), time(3, 30))
    assert (slot.ends_at - slot.starts_at).total_seconds() == 120 * 60


def test_bookable_starts_skip_a_time_that_does_not_exist() -> None:
    starts = bookable_starts(LONDON, ALL_NIGHT, {}, date(2026, 3, 28), duration_minutes=60)

    times = [start.time() for start in starts]
    assert time(1, 0) not in times
    assert time(1, 30) not in times
    assert (times[0], times[-1]) == (time(20), time(3, 0))


def test_bookable_starts_leave_room_for_the_whole_turn() -> None:
    starts = bookable_starts(LONDON, HOURS, {}, date(2026, 12, 8), duration_minutes=120)

    assert [start.time() for start in starts][-1] == time(21)


def test_a_closed_date_has_no_bookable_starts() -> None:
    closures = {date(2026, 12, 8): "refurbishment"}

    assert bookable_starts(LONDON, HOURS, closures, date(2026, 12, 8), 90) == []


def test_a_period_touches_every_calendar_date_it_spans() -> None:
    dates = calendar_dates(
        datetime(2026, 12, 24, 22, tzinfo=UTC),
        datetime(2026, 12, 26, 0, tzinfo=UTC),
        "Europe/London",
    )

    assert dates == (date(2026, 12, 24), date(2026, 12, 25))


# --- one rule, two halves ---------------------------------------------------------------

_ZONES = ("Europe/London", "America/New_York", "Australia/Lord_Howe", "UTC")
_DAYS = st.one_of(
    st.sampled_from((date(2026, 3, 29), date(2026, 10, 25), date(2026, 3, 8), date(2026, 4, 5))),
    st.dates(date(2026, 1, 1), date(2027, 12, 31)),
)
_TIMES = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))


@st.composite
def _venues(draw: st.DrawFn) -> tuple[SlotSettings, OpeningHours, dict[date, str], date]:
    day = draw(_DAYS)
    shifts = [
        Shift(opens=draw(st.one_of(_TIMES, st.just(time(20)))), closes=draw(_TIMES))
        for _ in range(draw(st.integers(1, 2)))
    ]
    hours = OpeningHours.every_day(*shifts)
    settings_ = SlotSettings(
        interval_minutes=draw(st.sampled_from((15, 20, 30, 45, 7))),
        min_lead_minutes=draw(st.sampled_from((0, 60, 1440))),
        max_days_ahead=draw(st.integers(0, 3)),
        time_zone=draw(st.sampled_from(_ZONES)),
    )
    closures = {day + timedelta(days=d): "closed" for d in (-1, 0, 1) if draw(st.booleans())}
    return settings_, hours, closures, day


@settings(max_examples=80, deadline=None)
@given(venue=_venues(), data=st.data())
def test_a_start_is_bookable_exactly_when_both_halves_of_the_rule_accept_it(
    venue: tuple[SlotSettings, OpeningHours, dict[date, str], date], data: st.DataObject
) -> None:
    """`resolve_slot` decides bookings; the availability reads ask `place_start` (once per
    snapshot, through `day_slots`) and `check_clock` (per request). They must agree."""
    settings_, hours, closures, day = venue
    midnight = datetime.combine(day, time(), UTC)
    now = midnight + timedelta(minutes=data.draw(st.integers(-3 * 24 * 60, 2 * 24 * 60)))
    turn = data.draw(st.sampled_from((30, 90, 240)))
    for _ in range(5):
        asked = day + timedelta(days=data.draw(st.integers(-1, 1)))
        at = data.draw(_TIMES)
        try:
            whole = resolve_slot(
                settings_, hours, closures, day=asked, at=at, duration_minutes=turn, now=now
            )
        except DomainError:
            whole = None
        try:
            halves = place_start(
                settings_, hours, closures, day=asked, at=at, duration_minutes=turn
            )
            check_clock(settings_, halves, now)
        except DomainError:
            halves = None
        assert whole == halves, (asked, at)
    placed = {
        (slot.date, slot.time): slot for slot in day_slots(settings_, hours, closures, day, turn)
    }
    for minute in range(2 * 24 * 60):
        local = datetime.combine(day, time()) + timedelta(minutes=minute)
        try:
            slot = place_start(
                settings_, hours, closures, day=local.date(), at=local.time(), duration_minutes=turn
            )
        except DomainError:
            continue
        if slot.service_date == day:
            assert placed.pop((local.date(), local.time())) == slot
    assert placed == {}
