"""Absurd input is refused by a rule, never by a crash: the API turns rules into a 422."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from booking_core.domain import floor
from booking_core.domain.commands import BlockTable, BookTable
from booking_core.domain.errors import (
    BeyondBookingWindow,
    DomainError,
    InvalidBooking,
    InvalidId,
    InvalidPeriod,
    StartInPast,
)
from booking_core.domain.time_rules import bookable_starts, shift_at
from booking_core.domain.values import OpeningHours, Shift, SlotSettings
from tests.support.scope import TEST_VENUE
from tests.unit.domain.world import ADMIN, NOW, bistro, book

ALL_NIGHT = OpeningHours.every_day(Shift(opens=time(20), closes=time(4)))


@pytest.mark.parametrize(
    ("command", "error"),
    [
        pytest.param(book(day=date(9999, 12, 31)), BeyondBookingWindow, id="the year 9999"),
        pytest.param(book(day=date(1, 1, 1)), StartInPast, id="the year 1"),
        pytest.param(book(party_size=10_000), InvalidBooking, id="a party of ten thousand"),
        pytest.param(book(guest_name="A" * 10_000), InvalidBooking, id="a name of 10,000 letters"),
        pytest.param(book(guest_name="   "), InvalidBooking, id="a name of nothing but spaces"),
        pytest.param(book("b@ada"), InvalidId, id="an id with an at sign"),
        pytest.param(book("x" * 1000), InvalidId, id="an id a thousand characters long"),
    ],
)
def test_an_absurd_booking_is_refused_by_a_rule(
    command: BookTable, error: type[DomainError]
) -> None:
    with pytest.raises(error) as raised:
        bistro().book(command)

    assert raised.value.kind == "rule"


def test_special_requests_the_size_of_a_novel_are_refused() -> None:
    command = BookTable(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        booking_id="b-novel",
        date=date(2026, 12, 24),
        time=time(19),
        party_size=2,
        guest_name="Leo Tolstoy",
        special_requests="War and Peace. " * 100_000,
    )

    with pytest.raises(InvalidBooking):
        bistro().book(command)


@pytest.mark.parametrize("day", [date.min, date.max], ids=["the first date", "the last date"])
def test_the_edges_of_the_calendar_have_no_bookable_starts_and_no_crash(day: date) -> None:
    starts = bookable_starts(SlotSettings(), ALL_NIGHT, {}, day, 60)

    assert all((start.date() - day).days in (0, 1) for start in starts)
    shift_at(ALL_NIGHT, datetime.combine(day, time(1)))


def test_a_block_in_the_year_9999_is_refused() -> None:
    world = bistro()
    command = BlockTable(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        table_id="t-window",
        block_id="k-forever",
        start=datetime(9999, 12, 31, 20, tzinfo=UTC),
        end=datetime(9999, 12, 31, 23, tzinfo=UTC),
    )

    with pytest.raises(InvalidPeriod):
        floor.check_block(command, venue=world.venue, table_state=world.tables["t-window"])
