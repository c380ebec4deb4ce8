"""Table combinations, rule by rule: given the Harbour Bistro, when staff join tables for
larger parties, then auto-assign offers them after every single table, a combination holds
each of its tables, and what breaks a rule is refused in words a host understands."""

from __future__ import annotations

from datetime import time

import pytest

from booking_core.domain import floor, table
from booking_core.domain import venue as venue_decider
from booking_core.domain.commands import (
    Actor,
    DefineTableCombination,
    RemoveTableCombination,
    RetireTable,
)
from booking_core.domain.errors import (
    CombinationAlreadyExists,
    CombinationNotFound,
    CombinationOverlap,
    DomainError,
    Forbidden,
    InvalidCombination,
    NoTableAvailable,
    PartyTooLarge,
    PartyTooSmall,
    TableAlreadyBooked,
    UnknownTableInCombination,
)
from booking_core.domain.events import (
    BookingPlaced,
    TableCombinationDefined,
    TableCombinationRemoved,
    TableRegistered,
)
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import ADMIN, CHRISTMAS_EVE, NOW, World, bistro, book

HOST = Actor(user_id="u-host", role="host")
WINDOW_AND_CORNER = ("t-window", "t-corner")
CORNER_AND_BOOTH = ("t-corner", "t-booth")


def combine(
    *table_ids: str,
    min_capacity: int = 5,
    capacity: int = 8,
    combination_id: str = "c-window-corner",
    name: str | None = "WINDOW+CORNER",
    actor: Actor = ADMIN,
) -> DefineTableCombination:
    return DefineTableCombination(
        venue_id=TEST_VENUE,
        command_id="cmd-combine",
        actor=actor,
        now=NOW,
        combination_id=combination_id,
        table_ids=table_ids,
        min_capacity=min_capacity,
        capacity=capacity,
        name=name,
    )


def given_combination(world: World, command: DefineTableCombination) -> World:
    return world.given(STREAMS.venue, *venue_decider.decide(command, world.venue))


def placed_tables(world: World, booking_id: str) -> tuple[str, ...]:
    return world.details(booking_id).table_ids


def test_staff_join_two_tables_with_the_combinations_own_seats() -> None:
    world = bistro()

    events = venue_decider.decide(
        combine(*WINDOW_AND_CORNER, min_capacity=5, capacity=7), world.venue
    )

    assert events == [
        TableCombinationDefined(
            combination_id="c-window-corner",
            table_ids=WINDOW_AND_CORNER,
            min_capacity=5,
            capacity=7,
            name="WINDOW+CORNER",
            defined_at=NOW,
        )
    ]


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (combine("t-window"), InvalidCombination),
        (combine("t-window", "t-window"), InvalidCombination),
        (combine("t-window", "t-nowhere"), UnknownTableInCombination),
        (combine(*WINDOW_AND_CORNER, min_capacity=8, capacity=6), InvalidCombination),
        (combine(*WINDOW_AND_CORNER, min_capacity=0, capacity=6), InvalidCombination),
        (combine(*WINDOW_AND_CORNER, name="   "), InvalidCombination),
        (combine(*WINDOW_AND_CORNER, actor=HOST), Forbidden),
    ],
    ids=[
        "one table is no combination",
        "a table named twice",
        "a table the venue does not have",
        "capacity below its minimum",
        "a minimum below one",
        "a blank name",
        "a host may not combine tables",
    ],
)
def test_a_combination_that_breaks_a_rule_is_refused(
    command: DefineTableCombination, error: type[DomainError]
) -> None:
    with pytest.raises(error):
        venue_decider.decide(command, bistro().venue)


def test_a_retired_table_cannot_be_combined() -> None:
    world = bistro()
    retire_window(world)

    with pytest.raises(UnknownTableInCombination, match="t-window"):
        venue_decider.decide(combine(*WINDOW_AND_CORNER), world.venue)


def test_the_same_tables_are_combined_once_in_any_order() -> None:
    world = given_combination(bistro(), combine(*WINDOW_AND_CORNER))

    with pytest.raises(CombinationAlreadyExists, match="already combined"):
        venue_decider.decide(combine("t-corner", "t-window", combination_id="c-again"), world.venue)


def test_a_combination_is_removed_and_offered_no_more() -> None:
    world = given_combination(bistro(), combine(*WINDOW_AND_CORNER))
    remove = RemoveTableCombination(
        venue_id=TEST_VENUE,
        command_id="cmd-remove",
        actor=ADMIN,
        now=NOW,
        combination_id="c-window-corner",
    )

    world.given(STREAMS.venue, *venue_decider.decide(remove, world.venue))

    assert world.venue.combinations == {}
    with pytest.raises(CombinationNotFound):
        venue_decider.decide(remove, world.venue)


def retire_window(world: World) -> None:
    world.apply(
        floor.decide_retire(
            RetireTable(
                venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, table_id="t-window"
            ),
            venue=world.venue,
            table_state=world.tables["t-window"],
            days={},
            bookings={},
        )
    )


def test_retiring_a_table_removes_the_combinations_it_belongs_to() -> None:
    world = given_combination(bistro(), combine(*WINDOW_AND_CORNER))

    retire_window(world)

    assert world.streams[STREAMS.venue][-1] == TableCombinationRemoved(
        combination_id="c-window-corner", reason="table_retired", removed_at=NOW
    )
    assert world.venue.combinations == {}


def test_a_party_no_single_table_seats_gets_the_combination() -> None:
    world = given_combination(bistro(), combine(*WINDOW_AND_CORNER, min_capacity=9, capacity=10))

    world.book(book("b-party-of-ten", party_size=10, guest_name="Ada Lovelace, party of 10"))

    assert placed_tables(world, "b-party-of-ten") == WINDOW_AND_CORNER


def test_a_single_table_that_fits_comes_before_any_combination() -> None:
    world = given_combination(bistro(), combine(*WINDOW_AND_CORNER, min_capacity=5, capacity=8))

    world.book(book("b-eight", party_size=8))

    assert placed_tables(world, "b-eight") == ("t-terrace",)


def test_the_combination_takes_the_party_once_the_single_table_is_taken() -> None:
    world = given_combination(bistro(), combine(*WINDOW_AND_CORNER, min_capacity=5, capacity=8))
    world.book(book("b-terrace", party_size=8, table_ids=("t-terrace",)))

    world.book(book("b-eight", party_size=8, guest_name="Grace Hopper, party of 8"))

    assert placed_tables(world, "b-eight") == WINDOW_AND_CORNER


def test_the_smallest_combination_that_fits_comes_first() -> None:
    world = given_combination(bistro(), combine(*CORNER_AND_BOOTH, min_capacity=5, capacity=10))
    given_combination(
        world, combine(*WINDOW_AND_CORNER, min_capacity=5, capacity=9, combination_id="c-small")
    )
    world.book(book("b-terrace", party_size=8, table_ids=("t-terrace",)))

    world.book(book("b-nine", party_size=9))

    assert placed_tables(world, "b-nine") == WINDOW_AND_CORNER


def test_tables_that_combine_are_kept_for_last_among_tables_of_equal_seats() -> None:
    # CORNER-4 comes before WINDOW-4 by name, but it combines with the booth
    world = given_combination(bistro(), combine(*CORNER_AND_BOOTH, min_capacity=7, capacity=10))

    world.book(book("b-four", party_size=4))

    assert placed_tables(world, "b-four") == ("t-window",)


def test_a_combinable_table_still_seats_a_small_party_when_it_is_the_last_free() -> None:
    world = given_combination(bistro(), combine(*CORNER_AND_BOOTH, min_capacity=7, capacity=10))
    world.book(book("b-window", party_size=4, table_ids=("t-window",)))

    world.book(book("b-four", party_size=4))

    assert placed_tables(world, "b-four") == ("t-corner",)


def test_the_ranking_is_the_same_when_the_venue_knows_every_tables_seats() -> None:
    world = given_combination(bistro(), combine(*CORNER_AND_BOOTH, min_capacity=7, capacity=10))
    for table_id, name, capacity, min_capacity in (
        ("t-window", "WINDOW-4", 4, 2),
        ("t-corner", "CORNER-4", 4, 2),
    ):
        world.given(
            STREAMS.venue,
            TableRegistered(
                table_id=table_id, name=name, capacity=capacity, min_capacity=min_capacity
            ),
        )

    world.book(book("b-four", party_size=4))

    assert placed_tables(world, "b-four") == ("t-window",)


def test_a_combination_holds_every_one_of_its_tables() -> None:
    world = given_combination(bistro(), combine(*WINDOW_AND_CORNER))
    world.book(book("b-eight", party_size=8, table_ids=WINDOW_AND_CORNER))

    with pytest.raises(TableAlreadyBooked):
        world.book(book("b-pair", party_size=2, table_ids=("t-corner",)))


def test_an_overlapping_combination_is_refused_naming_the_table_and_when() -> None:
    world = given_combination(bistro(), combine(*WINDOW_AND_CORNER))
    given_combination(world, combine(*CORNER_AND_BOOTH, combination_id="c-corner-booth"))
    world.book(book("b-eight", party_size=8, table_ids=WINDOW_AND_CORNER))

    with pytest.raises(CombinationOverlap) as refused:
        world.book(book("b-seven", party_size=7, table_ids=CORNER_AND_BOOTH, at=time(20)))

    assert refused.value.code == "combination-overlap"
    assert refused.value.table_id == "t-corner"
    assert "CORNER-4" in refused.value.detail
    assert "2026-12-24 19:00 to 21:30" in refused.value.detail


def test_auto_assign_passes_over_a_combination_whose_table_is_held() -> None:
    world = given_combination(bistro(), combine(*WINDOW_AND_CORNER, min_capacity=9, capacity=10))
    world.book(book("b-pair", party_size=2, table_ids=("t-corner",)))

    with pytest.raises(NoTableAvailable):
        world.book(book("b-ten", party_size=10))


def test_naming_a_combinations_tables_is_held_to_its_own_seats() -> None:
    # the two tables seat 8 between them; joined they seat 5 to 6
    world = given_combination(bistro(), combine(*WINDOW_AND_CORNER, min_capacity=5, capacity=6))

    with pytest.raises(PartyTooLarge):
        world.book(book("b-eight", party_size=8, table_ids=WINDOW_AND_CORNER))
    with pytest.raises(PartyTooSmall):
        world.book(book("b-four", party_size=4, table_ids=("t-corner", "t-window")))
    decision = world.book(book("b-six", party_size=6, table_ids=WINDOW_AND_CORNER))

    placed = decision.events[STREAMS.booking("b-six")][0]
    assert isinstance(placed, BookingPlaced)
    assert placed.table_ids == WINDOW_AND_CORNER
    assert placed.service_date == CHRISTMAS_EVE


def test_tables_named_together_that_are_no_combination_seat_their_sum() -> None:
    world = bistro()

    world.book(book("b-eight", party_size=8, table_ids=WINDOW_AND_CORNER))

    assert placed_tables(world, "b-eight") == WINDOW_AND_CORNER
    with pytest.raises(PartyTooLarge):
        table.check_fits(world.tables, WINDOW_AND_CORNER, 9)
