"""The seating window: given Ada's booking for 19:00 to 20:30 on Christmas Eve, when staff
seat her party, then it is seated from 18:00 until 20:30, and outside that only with a
reason that the event keeps. Completing needs a seated party; a no-show needs the start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking_core.domain.commands import Actor, CompleteBooking, MarkNoShow, SeatBooking
from booking_core.domain.errors import (
    Forbidden,
    InvalidBooking,
    InvalidTransition,
    NoShowBeforeStart,
    OverrideRequired,
    SeatingWindow,
)
from booking_core.domain.events import BookingSeated
from booking_core.domain.values import Override
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import ADA, ADMIN, World, bistro, book

HOST = Actor(user_id="u-host-hattie", role="host")
START = datetime(2026, 12, 24, 19, 0, tzinfo=UTC)  # London is on UTC in December
END = START + timedelta(minutes=90)
BOOKING = STREAMS.booking("b-ada")


def ada_booked() -> World:
    world = bistro()
    world.book(book("b-ada", table_ids=("t-window",)))
    return world


def seat(now: datetime, actor: Actor = HOST, override: str | None = None) -> SeatBooking:
    return SeatBooking(
        venue_id=TEST_VENUE,
        command_id="c-seat",
        actor=actor,
        now=now,
        booking_id="b-ada",
        override=override,
    )


def seated_event(world: World) -> BookingSeated:
    (event,) = [e for e in world.streams[BOOKING] if isinstance(e, BookingSeated)]
    return event


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(START - timedelta(minutes=60), id="an hour early"),
        pytest.param(START - timedelta(minutes=5), id="a little early"),
        pytest.param(START + timedelta(minutes=40), id="late"),
        pytest.param(END, id="at the booking's end"),
    ],
)
def test_a_party_is_seated_within_the_window_without_a_reason(now: datetime) -> None:
    world = ada_booked()

    world.step(seat(now))

    event = seated_event(world)
    assert (event.seated_at, event.override) == (now, None)


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(START - timedelta(minutes=61), id="more than an hour early"),
        pytest.param(START - timedelta(days=1), id="the day before"),
        pytest.param(END + timedelta(minutes=1), id="after the booking has ended"),
    ],
)
def test_staff_without_a_reason_hear_that_one_is_needed_outside_the_window(
    now: datetime,
) -> None:
    world = ada_booked()

    with pytest.raises(OverrideRequired) as refused:
        world.step(seat(now))

    assert isinstance(refused.value.rule, SeatingWindow)
    assert refused.value.detail == (
        "Ada Lovelace's booking starts at 19:00; it can be seated from 18:00 until 20:30;"
        " give a reason to override it"
    )
    assert all(not isinstance(e, BookingSeated) for e in world.streams[BOOKING])


def test_staff_with_a_reason_seat_outside_the_window_and_the_event_says_who_and_why() -> None:
    world = ada_booked()
    early = START - timedelta(hours=3)

    world.step(seat(early, override="  Regulars, came for an early dinner  "))

    event = seated_event(world)
    assert event.seated_at == early
    assert event.override == Override(
        reason="Regulars, came for an early dinner", given_by=HOST.user_id
    )


def test_a_blank_reason_is_refused_as_invalid() -> None:
    world = ada_booked()

    with pytest.raises(InvalidBooking) as refused:
        world.step(seat(START - timedelta(hours=3), override="   "))

    assert refused.value.field == "override"


def test_a_guest_may_neither_seat_nor_override() -> None:
    world = ada_booked()

    with pytest.raises(Forbidden):
        world.step(seat(START, actor=ADA))
    with pytest.raises(Forbidden):
        world.step(seat(START - timedelta(days=1), actor=ADA, override="I am early"))


def test_only_a_seated_party_is_completed() -> None:
    world = ada_booked()
    complete = CompleteBooking(
        venue_id=TEST_VENUE, command_id="c-done", actor=ADMIN, now=END, booking_id="b-ada"
    )

    with pytest.raises(InvalidTransition):
        world.step(complete)

    world.step(seat(START))
    world.step(complete)
    assert world.booking("b-ada").status == "completed"


def test_a_no_show_is_marked_only_from_the_start() -> None:
    world = ada_booked()

    def no_show(now: datetime) -> MarkNoShow:
        return MarkNoShow(
            venue_id=TEST_VENUE, command_id="c-ns", actor=HOST, now=now, booking_id="b-ada"
        )

    with pytest.raises(NoShowBeforeStart):
        world.step(no_show(START - timedelta(minutes=1)))
    world.step(no_show(START))
    assert world.booking("b-ada").status == "no_show"
