"""The venue decider: hours, slot settings, closures, layouts; admins only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from booking_core.domain import venue
from booking_core.domain.commands import (
    ActivateLayout,
    AddClosure,
    ChangeLayout,
    ChangeSlotSettings,
    CreateLayout,
    DeleteLayout,
    RemoveClosure,
    SetOpeningHours,
    VenueCommand,
)
from booking_core.domain.errors import (
    ClosureAlreadyExists,
    ClosureNotFound,
    DomainError,
    Forbidden,
    InvalidLayout,
    InvalidOpeningHours,
    InvalidSlotSettings,
    LayoutAlreadyExists,
    LayoutIsActive,
    LayoutNotFound,
    UnknownTableInLayout,
)
from booking_core.domain.events import (
    ClosureAdded,
    ClosureRemoved,
    LayoutActivated,
    LayoutCreated,
    OpeningHoursChanged,
    SlotSettingsChanged,
    TableRegistered,
    VenueEvent,
)
from booking_core.domain.values import LayoutTable, OpeningHours, Shift, TurnTime
from tests.support.scope import TEST_VENUE
from tests.unit.domain.world import ADA, ADMIN, HOURS

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
NEW_YEARS_DAY = date(2027, 1, 1)
WINDOW_AT_THE_FRONT = LayoutTable(table_id="t-window", x=1, y=1)


def given(*events: VenueEvent) -> venue.VenueState:
    state = venue.initial_state
    for event in events:
        state = venue.evolve(state, event)
    return state


def the_floor() -> venue.VenueState:
    return given(
        TableRegistered(table_id="t-window", name="WINDOW-4"),
        LayoutCreated(layout_id="l-summer", name="Summer terrace", tables=(WINDOW_AT_THE_FRONT,)),
        LayoutActivated(layout_id="l-summer"),
    )


def settings(**overrides: Any) -> ChangeSlotSettings:
    fields: dict[str, Any] = {
        "interval_minutes": 15,
        "turn_times": (TurnTime(max_party_size=4, minutes=120),),
        "buffer_minutes": 10,
        "min_lead_minutes": 30,
        "max_days_ahead": 90,
        "time_zone": "Europe/Paris",
    }
    fields.update(overrides)
    return ChangeSlotSettings(venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, **fields)


def test_opening_hours_are_set_once_and_repeating_them_changes_nothing() -> None:
    command = SetOpeningHours(
        venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, hours=HOURS
    )

    assert venue.decide(command, venue.initial_state) == [
        OpeningHoursChanged(hours=HOURS, changed_at=command.now)
    ]
    assert venue.decide(command, given(OpeningHoursChanged(hours=HOURS))) == []


def test_overlapping_shifts_are_refused() -> None:
    lunch_into_dinner = OpeningHours.every_day(
        Shift(opens=time(12), closes=time(18)), Shift(opens=time(17), closes=time(23))
    )
    command = SetOpeningHours(
        venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, hours=lunch_into_dinner
    )

    with pytest.raises(InvalidOpeningHours):
        venue.decide(command, venue.initial_state)


def test_slot_settings_are_recorded_with_turn_times_in_order() -> None:
    turns = (TurnTime(max_party_size=8, minutes=150), TurnTime(max_party_size=2, minutes=90))

    (event,) = venue.decide(settings(turn_times=turns), venue.initial_state)

    assert isinstance(event, SlotSettingsChanged)
    assert [turn.max_party_size for turn in event.turn_times] == [2, 8]
    state = venue.evolve(venue.initial_state, event)
    assert (state.settings.turn_minutes(1), state.settings.turn_minutes(5)) == (90, 150)
    assert state.settings.turn_minutes(12) == 150


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"interval_minutes": 0}, id="a zero-minute grid"),
        pytest.param({"turn_times": ()}, id="no turn times at all"),
        pytest.param(
            {"turn_times": (TurnTime(max_party_size=2, minutes=0),)}, id="a turn of no time"
        ),
        pytest.param(
            {
                "turn_times": (
                    TurnTime(max_party_size=2, minutes=60),
                    TurnTime(max_party_size=2, minutes=90),
                )
            },
            id="two turn times for the same party size",
        ),
        pytest.param({"buffer_minutes": -5}, id="a negative buffer"),
        pytest.param({"min_lead_minutes": -1}, id="a negative lead time"),
        pytest.param({"max_days_ahead": 5000}, id="a booking window of thirteen years"),
        pytest.param({"time_zone": "Atlantis/Lost_City"}, id="a time zone that does not exist"),
    ],
)
def test_unreasonable_slot_settings_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(InvalidSlotSettings):
        venue.decide(settings(**overrides), venue.initial_state)


def test_a_closure_is_added_and_removed() -> None:
    add = AddClosure(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        date=NEW_YEARS_DAY,
        reason="recovery",
    )
    remove = RemoveClosure(
        venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, date=NEW_YEARS_DAY
    )

    assert venue.decide(add, venue.initial_state) == [
        ClosureAdded(date=NEW_YEARS_DAY, reason="recovery")
    ]
    closed = given(ClosureAdded(date=NEW_YEARS_DAY, reason="recovery"))
    assert venue.decide(add, closed) == []
    assert venue.decide(remove, closed) == [ClosureRemoved(date=NEW_YEARS_DAY)]


def test_a_date_is_closed_once_for_one_reason() -> None:
    closed = given(ClosureAdded(date=NEW_YEARS_DAY, reason="recovery"))
    again = AddClosure(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        date=NEW_YEARS_DAY,
        reason="painting",
    )

    with pytest.raises(ClosureAlreadyExists):
        venue.decide(again, closed)


def test_an_open_date_cannot_be_reopened() -> None:
    remove = RemoveClosure(
        venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, date=NEW_YEARS_DAY
    )

    with pytest.raises(ClosureNotFound):
        venue.decide(remove, venue.initial_state)


def test_a_layout_is_created_changed_and_activated() -> None:
    floor = given(TableRegistered(table_id="t-window", name="WINDOW-4"))
    create = CreateLayout(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        layout_id="l-winter",
        name="Winter",
        tables=(WINDOW_AT_THE_FRONT,),
    )
    (created,) = venue.decide(create, floor)
    floor = venue.evolve(floor, created)
    moved = LayoutTable(table_id="t-window", x=4, y=2, rotation=90, shape="round")
    change = ChangeLayout(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        layout_id="l-winter",
        name="Winter",
        tables=(moved,),
    )
    (changed,) = venue.decide(change, floor)
    floor = venue.evolve(floor, changed)
    activate = ActivateLayout(
        venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, layout_id="l-winter"
    )
    (activated,) = venue.decide(activate, floor)
    floor = venue.evolve(floor, activated)

    assert floor.active_layout_id == "l-winter"
    assert floor.layouts["l-winter"].tables == (moved,)
    assert venue.decide(activate, floor) == []


@pytest.mark.parametrize(
    ("command", "error"),
    [
        pytest.param(
            CreateLayout(
                venue_id=TEST_VENUE,
                command_id="c",
                actor=ADMIN,
                now=NOW,
                layout_id="l-summer",
                name="Again",
            ),
            LayoutAlreadyExists,
            id="a layout id is used once",
        ),
        pytest.param(
            CreateLayout(
                venue_id=TEST_VENUE,
                command_id="c",
                actor=ADMIN,
                now=NOW,
                layout_id="l-new",
                name="Ghosts",
                tables=(LayoutTable(table_id="t-ghost", x=0, y=0),),
            ),
            UnknownTableInLayout,
            id="a layout places only tables the venue has",
        ),
        pytest.param(
            CreateLayout(
                venue_id=TEST_VENUE,
                command_id="c",
                actor=ADMIN,
                now=NOW,
                layout_id="l-new",
                name="Twice",
                tables=(WINDOW_AT_THE_FRONT, WINDOW_AT_THE_FRONT),
            ),
            InvalidLayout,
            id="a layout places a table once",
        ),
        pytest.param(
            DeleteLayout(
                venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, layout_id="l-summer"
            ),
            LayoutIsActive,
            id="the active layout cannot be deleted",
        ),
        pytest.param(
            ActivateLayout(
                venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, layout_id="l-nowhere"
            ),
            LayoutNotFound,
            id="an unknown layout cannot be activated",
        ),
        pytest.param(
            SetOpeningHours(venue_id=TEST_VENUE, command_id="c", actor=ADA, now=NOW, hours=HOURS),
            Forbidden,
            id="a guest cannot change the opening hours",
        ),
    ],
)
def test_layout_and_permission_rules(command: VenueCommand, error: type[DomainError]) -> None:
    with pytest.raises(error):
        venue.decide(command, the_floor())


def test_a_deleted_layout_is_gone() -> None:
    floor = given(
        TableRegistered(table_id="t-window", name="WINDOW-4"),
        LayoutCreated(layout_id="l-old", name="Old"),
    )
    delete = DeleteLayout(
        venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, layout_id="l-old"
    )

    (deleted,) = venue.decide(delete, floor)

    assert venue.evolve(floor, deleted).layouts == {}
