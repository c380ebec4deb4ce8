"""Staff at the host stand: a phone booking for tonight, a walk-in seated this minute, and
a rule set aside with a reason. Guests are held to every rule; staff to the ones that keep
two parties off one table."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import msgspec
import pytest

from booking_core.domain.commands import Actor, BookTable
from booking_core.domain.errors import (
    BeyondBookingWindow,
    ClosedOnDate,
    Forbidden,
    InsideLeadTime,
    InvalidBooking,
    OffSlotGrid,
    OutsideOpeningHours,
    OverrideRequired,
    PartyTooLarge,
    StartInPast,
    TableAlreadyBooked,
)
from booking_core.domain.events import BookingPlaced, BookingSeated, ClosureAdded, TableReserved
from booking_core.domain.values import Override
from tests.support.scope import STREAMS
from tests.unit.domain.world import ADA, CHRISTMAS_EVE, World, bistro, book

HOST = Actor(user_id="u-host-hattie", role="host")
TUESDAY = date(2026, 12, 1)
TUESDAY_AT_5 = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # London is on UTC in December
BAR = ("t-bar",)


def _as(command: BookTable, **changes: object) -> BookTable:
    return msgspec.structs.replace(command, **changes)


def _placed(world: World, booking_id: str = "b-ada") -> BookingPlaced:
    (event,) = [
        e for e in world.streams[STREAMS.booking(booking_id)] if isinstance(e, BookingPlaced)
    ]
    return event


def test_staff_book_by_phone_inside_the_guests_lead_time() -> None:
    phone = book(day=TUESDAY, at=time(17, 30), now=TUESDAY_AT_5, table_ids=BAR)

    with pytest.raises(InsideLeadTime):
        bistro().book(phone)
    world = bistro()
    world.book(_as(phone, actor=HOST, source="phone"))

    assert _placed(world).source == "phone"
    assert _placed(world).starts_at == datetime(2026, 12, 1, 17, 30, tzinfo=UTC)


def test_staff_book_beyond_the_booking_window_but_never_in_the_past() -> None:
    far = book(day=TUESDAY + timedelta(weeks=20), at=time(19), now=TUESDAY_AT_5)
    with pytest.raises(BeyondBookingWindow):
        bistro().book(far)
    bistro().book(_as(far, actor=HOST, source="phone"))

    an_hour_ago = book(day=TUESDAY, at=time(16), now=TUESDAY_AT_5, actor=HOST)
    with pytest.raises(StartInPast):
        bistro().book(an_hour_ago)


def test_a_walk_in_starts_this_minute_off_the_grid_and_is_seated_in_the_same_decision() -> None:
    now = datetime(2026, 12, 1, 19, 7, 42, tzinfo=UTC)
    walk_in = _as(
        book(now=now, actor=HOST, table_ids=BAR, guest_name="Walk-in, party of 2"),
        seat_now=True,
        source="walk_in",
    )
    world = bistro()

    decision = world.book(walk_in)

    placed, seated = decision.events[STREAMS.booking("b-ada")]
    assert isinstance(placed, BookingPlaced)
    assert isinstance(seated, BookingSeated)
    assert (placed.date, placed.time, placed.service_date) == (TUESDAY, time(19, 7), TUESDAY)
    assert placed.source == "walk_in"
    assert seated.seated_at == now
    (reserved,) = decision.events[STREAMS.service_day("t-bar", TUESDAY)]
    assert isinstance(reserved, TableReserved)
    assert reserved.time == time(19, 7)
    assert world.booking("b-ada").status == "seated"


def test_a_walk_in_outside_opening_hours_needs_a_reason() -> None:
    morning = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    walk_in = _as(book(now=morning, actor=HOST, table_ids=BAR), seat_now=True, source="walk_in")

    with pytest.raises(OverrideRequired) as refused:
        bistro().book(walk_in)
    assert isinstance(refused.value.rule, OutsideOpeningHours)
    assert "give a reason to override it" in str(refused.value)

    world = bistro()
    world.book(_as(walk_in, override="Chef's table tasting before service"))
    assert _placed(world).override == Override(
        reason="Chef's table tasting before service", given_by="u-host-hattie"
    )


def test_guests_may_not_walk_in_book_by_phone_or_override() -> None:
    with pytest.raises(Forbidden):
        bistro().book(_as(book(), seat_now=True))
    with pytest.raises(Forbidden):
        bistro().book(_as(book(), source="phone"))
    with pytest.raises(Forbidden):
        bistro().book(_as(book(at=time(12)), override="I know the owner"))


def test_a_guest_hears_the_rule_and_staff_hear_that_a_reason_is_needed() -> None:
    lunch = book(at=time(12), table_ids=BAR)
    with pytest.raises(OutsideOpeningHours):
        bistro().book(lunch)
    with pytest.raises(OverrideRequired):
        bistro().book(_as(lunch, actor=HOST, source="phone"))


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_override_without_a_reason_is_refused(reason: str) -> None:
    with pytest.raises(InvalidBooking, match="reason"):
        bistro().book(_as(book(actor=HOST, at=time(12)), override=reason))


def test_staff_set_aside_a_closure_the_grid_and_the_seats_with_a_reason() -> None:
    closed = bistro().given(STREAMS.venue, ClosureAdded(date=CHRISTMAS_EVE, reason="Staff party"))
    private = _as(book(actor=HOST, table_ids=BAR, party_size=3), source="phone")
    with pytest.raises(OverrideRequired) as refused:
        closed.book(private)
    assert isinstance(refused.value.rule, ClosedOnDate)
    with pytest.raises(OverrideRequired) as refused:
        bistro().book(_as(private, time=time(19, 10)))
    assert isinstance(refused.value.rule, OffSlotGrid)
    with pytest.raises(OverrideRequired) as refused:
        bistro().book(private)
    assert isinstance(refused.value.rule, PartyTooLarge)

    closed.book(_as(private, time=time(19, 10), override="The owner's family, a chair added"))
    assert _placed(closed).party_size == 3
    assert _placed(closed).service_date == CHRISTMAS_EVE


def test_no_reason_puts_two_parties_on_one_table_at_once() -> None:
    world = bistro()
    world.book(book("b-ada", table_ids=BAR))

    with pytest.raises(TableAlreadyBooked):
        world.book(
            _as(
                book("b-grace", actor=HOST, table_ids=BAR, guest_name="Grace Hopper"),
                override="She is a regular",
            )
        )


def test_a_guest_booking_still_records_no_override() -> None:
    world = bistro()
    world.book(book(actor=ADA))
    assert _placed(world).override is None
    assert _placed(world).source == "online"
