"""Changing a booking: a move is decided like a new booking, and releases and reserves in
one decision; a change of guest details moves nothing."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest

from booking_core.domain.commands import ChangeBooking
from booking_core.domain.errors import (
    BookingNotFound,
    Forbidden,
    InvalidBooking,
    OutsideOpeningHours,
    PartyTooLarge,
    StartInPast,
    TableAlreadyBooked,
)
from booking_core.domain.events import BookingChanged, TableReleased, TableReserved
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import (
    ADA,
    ADMIN,
    CHRISTMAS_EVE,
    GRACE,
    MONDAY,
    NOW,
    World,
    bistro,
    book,
)

BOOKING = STREAMS.booking("b-ada")
BOXING_DAY = date(2026, 12, 26)


def change(**fields: Any) -> ChangeBooking:
    fields.setdefault("actor", ADA)
    fields.setdefault("now", NOW)
    return ChangeBooking(venue_id=TEST_VENUE, command_id="c-change", booking_id="b-ada", **fields)


def ada_at_the_window() -> World:
    world = bistro()
    world.book(book("b-ada", party_size=2, table_ids=("t-window",)))
    return world


def test_a_new_time_releases_and_reserves_in_one_decision() -> None:
    world = ada_at_the_window()

    decision = world.change(change(time=time(20)))

    day = STREAMS.service_day("t-window", CHRISTMAS_EVE)
    released, reserved = decision.events[day]
    assert isinstance(released, TableReleased)
    assert isinstance(reserved, TableReserved)
    assert (released.reason, released.time, reserved.time) == ("moved", time(19), time(20))
    (changed,) = decision.events[BOOKING]
    assert isinstance(changed, BookingChanged)
    assert (changed.time, changed.previous_service_date) == (time(20), CHRISTMAS_EVE)


def test_a_move_may_overlap_the_bookings_own_old_slot() -> None:
    world = ada_at_the_window()

    world.change(change(time=time(19, 15)))

    (held,) = world.days[STREAMS.service_day("t-window", CHRISTMAS_EVE)].reservations.values()
    assert held.time == time(19, 15)


def test_a_new_date_moves_the_reservation_to_that_service_day() -> None:
    world = ada_at_the_window()

    decision = world.change(change(date=BOXING_DAY))

    assert set(decision.events) == {
        STREAMS.service_day("t-window", CHRISTMAS_EVE),
        STREAMS.service_day("t-window", BOXING_DAY),
        BOOKING,
    }
    assert world.days[STREAMS.service_day("t-window", CHRISTMAS_EVE)].reservations == {}


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        pytest.param({"time": time(16)}, OutsideOpeningHours, id="a move before opening"),
        pytest.param({"date": MONDAY}, OutsideOpeningHours, id="a move to a closed Monday"),
        pytest.param({"date": date(2026, 11, 30)}, StartInPast, id="a move into the past"),
        pytest.param(
            {"party_size": 5, "table_ids": ("t-window",)},
            PartyTooLarge,
            id="growing the party past the named table",
        ),
        pytest.param(
            {"time": time(21), "table_ids": ("t-corner",)},
            TableAlreadyBooked,
            id="a move onto a taken table",
        ),
        pytest.param({"duration_minutes": 30}, Forbidden, id="a guest setting the duration"),
        pytest.param({"party_size": 0}, InvalidBooking, id="a party of nobody"),
    ],
)
def test_a_move_that_fails_leaves_the_booking_exactly_as_it_was(
    fields: dict[str, Any], error: type[Exception]
) -> None:
    world = ada_at_the_window()
    world.book(book("b-grace", actor=GRACE, at=time(21), table_ids=("t-corner",)))
    before = {stream_id: list(events) for stream_id, events in world.streams.items()}

    with pytest.raises(error):
        world.change(change(**fields))

    assert world.streams == before


def test_the_guest_keeps_their_table_when_it_is_free_at_the_new_time() -> None:
    world = ada_at_the_window()

    decision = world.change(change(time=time(21)))

    (changed,) = decision.events[BOOKING]
    assert isinstance(changed, BookingChanged)
    assert changed.table_ids == ("t-window",)


def test_when_their_table_is_taken_at_the_new_time_another_that_fits_is_found() -> None:
    world = ada_at_the_window()
    world.book(book("b-grace", actor=GRACE, at=time(21), table_ids=("t-window",)))

    decision = world.change(change(time=time(21)))

    (changed,) = decision.events[BOOKING]
    assert isinstance(changed, BookingChanged)
    assert changed.table_ids == ("t-bar",)
    assert world.days[STREAMS.service_day("t-window", CHRISTMAS_EVE)].reservations.keys() == {
        "b-grace"
    }


def test_a_party_that_grows_moves_to_a_table_that_seats_it() -> None:
    world = ada_at_the_window()

    decision = world.change(change(party_size=6))

    (changed,) = decision.events[BOOKING]
    assert isinstance(changed, BookingChanged)
    assert (changed.table_ids, changed.previous_party_size, changed.duration_minutes) == (
        ("t-booth",),
        2,
        150,
    )


def test_a_change_of_guest_details_moves_nothing() -> None:
    world = ada_at_the_window()

    decision = world.change(change(special_requests="a high chair, please", guest_phone=None))

    assert set(decision.events) == {BOOKING}
    assert decision.reads == {BOOKING}
    (changed,) = decision.events[BOOKING]
    assert isinstance(changed, BookingChanged)
    assert changed.special_requests == "a high chair, please"


def test_a_change_to_what_already_is_decides_nothing() -> None:
    world = ada_at_the_window()

    assert world.change(change(time=time(19), guest_name="Ada Lovelace")).is_empty


def test_an_admin_may_fix_a_duration_and_later_return_to_the_turn_time() -> None:
    world = ada_at_the_window()

    world.change(change(actor=ADMIN, duration_minutes=60))
    assert world.details("b-ada").slot.duration_minutes == 60
    world.change(change(actor=ADMIN, duration_minutes=None))

    details = world.details("b-ada")
    assert (details.slot.duration_minutes, details.placement.duration_fixed) == (90, False)


def test_a_guest_cannot_change_someone_elses_booking() -> None:
    with pytest.raises(BookingNotFound):
        ada_at_the_window().change(change(actor=GRACE, time=time(20)))


def test_asking_for_any_table_keeps_the_guests_own_when_nothing_else_changes() -> None:
    world = ada_at_the_window()

    assert world.change(change(table_ids=())).is_empty
