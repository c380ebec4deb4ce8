"""Opening hours and slot settings are refused for every fault at once, each named by the
path of the value at fault as the API's client sent it, so a form can show each message
beside its input."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from booking_core.domain import venue
from booking_core.domain.commands import ChangeSlotSettings
from booking_core.domain.errors import InvalidOpeningHours, InvalidSlotSettings
from booking_core.domain.time_rules import check_opening_hours
from booking_core.domain.values import OpeningHours, PacingRule, Shift, TurnTime
from tests.support.scope import TEST_VENUE
from tests.unit.domain.world import ADMIN, NOW, SETTINGS


def test_every_overlapping_shift_is_named_by_its_weekday_and_place() -> None:
    hours = OpeningHours(
        monday=(Shift(opens=time(12), closes=time(15)), Shift(opens=time(14), closes=time(22))),
        friday=(Shift(opens=time(18), closes=time(2)),),
        saturday=(Shift(opens=time(1), closes=time(4)),),
    )

    with pytest.raises(InvalidOpeningHours) as refused:
        check_opening_hours(hours)

    assert refused.value.problems == (
        ("monday[1].open", "overlaps Monday's 12:00-15:00"),
        ("saturday[0].open", "overlaps Friday's 18:00-02:00"),
    )


def test_sunday_night_running_into_monday_names_mondays_shift() -> None:
    hours = OpeningHours(
        monday=(Shift(opens=time(1), closes=time(10)),),
        sunday=(Shift(opens=time(20), closes=time(3)),),
    )

    with pytest.raises(InvalidOpeningHours) as refused:
        check_opening_hours(hours)

    assert refused.value.problems == (("monday[0].open", "overlaps Sunday's 20:00-03:00"),)


def test_every_unreasonable_slot_setting_is_named_at_once() -> None:
    faults: dict[str, Any] = {
        "interval_minutes": 0,
        "turn_times": (
            TurnTime(max_party_size=2, minutes=0),
            TurnTime(max_party_size=2, minutes=90),
        ),
        "buffer_minutes": 500,
        "time_zone": "Atlantis/Lost_City",
        "pacing": (PacingRule(per_minutes=30, max_covers=0),),
    }
    sane = {f: getattr(SETTINGS, f) for f in SETTINGS.__struct_fields__}
    command = ChangeSlotSettings(
        venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, **(sane | faults)
    )

    with pytest.raises(InvalidSlotSettings) as refused:
        venue.decide(command, venue.initial_state)

    assert [path for path, _ in refused.value.problems] == [
        "interval_minutes",
        "turn_times[0].minutes",
        "turn_times[1].max_party_size",
        "buffer_minutes",
        "time_zone",
        "pacing[0].max_covers",
    ]
    assert refused.value.field == "interval_minutes"
    assert "turn_times[0].minutes: must be from 1 to 1440" in refused.value.detail
