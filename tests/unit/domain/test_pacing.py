"""Pacing, rule by rule: given the Harbour Bistro with a pacing rule, when guests book,
move, cancel or fail to show, then the covers and bookings that start together stay within
the rule, in any window of its length."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

import msgspec
import pytest

from booking_core.domain import floor, pacing
from booking_core.domain.commands import (
    CancelBooking,
    ChangeBooking,
    ChangeSlotSettings,
    CompleteBooking,
    MarkNoShow,
    RetireTable,
    SeatBooking,
)
from booking_core.domain.errors import InvalidSlotSettings, OverrideRequired, PacingLimitReached
from booking_core.domain.events import BookingPlaced, PacingReleased, PacingTaken
from booking_core.domain.values import PacingRule
from booking_core.domain.venue import decide as decide_venue
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import (
    ADA,
    ADMIN,
    ALAN,
    CHRISTMAS_EVE,
    FRIDAY,
    GRACE,
    NOW,
    SETTINGS,
    World,
    bistro,
    book,
)

EVE = STREAMS.pacing(CHRISTMAS_EVE)
SIX_PER_HALF_HOUR = PacingRule(per_minutes=30, max_covers=6)


def paced(*rules: PacingRule) -> World:
    world = bistro()
    world.given(STREAMS.venue, msgspec.structs.replace(SETTINGS, pacing=rules))
    return world


def covers_starting(world: World) -> dict[str, int]:
    state: pacing.PacingDay = world.state(EVE)
    return {booking_id: start.covers for booking_id, start in state.starts.items()}


# --- covers and bookings in a sliding window -------------------------------------------


def test_a_paced_booking_takes_its_covers_in_the_same_decision_as_its_table() -> None:
    world = paced(SIX_PER_HALF_HOUR)

    decision = world.book(book("b-ada", party_size=4, at=time(19)))

    assert decision.events[EVE] == (
        PacingTaken(
            booking_id="b-ada",
            service_date=CHRISTMAS_EVE,
            local_start=datetime(2026, 12, 24, 19),
            starts_at=datetime(2026, 12, 24, 19, tzinfo=UTC),
            covers=4,
        ),
    )
    placed = decision.events[STREAMS.booking("b-ada")][0]
    assert isinstance(placed, BookingPlaced)
    assert placed.paced


def test_the_last_covers_of_a_window_go_once_and_the_refusal_says_when_to_try() -> None:
    world = paced(SIX_PER_HALF_HOUR)
    world.book(book("b-ada", party_size=4, at=time(19)))
    world.book(book("b-grace", party_size=2, at=time(19, 15), actor=GRACE))

    with pytest.raises(PacingLimitReached) as refused:
        world.book(book("b-alan", party_size=2, at=time(19), actor=ALAN))

    assert refused.value.detail == "19:00\u201319:30 already has 6 of 6 covers starting; try 19:30"
    assert covers_starting(world) == {"b-ada": 4, "b-grace": 2}


def test_the_window_slides_it_is_not_a_grid_of_half_hours() -> None:
    world = paced(SIX_PER_HALF_HOUR)
    world.book(book("b-ada", party_size=4, at=time(19)))

    with pytest.raises(PacingLimitReached, match="19:00\u201319:30 already has 4 of 6"):
        world.book(book("b-grace", party_size=4, at=time(19, 15), actor=GRACE))
    with pytest.raises(PacingLimitReached, match="18:45\u201319:15 already has 4 of 6"):
        world.book(book("b-grace", party_size=4, at=time(18, 45), actor=GRACE))
    world.book(book("b-grace", party_size=4, at=time(19, 30), actor=GRACE))
    world.book(book("b-alan", party_size=4, at=time(18, 30), actor=ALAN))

    assert covers_starting(world) == {"b-ada": 4, "b-grace": 4, "b-alan": 4}


def test_a_bookings_limit_counts_parties_whatever_their_size() -> None:
    world = paced(PacingRule(per_minutes=60, max_bookings=2))
    world.book(book("b-ada", party_size=2, at=time(19)))
    world.book(book("b-grace", party_size=2, at=time(19, 45), actor=GRACE))

    with pytest.raises(PacingLimitReached, match="already has 2 of 2 bookings starting"):
        world.book(book("b-alan", party_size=2, at=time(19, 30), actor=ALAN))
    world.book(book("b-alan", party_size=2, at=time(20), actor=ALAN))  # 19:00 has left


def test_every_rule_that_covers_a_start_must_hold() -> None:
    world = paced(
        PacingRule(per_minutes=15, max_covers=8), PacingRule(per_minutes=60, max_bookings=1)
    )
    world.book(book("b-ada", party_size=2, at=time(19)))

    with pytest.raises(PacingLimitReached, match="bookings"):
        world.book(book("b-grace", party_size=2, at=time(19, 45), actor=GRACE))


def test_a_party_larger_than_the_limit_is_told_the_limit() -> None:
    world = paced(PacingRule(per_minutes=30, max_covers=4))

    with pytest.raises(PacingLimitReached) as refused:
        world.book(book("b-ada", party_size=6, at=time(19)))

    assert refused.value.detail == "at most 4 covers may start in 19:00\u201319:30"


# --- which starts a rule covers --------------------------------------------------------


def test_a_rule_covers_only_its_weekday_and_time_range() -> None:
    friday_dinner = PacingRule(
        per_minutes=30,
        max_bookings=1,
        weekday=FRIDAY.weekday(),
        from_time=time(18),
        to_time=time(20),
    )
    world = paced(friday_dinner)

    thursday = world.book(book("b-ada", party_size=2, at=time(19)))
    world.book(book("b-grace", party_size=2, at=time(19), actor=GRACE))
    friday = world.book(book("b-fri-1", day=FRIDAY, party_size=2, at=time(19)))
    with pytest.raises(PacingLimitReached):
        world.book(book("b-fri-2", day=FRIDAY, party_size=2, at=time(19), actor=GRACE))
    late = world.book(book("b-fri-3", day=FRIDAY, party_size=2, at=time(20), actor=GRACE))

    assert STREAMS.pacing(CHRISTMAS_EVE) not in thursday.events
    assert STREAMS.pacing(FRIDAY) in friday.events
    assert STREAMS.pacing(FRIDAY) not in late.events  # 20:00 is past the range's end
    assert not world.details("b-fri-3").placement.paced


def test_a_rule_change_applies_to_bookings_decided_after_it() -> None:
    world = paced(PacingRule(per_minutes=30, max_covers=2))
    world.book(book("b-ada", party_size=2, at=time(19)))

    world.given(
        STREAMS.venue,
        msgspec.structs.replace(SETTINGS, pacing=(PacingRule(per_minutes=30, max_covers=4),)),
    )
    world.book(book("b-grace", party_size=2, at=time(19), actor=GRACE))

    assert covers_starting(world) == {"b-ada": 2, "b-grace": 2}


# --- giving a start back ---------------------------------------------------------------


def _full_at_seven() -> World:
    world = paced(PacingRule(per_minutes=30, max_covers=4))
    world.book(book("b-ada", party_size=4, at=time(19)))
    return world


def test_a_cancelled_booking_gives_its_covers_back() -> None:
    world = _full_at_seven()

    decision = world.step(
        CancelBooking(venue_id=TEST_VENUE, command_id="c", actor=ADA, now=NOW, booking_id="b-ada")
    )

    assert decision.events[EVE] == (
        PacingReleased(booking_id="b-ada", service_date=CHRISTMAS_EVE, reason="cancelled"),
    )
    world.book(book("b-grace", party_size=4, at=time(19), actor=GRACE))


def test_retiring_a_table_with_its_bookings_gives_their_covers_back() -> None:
    world = _full_at_seven()
    retire = RetireTable(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        table_id=world.details("b-ada").table_ids[0],
        cancel_bookings=True,
    )

    decision = floor.decide_retire(
        retire,
        venue=world.venue,
        table_state=world.state(STREAMS.table(retire.table_id)),
        days=world.days,
        bookings={"b-ada": world.booking("b-ada")},
        paced=world.paced,
    )

    assert decision.events[EVE] == (
        PacingReleased(booking_id="b-ada", service_date=CHRISTMAS_EVE, reason="table_retired"),
    )


def test_a_no_show_gives_its_covers_back_a_completed_booking_keeps_them() -> None:
    world = paced(PacingRule(per_minutes=30, max_covers=4))
    world.book(book("b-ada", party_size=2, at=time(19)))
    world.book(book("b-grace", party_size=2, at=time(19), actor=GRACE))
    evening = datetime(2026, 12, 24, 19, 20, tzinfo=UTC)
    at = TEST_VENUE

    world.step(
        MarkNoShow(venue_id=at, command_id="c", actor=ADMIN, now=evening, booking_id="b-ada")
    )
    world.step(
        SeatBooking(venue_id=at, command_id="c", actor=ADMIN, now=evening, booking_id="b-grace")
    )
    world.step(
        CompleteBooking(venue_id=at, command_id="c", actor=ADMIN, now=evening, booking_id="b-grace")
    )

    assert covers_starting(world) == {"b-grace": 2}


def test_a_move_gives_back_the_old_start_and_takes_the_new_one() -> None:
    world = _full_at_seven()

    world.change(
        ChangeBooking(
            venue_id=TEST_VENUE,
            command_id="c",
            actor=ADA,
            now=NOW,
            booking_id="b-ada",
            time=time(20),
        )
    )
    world.book(book("b-grace", party_size=4, at=time(19), actor=GRACE))
    with pytest.raises(PacingLimitReached, match="20:00"):
        world.book(book("b-alan", party_size=1, at=time(20), actor=ALAN))
    assert world.details("b-ada").placement.paced

    decision = world.change(
        ChangeBooking(
            venue_id=TEST_VENUE, command_id="c", actor=ADA, now=NOW, booking_id="b-ada", date=FRIDAY
        )
    )

    assert decision.events[EVE] == (
        PacingReleased(booking_id="b-ada", service_date=CHRISTMAS_EVE, reason="moved"),
    )
    assert STREAMS.pacing(FRIDAY) in decision.events


def test_a_bigger_party_at_its_own_start_counts_only_its_new_size() -> None:
    world = paced(PacingRule(per_minutes=30, max_covers=4))
    world.book(book("b-ada", party_size=2, at=time(19)))

    world.change(
        ChangeBooking(
            venue_id=TEST_VENUE,
            command_id="c",
            actor=ADA,
            now=NOW,
            booking_id="b-ada",
            party_size=4,
        )
    )

    assert covers_starting(world) == {"b-ada": 4}


# --- staff and guests ------------------------------------------------------------------


def test_staff_may_go_past_a_full_window_with_a_reason_recorded_in_the_booking() -> None:
    world = _full_at_seven()
    phone = msgspec.structs.replace(
        book("b-regular", party_size=2, at=time(19), actor=ADMIN),
        source="phone",
        override="our regulars, the kitchen agreed",
    )

    decision = world.book(phone)

    placed = decision.events[STREAMS.booking("b-regular")][0]
    assert isinstance(placed, BookingPlaced)
    assert placed.override is not None
    assert placed.override.reason == "our regulars, the kitchen agreed"
    assert placed.override.given_by == ADMIN.user_id
    assert covers_starting(world) == {"b-ada": 4, "b-regular": 2}  # they still start then


def test_staff_without_a_reason_are_asked_for_one_and_guests_are_refused() -> None:
    world = _full_at_seven()

    with pytest.raises(OverrideRequired) as asked:
        world.book(book("b-phone", party_size=2, at=time(19), actor=ADMIN))
    with pytest.raises(PacingLimitReached):
        world.book(book("b-grace", party_size=2, at=time(19), actor=GRACE))

    assert "19:00\u201319:30 already has 4 of 4 covers starting" in asked.value.detail


# --- the rules themselves --------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        (PacingRule(per_minutes=4, max_covers=10), "per_minutes: must be from 5 to 1440"),
        (PacingRule(per_minutes=1441, max_covers=10), "per_minutes: must be from 5 to 1440"),
        (PacingRule(per_minutes=30), "max_covers: give a limit on guests (max_covers)"),
        (PacingRule(per_minutes=30, max_covers=0), "max_covers: must be from 1"),
        (PacingRule(per_minutes=30, max_bookings=0), "max_bookings: must be from 1"),
        (
            PacingRule(per_minutes=30, max_covers=5, weekday=7),
            "weekday: must be monday to sunday",
        ),
        (
            PacingRule(per_minutes=30, max_covers=5, from_time=time(20), to_time=time(18)),
            "to: must be after the start (from)",
        ),
    ],
)
def test_a_rule_no_venue_could_mean_is_refused(rule: PacingRule, says: str) -> None:
    fields = {f: getattr(SETTINGS, f) for f in SETTINGS.__struct_fields__ if f != "pacing"}
    command = ChangeSlotSettings(
        venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, **fields, pacing=(rule,)
    )

    with pytest.raises(InvalidSlotSettings, match=re.escape(f"pacing[0].{says}")) as refused:
        decide_venue(command, bistro().venue)

    assert refused.value.field == "pacing"
