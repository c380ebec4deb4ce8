"""Pacing over HTTP: the rules in `time-slots`, the 422 `.../pacing` a guest gets, and
`/availability` hiding the starts pacing would refuse."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import TIME_ZONE, Headers, NewUser, World, problem_of
from tests.api.test_admin_floor import SETUP_SLOTS, SLOTS, WEEKDAYS
from tests.api.test_host_stand import (
    _booking as _staff_booking,
)
from tests.api.test_host_stand import (
    _host_of,
    _local_now,
    _on_grid,
    _open_venue,
    _staff_book,
)

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def slots_restored(client: Client, admin: Headers) -> AsyncIterator[None]:
    yield
    restored = await client.put(SLOTS, json=SETUP_SLOTS, headers=admin)
    assert restored.status_code == 200, restored.text


@pytest.mark.parametrize(
    ("rule", "field", "says"),
    [
        ({"per_minutes": 4, "max_covers": 10}, "per_minutes", "must be from 5 to 1440"),
        ({"per_minutes": 30}, "max_covers", "give a limit on guests (max_covers)"),
        ({"per_minutes": 30, "max_covers": 0}, "max_covers", "must be from 1"),
        ({"per_minutes": 30, "max_bookings": 0}, "max_bookings", "must be from 1"),
        (
            {"per_minutes": 30, "max_covers": 9, "weekday": "funday"},
            "weekday",
            "must be monday",
        ),
        ({"per_minutes": 30, "max_covers": 9, "weekday": 7}, "weekday", "must be monday"),
        (
            {"per_minutes": 30, "max_covers": 9, "from": "21:00", "to": "18:00"},
            "to",
            "must be after the start (from)",
        ),
    ],
)
async def test_a_pacing_rule_no_venue_could_mean_is_a_422_that_says_why(
    client: Client,
    admin: Headers,
    slots_restored: None,
    rule: dict[str, Any],
    field: str,
    says: str,
) -> None:
    refused = await client.put(SLOTS, json={**SETUP_SLOTS, "pacing": [rule]}, headers=admin)

    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/invalid-slot-settings")
    assert f"pacing[0].{field}: {says}" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == [f"pacing[0].{field}"]
    assert problem["errors"][0]["message"].startswith(says)


async def test_pacing_rules_are_read_back_with_weekdays_named_as_opening_hours_name_them(
    client: Client, admin: Headers, slots_restored: None
) -> None:
    rules: list[dict[str, Any]] = [
        {"per_minutes": 15, "max_covers": 20},
        {"weekday": 4, "from": "18:00", "to": "21:00", "per_minutes": 30, "max_bookings": 6},
    ]

    changed = await client.put(SLOTS, json={**SETUP_SLOTS, "pacing": rules}, headers=admin)

    assert changed.status_code == 200, changed.text
    seen = {**admin, "X-Consistency-Token": changed.headers["x-consistency-token"]}
    read = await client.get(SLOTS, headers=seen)
    assert read.json()["pacing"] == [rules[0], {**rules[1], "weekday": "friday"}]


def _booking(day: dt.date, at: str, table_id: str) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "time": at,
        "party_size": 2,
        "guest_name": "Ada Lovelace, party of 2",
        "table_id": table_id,
    }


async def test_a_full_pacing_window_is_a_422_and_availability_hides_that_start(
    client: Client,
    admin: Headers,
    guest: Headers,
    days: Iterator[dt.date],
    slots_restored: None,
) -> None:
    day = next(days)
    rule = {
        "weekday": WEEKDAYS[day.weekday()],
        "from": "22:00",
        "to": "22:30",
        "per_minutes": 15,
        "max_bookings": 1,
    }
    changed = await client.put(SLOTS, json={**SETUP_SLOTS, "pacing": [rule]}, headers=admin)
    assert changed.status_code == 200, changed.text

    first = await client.post("/api/v1/bookings/", json=_booking(day, "22:00", "t1"), headers=guest)
    second = await client.post(
        "/api/v1/bookings/", json=_booking(day, "22:00", "t2"), headers=guest
    )

    assert first.status_code == 201, first.text
    assert second.status_code == 422, second.text
    problem = second.json()
    assert problem["type"].endswith("/pacing")
    assert problem["detail"] == "22:00\u201322:15 already has 1 of 1 bookings starting; try 22:15"
    token = {"X-Consistency-Token": first.headers["x-consistency-token"]}
    slots = await client.get(
        "/api/v1/availability",
        params={"date": day.isoformat(), "party_size": 2},
        headers=token,
    )
    listed = {s["time"] for s in slots.json()["slots"]}
    assert "22:00" not in listed
    assert {"21:45", "22:15"} <= listed
    tables = await client.get(
        "/api/v1/bookings/tables",
        params={"date": day.isoformat(), "time": "22:00", "party_size": 2},
        headers=token,
    )
    status = {t["table_id"]: t["status"] for t in tables.json()["tables"]}
    assert status["t1"] == "booked"
    assert status["t2"] == "closed"
    later = await client.post("/api/v1/bookings/", json=_booking(day, "22:15", "t2"), headers=guest)
    assert later.status_code == 201, later.text


async def test_staff_past_a_full_window_need_a_reason_which_the_history_keeps(
    client: Client, admin: Headers, new_user: NewUser, world: World
) -> None:
    venue = await _open_venue(world)
    host = await _host_of(client, admin, new_user, venue)
    settings = {
        "interval_minutes": 15,
        "turn_times": [{"max_party_size": 8, "minutes": 90}],
        "buffer_minutes": 0,
        "min_lead_minutes": 60,
        "max_days_ahead": 30,
        "time_zone": TIME_ZONE,
        "pacing": [{"per_minutes": 30, "max_bookings": 1}],
    }
    paced = await client.put(venue.path("admin/time-slots"), json=settings, headers=admin)
    assert paced.status_code == 200, paced.text
    later = _on_grid(_local_now() + dt.timedelta(hours=2))
    first = await _staff_book(client, host, venue, _staff_booking(later, table_id="h1"))
    assert first.status_code == 201, first.text

    refused = await _staff_book(client, host, venue, _staff_booking(later, "Bea", table_id="h2"))
    problem = problem_of(refused, 422, "override-required")
    assert problem["rule"] == "pacing"
    assert "already has 1 of 1 bookings starting" in problem["detail"]

    reason = "Regulars; the kitchen can take two at once"
    made = await _staff_book(
        client,
        host,
        venue,
        _staff_booking(later, "Bea", table_id="h2", override={"reason": reason}),
    )
    assert made.status_code == 201, made.text
    history = await client.get(venue.path(f"bookings/{made.json()['id']}/history"), headers=host)
    (placed,) = history.json()
    assert placed["data"]["override"]["reason"] == reason
    assert placed["data"]["paced"] is True
