"""A booking's life: given a booking in some status, when staff or the guest act, then the
step is taken, nothing happens, or the transition is refused."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from booking_core.domain.commands import (
    Actor,
    CancelBooking,
    ChangeBooking,
    CompleteBooking,
    MarkNoShow,
    SeatBooking,
)
from booking_core.domain.errors import (
    BookingNotFound,
    DomainError,
    Forbidden,
    InvalidTransition,
    NoShowBeforeStart,
)
from booking_core.domain.events import (
    BookingCancelled,
    BookingCompleted,
    BookingMarkedNoShow,
    BookingSeated,
    TableReleased,
)
from booking_core.domain.lifecycle import LifecycleCommand
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import ADA, ADMIN, CHRISTMAS_EVE, GRACE, NOW, World, bistro, book

START = datetime(2026, 12, 24, 19, 0, tzinfo=UTC)
LATER = START + timedelta(minutes=20)
BOOKING = STREAMS.booking("b-ada")
DAY = STREAMS.service_day("t-window", CHRISTMAS_EVE)


def cancel(actor: Actor = ADA, now: datetime = NOW) -> CancelBooking:
    return CancelBooking(
        venue_id=TEST_VENUE, command_id="c-cancel", actor=actor, now=now, booking_id="b-ada"
    )


def seat(now: datetime = START) -> SeatBooking:
    return SeatBooking(
        venue_id=TEST_VENUE, command_id="c-seat", actor=ADMIN, now=now, booking_id="b-ada"
    )


def complete(now: datetime = LATER) -> CompleteBooking:
    return CompleteBooking(
        venue_id=TEST_VENUE, command_id="c-done", actor=ADMIN, now=now, booking_id="b-ada"
    )


def no_show(now: datetime = LATER) -> MarkNoShow:
    return MarkNoShow(
        venue_id=TEST_VENUE, command_id="c-ns", actor=ADMIN, now=now, booking_id="b-ada"
    )


def ada_booked(*steps: LifecycleCommand) -> World:
    world = bistro()
    world.book(book("b-ada", table_ids=("t-window",), guest_name="Ada Lovelace, party of 2"))
    for step in steps:
        world.step(step)
    return world


def test_seating_a_confirmed_booking_keeps_its_table() -> None:
    world = ada_booked()

    decision = world.step(seat())

    assert decision.events == {
        BOOKING: (
            BookingSeated(
                booking_id="b-ada",
                table_ids=("t-window",),
                service_date=CHRISTMAS_EVE,
                party_size=2,
                seated_at=START,
            ),
        )
    }
    assert world.booking("b-ada").status == "seated"


@pytest.mark.parametrize(
    ("steps", "command", "booking_event", "reason"),
    [
        pytest.param((), cancel(), BookingCancelled, "cancelled", id="cancelling releases"),
        pytest.param(
            (seat(),), complete(), BookingCompleted, "completed", id="completing releases"
        ),
        pytest.param((), no_show(), BookingMarkedNoShow, "no_show", id="a no-show releases"),
    ],
)
def test_ending_a_booking_releases_its_table_in_the_same_decision(
    steps: tuple[LifecycleCommand, ...],
    command: LifecycleCommand,
    booking_event: type[object],
    reason: str,
) -> None:
    world = ada_booked(*steps)

    decision = world.step(command)

    (ended,) = decision.events[BOOKING]
    (released,) = decision.events[DAY]
    assert isinstance(ended, booking_event)
    assert isinstance(released, TableReleased)
    assert (released.booking_id, released.reason, released.end_time) == (
        "b-ada",
        reason,
        time(20, 30),
    )
    assert world.days[DAY].reservations == {}


@pytest.mark.parametrize(
    ("steps", "command"),
    [
        pytest.param((cancel(),), cancel(), id="cancelling twice changes nothing"),
        pytest.param((seat(),), seat(), id="seating twice changes nothing"),
        pytest.param((seat(), complete()), complete(), id="completing twice changes nothing"),
        pytest.param((no_show(),), no_show(), id="a second no-show changes nothing"),
    ],
)
def test_repeating_the_last_step_decides_nothing(
    steps: tuple[LifecycleCommand, ...], command: LifecycleCommand
) -> None:
    world = ada_booked(*steps)

    assert world.step(command).is_empty


@pytest.mark.parametrize(
    ("steps", "command"),
    [
        pytest.param((cancel(),), seat(), id="a cancelled booking cannot be seated"),
        pytest.param((cancel(),), no_show(), id="a cancelled booking cannot be a no-show"),
        pytest.param((), complete(), id="a booking never seated cannot be completed"),
        pytest.param((seat(),), cancel(), id="a seated party cannot be cancelled"),
        pytest.param((seat(),), no_show(), id="a seated party is not a no-show"),
        pytest.param((seat(), complete()), cancel(), id="a completed booking cannot be cancelled"),
        pytest.param((seat(), complete()), seat(), id="a completed booking cannot be seated again"),
        pytest.param((no_show(),), seat(), id="a no-show cannot be seated afterwards"),
        pytest.param((no_show(),), cancel(), id="a no-show cannot be cancelled afterwards"),
    ],
)
def test_only_valid_transitions_are_taken(
    steps: tuple[LifecycleCommand, ...], command: LifecycleCommand
) -> None:
    world = ada_booked(*steps)

    with pytest.raises(InvalidTransition):
        world.step(command)


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param((cancel(),), id="a cancelled booking cannot be changed"),
        pytest.param((seat(),), id="a seated booking cannot be changed"),
        pytest.param((seat(), complete()), id="a completed booking cannot be changed"),
        pytest.param((no_show(),), id="a no-show cannot be changed"),
    ],
)
def test_only_a_confirmed_booking_can_be_changed(steps: tuple[LifecycleCommand, ...]) -> None:
    world = ada_booked(*steps)
    change = ChangeBooking(
        venue_id=TEST_VENUE,
        command_id="c-change",
        actor=ADA,
        now=NOW,
        booking_id="b-ada",
        guest_phone="+44 20 7946 0000",
    )

    with pytest.raises(InvalidTransition):
        world.change(change)


def test_a_no_show_cannot_be_marked_before_the_start() -> None:
    world = ada_booked()

    with pytest.raises(NoShowBeforeStart):
        world.step(no_show(now=START - timedelta(minutes=1)))


def test_a_no_show_may_be_marked_from_the_start_time() -> None:
    assert not ada_booked().step(no_show(now=START)).is_empty


def test_a_guest_cannot_see_anyone_elses_booking() -> None:
    world = ada_booked()

    with pytest.raises(BookingNotFound):
        world.step(cancel(actor=GRACE))


def test_an_admin_may_cancel_any_booking() -> None:
    assert not ada_booked().step(cancel(actor=ADMIN)).is_empty


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(
            SeatBooking(
                venue_id=TEST_VENUE, command_id="c", actor=ADA, now=START, booking_id="b-ada"
            ),
            id="a guest cannot seat themselves",
        ),
        pytest.param(
            CompleteBooking(
                venue_id=TEST_VENUE, command_id="c", actor=ADA, now=START, booking_id="b-ada"
            ),
            id="a guest cannot complete a booking",
        ),
        pytest.param(
            MarkNoShow(
                venue_id=TEST_VENUE, command_id="c", actor=ADA, now=LATER, booking_id="b-ada"
            ),
            id="a guest cannot mark a no-show",
        ),
    ],
)
def test_the_evenings_workflow_is_staff_work(command: LifecycleCommand) -> None:
    with pytest.raises(Forbidden):
        ada_booked().step(command)


def test_a_booking_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(BookingNotFound):
        bistro().step(cancel())


def test_errors_carry_the_status_they_clashed_with() -> None:
    world = ada_booked(cancel())

    with pytest.raises(DomainError) as raised:
        world.step(seat())

    assert isinstance(raised.value, InvalidTransition)
    assert (raised.value.status, raised.value.kind) == ("cancelled", "conflict")
