"""The waitlist's quote, worked out from the floor: given the tables, who sits where and
what is booked, when parties wait in line, then each is quoted this many minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from read_models.waitlist_quote import (
    FloorTable,
    Hold,
    Quote,
    WaitingParty,
    median_absolute_error,
    quote_list,
)

NOW = datetime(2026, 12, 24, 19, 0, tzinfo=UTC)
BAR = FloorTable("t-bar", 2)
WINDOW = FloorTable("t-window", 4, 2)
BOOTH = FloorTable("t-booth", 6, 3)


def turn(party_size: int) -> int:
    return 90 if party_size <= 2 else 120


def at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def seated(table_id: str, since: int, until: int) -> Hold:
    return Hold((table_id,), at(since), at(until), seated=True)


def booked(table_id: str, start: int, end: int) -> Hold:
    return Hold((table_id,), at(start), at(end), seated=False)


def waits(*quotes: Quote) -> list[int | None]:
    return [q.wait_minutes for q in quotes]


def test_on_an_empty_floor_the_first_party_is_seated_at_once() -> None:
    quotes = quote_list(NOW, [BAR], [], [WaitingParty("ada", 2)], turn_minutes=turn)

    assert waits(*quotes) == [0]
    assert quotes[0].table_id == "t-bar"
    assert quotes[0].position == 1


def test_a_party_waits_for_the_first_fitting_table_to_end_its_turn_and_the_buffer() -> None:
    holds = [seated("t-bar", -60, 30), seated("t-window", -30, 45)]

    quotes = quote_list(
        NOW, [BAR, WINDOW], holds, [WaitingParty("ada", 2)], turn_minutes=turn, buffer_minutes=10
    )

    assert waits(*quotes) == [40]
    assert quotes[0].table_id == "t-bar"


def test_a_party_that_overstays_its_turn_is_expected_to_leave_now() -> None:
    quotes = quote_list(
        NOW, [BAR], [seated("t-bar", -120, -10)], [WaitingParty("ada", 2)], turn_minutes=turn
    )

    assert waits(*quotes) == [0]


def test_a_booking_due_before_the_turn_would_end_keeps_its_table() -> None:
    quotes = quote_list(
        NOW, [BAR], [booked("t-bar", 30, 120)], [WaitingParty("ada", 2)], turn_minutes=turn
    )

    assert waits(*quotes) == [120]


def test_a_turn_that_ends_before_the_next_booking_is_seated_now() -> None:
    quotes = quote_list(
        NOW, [BAR], [booked("t-bar", 100, 190)], [WaitingParty("ada", 2)], turn_minutes=turn
    )

    assert waits(*quotes) == [0]


def test_parties_ahead_that_fit_the_same_table_push_the_quote_back() -> None:
    line = [WaitingParty("ada", 2), WaitingParty("grace", 2), WaitingParty("alan", 1)]

    quotes = quote_list(NOW, [BAR], [], line, turn_minutes=turn, buffer_minutes=15)

    assert waits(*quotes) == [0, 105, 210]
    assert [q.position for q in quotes] == [1, 2, 3]


def test_a_party_ahead_that_needs_other_tables_does_not_delay_a_couple() -> None:
    line = [WaitingParty("the-babbages", 6), WaitingParty("ada", 2)]

    quotes = quote_list(NOW, [BAR, BOOTH], [seated("t-booth", -10, 110)], line, turn_minutes=turn)

    assert waits(*quotes) == [110, 0]


def test_the_smaller_table_is_expected_on_a_tie() -> None:
    quotes = quote_list(NOW, [WINDOW, BOOTH], [], [WaitingParty("ada", 3)], turn_minutes=turn)

    assert quotes[0].table_id == "t-window"


def test_a_party_no_table_seats_gets_no_quote() -> None:
    quotes = quote_list(NOW, [BAR], [], [WaitingParty("the-party", 12)], turn_minutes=turn)

    assert waits(*quotes) == [None]


def test_holds_on_tables_out_of_service_and_past_bookings_are_ignored() -> None:
    holds = [booked("t-retired", 0, 90), booked("t-bar", -120, -30)]

    quotes = quote_list(NOW, [BAR], holds, [WaitingParty("ada", 2)], turn_minutes=turn)

    assert waits(*quotes) == [0]


def test_accuracy_is_the_median_of_how_far_each_quote_was_off() -> None:
    assert median_absolute_error([(10, 15), (20, 18), (30, 30)]) == 2.0
    assert median_absolute_error([(10, 15), (20, 10)]) == 7.5


def test_with_no_party_seated_from_the_list_there_is_no_accuracy() -> None:
    assert median_absolute_error([]) is None
