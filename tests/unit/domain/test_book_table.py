"""BookTable, rule by rule: given the Harbour Bistro, when a guest books, then the table is
reserved and the booking placed, or the rule that was broken is named."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest

from booking_core.domain.commands import (
    BookTable,
    CancelBooking,
    CompleteBooking,
    MarkNoShow,
    SeatBooking,
)
from booking_core.domain.errors import (
    BeyondBookingWindow,
    ClosedOnDate,
    DomainError,
    Forbidden,
    InsideLeadTime,
    InvalidBooking,
    NoTableAvailable,
    NoTableFitsParty,
    OffSlotGrid,
    OutsideOpeningHours,
    PartyTooLarge,
    PartyTooSmall,
    StartInPast,
    TableAlreadyBooked,
    TableIsBlocked,
    TableIsRetired,
    TableNotFound,
    TurnRunsPastClose,
)
from booking_core.domain.events import (
    BookingPlaced,
    ClosureAdded,
    OpeningHoursChanged,
    TableBlocked,
    TableReserved,
    TableRetired,
)
from booking_core.domain.values import OpeningHours, Shift
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import (
    ADA,
    ADMIN,
    CHRISTMAS_EVE,
    FRIDAY,
    GRACE,
    MONDAY,
    NOW,
    SATURDAY,
    World,
    bistro,
    book,
)

WINDOW = ("t-window",)
EVE_AT_7 = datetime(2026, 12, 24, 19, 0, tzinfo=UTC)


def test_a_free_table_that_fits_is_reserved_and_the_booking_placed() -> None:
    world = bistro()

    decision = world.book(book("b-ada", party_size=2, table_ids=WINDOW))

    assert decision.events == {
        STREAMS.service_day("t-window", CHRISTMAS_EVE): (
            TableReserved(
                table_id="t-window",
                service_date=CHRISTMAS_EVE,
                booking_id="b-ada",
                date=CHRISTMAS_EVE,
                time=time(19),
                end_date=CHRISTMAS_EVE,
                end_time=time(20, 30),
                starts_at=EVE_AT_7,
                ends_at=EVE_AT_7 + timedelta(minutes=90),
                party_size=2,
            ),
        ),
        STREAMS.booking("b-ada"): (
            BookingPlaced(
                booking_id="b-ada",
                table_ids=WINDOW,
                service_date=CHRISTMAS_EVE,
                date=CHRISTMAS_EVE,
                time=time(19),
                end_date=CHRISTMAS_EVE,
                end_time=time(20, 30),
                starts_at=EVE_AT_7,
                ends_at=EVE_AT_7 + timedelta(minutes=90),
                party_size=2,
                duration_minutes=90,
                guest_name="Ada Lovelace",
                user_id=ADA.user_id,
                placed_at=NOW,
            ),
        ),
    }


def test_the_decision_holds_the_venue_the_table_and_three_service_days_still() -> None:
    decision = bistro().book(book(table_ids=WINDOW))

    assert decision.reads == {
        STREAMS.venue,
        STREAMS.table("t-window"),
        STREAMS.service_day("t-window", CHRISTMAS_EVE - timedelta(days=1)),
        STREAMS.service_day("t-window", CHRISTMAS_EVE),
        STREAMS.service_day("t-window", CHRISTMAS_EVE + timedelta(days=1)),
        STREAMS.booking("b-ada"),
    }


def _nothing(world: World) -> None:
    return None


def _retire_window(world: World) -> None:
    world.given(STREAMS.table("t-window"), TableRetired(table_id="t-window", retired_at=NOW))


def _close_christmas_eve(world: World) -> None:
    world.given(STREAMS.venue, ClosureAdded(date=CHRISTMAS_EVE, reason="staff party"))


def _grace_at_seven(world: World) -> None:
    world.book(book("b-grace", actor=GRACE, guest_name="Grace Hopper", table_ids=WINDOW))


def _block_window_for_a_private_event(world: World) -> None:
    world.given(
        STREAMS.service_day("t-window", CHRISTMAS_EVE),
        TableBlocked(
            table_id="t-window",
            service_date=CHRISTMAS_EVE,
            block_id="k-wedding",
            start_date=CHRISTMAS_EVE,
            start_time=time(20),
            end_date=CHRISTMAS_EVE,
            end_time=time(21),
            starts_at=datetime(2026, 12, 24, 20, tzinfo=UTC),
            ends_at=datetime(2026, 12, 24, 21, tzinfo=UTC),
            reason="wedding speech",
        ),
    )


REFUSALS = [
    pytest.param(
        _nothing,
        book(table_ids=("t-ghost",)),
        TableNotFound,
        id="a table that does not exist cannot be booked",
    ),
    pytest.param(
        _retire_window,
        book(table_ids=WINDOW),
        TableIsRetired,
        id="a retired table cannot be booked",
    ),
    pytest.param(
        _nothing,
        book(party_size=5, table_ids=WINDOW),
        PartyTooLarge,
        id="a party of 5 does not fit WINDOW-4",
    ),
    pytest.param(
        _nothing,
        book(party_size=2, table_ids=("t-booth",)),
        PartyTooSmall,
        id="a couple may not take BOOTH-6, which needs at least 3",
    ),
    pytest.param(
        _nothing,
        book(at=time(19, 10), table_ids=WINDOW),
        OffSlotGrid,
        id="19:10 is not on the quarter-hour grid",
    ),
    pytest.param(
        _nothing,
        book(day=MONDAY, at=time(19), table_ids=WINDOW),
        OutsideOpeningHours,
        id="the bistro is closed on Mondays",
    ),
    pytest.param(
        _nothing,
        book(at=time(16, 45), table_ids=WINDOW),
        OutsideOpeningHours,
        id="a quarter before opening is outside the opening hours",
    ),
    pytest.param(
        _nothing,
        book(at=time(21, 45), party_size=2, table_ids=WINDOW),
        TurnRunsPastClose,
        id="a 90-minute turn from 21:45 runs past the 23:00 close",
    ),
    pytest.param(
        _close_christmas_eve,
        book(table_ids=WINDOW),
        ClosedOnDate,
        id="nobody books on a day the venue is closed",
    ),
    pytest.param(
        _nothing,
        book(now=EVE_AT_7 + timedelta(minutes=1), table_ids=WINDOW),
        StartInPast,
        id="a start a minute ago is in the past",
    ),
    pytest.param(
        _nothing,
        book(now=EVE_AT_7 - timedelta(minutes=30), table_ids=WINDOW),
        InsideLeadTime,
        id="half an hour's notice is less than the hour the bistro needs",
    ),
    pytest.param(
        _nothing,
        book(day=NOW.date() + timedelta(days=64), table_ids=WINDOW),
        BeyondBookingWindow,
        id="sixty-four days ahead is beyond the sixty-day booking window",
    ),
    pytest.param(
        _grace_at_seven,
        book(at=time(20, 30), table_ids=WINDOW),
        TableAlreadyBooked,
        id="a start within the buffer after another booking's end overlaps it",
    ),
    pytest.param(
        _grace_at_seven,
        book(at=time(17, 30), table_ids=WINDOW),
        TableAlreadyBooked,
        id="an end within the buffer before another booking's start overlaps it",
    ),
    pytest.param(
        _block_window_for_a_private_event,
        book(at=time(18, 45), table_ids=WINDOW),
        TableIsBlocked,
        id="a turn running into a block is refused",
    ),
    pytest.param(
        _nothing,
        book(party_size=0, table_ids=WINDOW),
        InvalidBooking,
        id="a party of nobody is not a booking",
    ),
    pytest.param(
        _nothing,
        book(duration_minutes=60, table_ids=WINDOW),
        Forbidden,
        id="only an admin sets a booking's duration",
    ),
]


@pytest.mark.parametrize(("given", "command", "error"), REFUSALS)
def test_a_booking_that_breaks_a_rule_is_refused(
    given: Callable[[World], None], command: BookTable, error: type[DomainError]
) -> None:
    world = bistro()
    given(world)
    before = {stream_id: list(events) for stream_id, events in world.streams.items()}

    with pytest.raises(error):
        world.book(command)

    assert world.streams == before


def test_each_rule_has_its_kind_for_the_api() -> None:
    conflicts: set[type[DomainError]] = {
        TableAlreadyBooked,
        TableIsBlocked,
        TableIsRetired,
        NoTableAvailable,
    }
    rules: set[type[DomainError]] = {
        PartyTooLarge,
        PartyTooSmall,
        OffSlotGrid,
        OutsideOpeningHours,
        TurnRunsPastClose,
        ClosedOnDate,
        StartInPast,
        InsideLeadTime,
        BeyondBookingWindow,
        NoTableFitsParty,
    }
    assert {error.kind for error in conflicts} == {"conflict"}
    assert {error.kind for error in rules} == {"rule"}
    assert TableNotFound.kind == "not_found"
    assert Forbidden.kind == "forbidden"


def test_a_booking_may_start_exactly_one_buffer_after_another_ends() -> None:
    world = bistro()
    _grace_at_seven(world)  # 19:00-20:30, then 15 minutes' buffer

    world.book(book(at=time(20, 45), table_ids=WINDOW))

    assert set(world.days[STREAMS.service_day("t-window", CHRISTMAS_EVE)].reservations) == {
        "b-grace",
        "b-ada",
    }


@pytest.mark.parametrize(
    "ending",
    [
        pytest.param(
            [
                CancelBooking(
                    venue_id=TEST_VENUE, command_id="c", actor=GRACE, now=NOW, booking_id="b-grace"
                )
            ],
            id="a cancelled booking frees its table",
        ),
        pytest.param(
            [
                SeatBooking(
                    venue_id=TEST_VENUE,
                    command_id="c",
                    actor=ADMIN,
                    now=EVE_AT_7,
                    booking_id="b-grace",
                ),
                CompleteBooking(
                    venue_id=TEST_VENUE,
                    command_id="c",
                    actor=ADMIN,
                    now=EVE_AT_7,
                    booking_id="b-grace",
                ),
            ],
            id="a completed booking frees its table",
        ),
        pytest.param(
            [
                MarkNoShow(
                    venue_id=TEST_VENUE,
                    command_id="c",
                    actor=ADMIN,
                    now=EVE_AT_7,
                    booking_id="b-grace",
                )
            ],
            id="a no-show frees its table",
        ),
    ],
)
def test_a_booking_that_has_ended_frees_the_table(
    ending: list[CancelBooking | SeatBooking | CompleteBooking | MarkNoShow],
) -> None:
    world = bistro()
    _grace_at_seven(world)
    for command in ending:
        world.step(command)

    world.book(book(at=time(19, 30), table_ids=WINDOW, now=NOW))

    assert world.booking("b-ada").status == "confirmed"


def test_a_start_after_midnight_belongs_to_the_previous_service_date() -> None:
    world = bistro()

    decision = world.book(
        book(day=SATURDAY, at=time(0, 15), actor=ADMIN, duration_minutes=45, table_ids=WINDOW)
    )

    (placed,) = decision.events[STREAMS.booking("b-ada")]
    assert isinstance(placed, BookingPlaced)
    assert (placed.service_date, placed.date, placed.end_time) == (FRIDAY, SATURDAY, time(1, 0))
    assert STREAMS.service_day("t-window", FRIDAY) in decision.events


def test_a_booking_made_under_old_hours_still_holds_the_table_after_they_change() -> None:
    world = bistro()
    world.book(book("b-grace", actor=GRACE, day=FRIDAY, at=time(23, 15), table_ids=WINDOW))
    late_night = OpeningHours(
        friday=(Shift(opens=time(17), closes=time(23, 30)),),
        saturday=(Shift(opens=time(0), closes=time(3)),),
    )
    world.given(STREAMS.venue, OpeningHoursChanged(hours=late_night))

    with pytest.raises(TableAlreadyBooked):
        world.book(book(day=SATURDAY, at=time(0, 15), table_ids=WINDOW))


def test_without_a_table_the_smallest_that_fits_is_picked() -> None:
    decision = bistro().book(book(party_size=2))

    assert STREAMS.service_day("t-bar", CHRISTMAS_EVE) in decision.events


def test_tables_of_the_same_size_are_picked_by_name() -> None:
    decision = bistro().book(book(party_size=3))

    assert STREAMS.service_day("t-corner", CHRISTMAS_EVE) in decision.events


def test_when_the_smallest_table_is_taken_the_next_one_is_picked() -> None:
    world = bistro()
    world.book(book("b-grace", actor=GRACE, party_size=3))  # takes CORNER-4

    decision = world.book(book(party_size=3))

    assert STREAMS.service_day("t-window", CHRISTMAS_EVE) in decision.events


def test_a_retired_table_is_never_picked() -> None:
    world = bistro()
    world.given(STREAMS.table("t-bar"), TableRetired(table_id="t-bar", retired_at=NOW))

    decision = world.book(book(party_size=2))

    assert STREAMS.service_day("t-corner", CHRISTMAS_EVE) in decision.events


def test_a_party_no_table_seats_is_refused_as_a_rule() -> None:
    with pytest.raises(NoTableFitsParty):
        bistro().book(book(party_size=9))


def test_when_every_table_that_fits_is_taken_none_is_available() -> None:
    world = bistro()
    world.book(book("b-grace", actor=GRACE, party_size=7, guest_name="Grace Hopper, party of 7"))

    with pytest.raises(NoTableAvailable):
        world.book(book(party_size=7, guest_name="Ada Lovelace, party of 7"))


def test_a_large_party_may_reserve_several_tables_at_once() -> None:
    world = bistro()

    decision = world.book(
        book(party_size=10, table_ids=("t-booth", "t-window"), guest_name="Ada, party of 10")
    )

    assert set(decision.events) == {
        STREAMS.service_day("t-booth", CHRISTMAS_EVE),
        STREAMS.service_day("t-window", CHRISTMAS_EVE),
        STREAMS.booking("b-ada"),
    }


def test_tables_pushed_together_still_need_their_minimum_parties() -> None:
    with pytest.raises(PartyTooSmall):
        bistro().book(book(party_size=4, table_ids=("t-booth", "t-window")))


def test_an_admin_may_set_a_longer_duration() -> None:
    world = bistro()

    decision = world.book(
        book(actor=ADMIN, duration_minutes=180, at=time(19, 30), table_ids=WINDOW)
    )

    (placed,) = decision.events[STREAMS.booking("b-ada")]
    assert isinstance(placed, BookingPlaced)
    assert (placed.duration_minutes, placed.duration_fixed, placed.end_time) == (
        180,
        True,
        time(22, 30),
    )


def test_a_booking_id_is_used_once() -> None:
    world = bistro()
    world.book(book("b-ada", table_ids=WINDOW))

    with pytest.raises(DomainError) as raised:
        world.book(book("b-ada", at=time(21), table_ids=("t-corner",)))

    assert raised.value.code == "booking-already-exists"


def test_sunday_lunch_and_dinner_are_separate_shifts() -> None:
    world = bistro()
    sunday = date(2026, 12, 6)

    world.book(book("b-lunch", day=sunday, at=time(13, 30), table_ids=WINDOW))
    with pytest.raises(TurnRunsPastClose):
        world.book(book("b-late-lunch", day=sunday, at=time(14), table_ids=WINDOW))
    with pytest.raises(OutsideOpeningHours):
        world.book(book("b-tea", day=sunday, at=time(16), table_ids=WINDOW))
