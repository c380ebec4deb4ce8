"""The options of export, replay and the time-travel reads are checked before anything
is opened: instants carry their offset, names are identifiers, types exist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from projectors.base import KeySpace, TableNames
from projectors.replay import check_name, replay_prefix, replay_schema
from read_models.as_of import parse_instant
from tablebook.export import ExportRequest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T19:00:00Z", datetime(2026, 11, 26, 19, tzinfo=UTC)),
        ("2026-11-26T20:00:00+01:00", datetime(2026, 11, 26, 19, tzinfo=UTC)),
        (" 2026-11-26T19:00:00.250000Z ", datetime(2026, 11, 26, 19, 0, 0, 250000, tzinfo=UTC)),
    ],
    ids=["UTC", "an offset is turned into UTC", "fractions and spaces"],
)
def test_an_instant_is_iso_8601_with_an_offset(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected
    assert parse_instant(text).tzinfo is UTC


@pytest.mark.parametrize("text", ["2026-11-26T19:00:00", "2026-11-26", "tomorrow", ""])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="instant"):
        parse_instant(text)


def test_an_export_request_names_what_it_keeps() -> None:
    request = ExportRequest.parse(
        format="csv",
        start="2026-11-01T00:00:00Z",
        end="2026-12-01T00:00:00Z",
        stream_prefix="booking-",
        types=["BookingPlaced", "BookingMarkedNoShow"],
        output="november.csv",
    )
    assert request.recorded_from == datetime(2026, 11, 1, tzinfo=UTC)
    assert request.recorded_before == datetime(2026, 12, 1, tzinfo=UTC)
    assert request.types == frozenset({"BookingPlaced", "BookingMarkedNoShow"})
    assert ExportRequest.parse(format="jsonl") == ExportRequest(format="jsonl")


def test_a_replay_lives_in_its_own_schema_and_key_namespace() -> None:
    assert replay_schema("friday_20h") == "replay_friday_20h"
    assert replay_prefix("tb:", "friday_20h") == "tb:replay:friday_20h:"
    keys = KeySpace("tb:", "availability", namespace="replay:friday_20h:")
    assert keys.checkpoint == "tb:replay:friday_20h:availability:checkpoint"
    tables = TableNames.in_schema("replay_friday_20h", ["rm_bookings"])
    assert tables["rm_bookings"].as_string() == '"replay_friday_20h"."rm_bookings"'


@pytest.mark.parametrize("name", ["Friday", "friday night", "a:b", "*", "é", "_x", "x" * 41])
def test_a_replay_name_must_be_a_plain_identifier(name: str) -> None:
    with pytest.raises(ValueError, match="bad replay name"):
        check_name(name)
