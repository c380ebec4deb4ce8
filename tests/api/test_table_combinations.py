"""Table combinations over HTTP: staff join tables for a large party, guests are offered
and seated at them, a combination holds each of its tables, and what cannot be is refused
with its own problem type."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import Headers
from tests.api.test_admin_floor import (
    SETUP_HOURS,
    SETUP_SLOTS,
    Client,
    Floor,
    _seen,
    _unique,
    floor,
)
from tests.support.scope import scoped_path

__all__ = ["floor"]  # the fixture, used by name

COMBINATIONS = "/api/v1/admin/table-combinations"


@pytest.fixture(autouse=True)
async def open_as_set_up(client: Client, admin: Headers) -> None:
    """The venue's hours and slot settings as the suite set them up: a test of the API's
    contract that ran before may have left others."""
    for path, body in (
        ("/api/v1/admin/operating-hours", SETUP_HOURS),
        ("/api/v1/admin/time-slots", SETUP_SLOTS),
    ):
        put = await client.put(path, json=body, headers=admin)
        assert put.status_code == 200, put.text


async def _combine(client: Client, admin: Headers, *table_ids: str, **fields: Any) -> Any:
    body = {"table_ids": list(table_ids), "min_capacity": 9, "capacity": 10, **fields}
    return await client.post(f"{COMBINATIONS}/", json=body, headers=admin)


async def _book(client: Client, guest: Headers, day: dt.date, party: int, **fields: Any) -> Any:
    return await client.post(
        "/api/v1/bookings/",
        json={
            "date": day.isoformat(),
            "time": "19:00",
            "party_size": party,
            "guest_name": f"Ada Lovelace, party of {party}",
            **fields,
        },
        headers=guest,
    )


def _kind(response: Any) -> str:
    problem: str = response.json()["type"]
    return problem.rsplit("/", 1)[-1]


async def test_a_party_no_table_seats_is_offered_and_given_the_combination(
    client: Client, admin: Headers, guest: Headers, floor: Floor, days: Iterator[dt.date]
) -> None:
    left = await floor.table(name=_unique("LONG-L"), capacity=6, min_capacity=1)
    right = await floor.table(name=_unique("LONG-R"), capacity=6, min_capacity=1)
    pair = (left["id"], right["id"])

    made = await _combine(client, admin, *pair, name="The long table")

    assert made.status_code == 201, made.text
    combination = made.json()
    assert combination["id"].startswith("cmb_")
    assert combination["table_ids"] == list(pair)
    assert (combination["min_capacity"], combination["capacity"]) == (9, 10)
    assert made.headers["location"] == scoped_path(f"{COMBINATIONS}/{combination['id']}")
    listed = await client.get(f"{COMBINATIONS}/", headers=_seen(made, admin))
    assert combination in listed.json()["items"]
    read = await client.get(f"{COMBINATIONS}/{combination['id']}", headers=admin)
    assert read.json() == combination

    day = next(days)
    token = {"X-Consistency-Token": made.headers["x-consistency-token"]}
    starts = await client.get(
        "/api/v1/availability", params={"date": day.isoformat(), "party_size": 10}, headers=token
    )
    assert "19:00" in [slot["time"] for slot in starts.json()["slots"]], starts.text
    shown = await client.get(
        "/api/v1/bookings/tables",
        params={"date": day.isoformat(), "time": "19:00", "party_size": 10},
        headers=token,
    )
    offered = {c["combination_id"]: c for c in shown.json()["combinations"]}
    assert offered[combination["id"]]["status"] == "available"
    assert offered[combination["id"]]["fits_party"] is True

    booked = await _book(client, guest, day, 10)

    assert booked.status_code == 201, booked.text
    assert booked.json()["table_ids"] == list(pair)
    assert booked.json()["table_id"] == pair[0]
    after = await client.get(
        "/api/v1/bookings/tables",
        params={"date": day.isoformat(), "time": "19:00", "party_size": 10},
        headers={"X-Consistency-Token": booked.headers["x-consistency-token"]},
    )
    statuses = {t["table_id"]: t["status"] for t in after.json()["tables"]}
    assert statuses[left["id"]] == statuses[right["id"]] == "booked"
    assert {c["combination_id"]: c["status"] for c in after.json()["combinations"]}[
        combination["id"]
    ] == "booked"


async def test_a_combination_holds_each_of_its_tables(
    client: Client, admin: Headers, guest: Headers, floor: Floor, days: Iterator[dt.date]
) -> None:
    name = _unique("NOOK")
    nook = await floor.table(name=name, capacity=4, min_capacity=1)
    bench = await floor.table(name=_unique("BENCH"), capacity=4, min_capacity=1)
    stool = await floor.table(name=_unique("STOOL"), capacity=4, min_capacity=1)
    assert (
        await _combine(client, admin, bench["id"], nook["id"], min_capacity=5, capacity=8)
    ).status_code == 201
    assert (
        await _combine(client, admin, nook["id"], stool["id"], min_capacity=5, capacity=8)
    ).status_code == 201
    day = next(days)
    first = await _book(client, guest, day, 7, table_ids=[bench["id"], nook["id"]])
    assert first.status_code == 201, first.text

    single = await _book(client, guest, day, 2, table_id=nook["id"])
    overlap = await _book(client, guest, day, 6, table_ids=[nook["id"], stool["id"]])

    assert single.status_code == 409
    assert _kind(single) == "table-already-booked"
    assert overlap.status_code == 409, overlap.text
    assert _kind(overlap) == "combination-overlap"
    assert name in overlap.json()["detail"]
    assert "19:00" in overlap.json()["detail"]


async def test_combinations_that_cannot_be(
    client: Client, admin: Headers, guest: Headers, floor: Floor
) -> None:
    one = (await floor.table(capacity=4))["id"]
    two = (await floor.table(capacity=4))["id"]
    gone = (await floor.table(capacity=4))["id"]
    retired = await client.delete(f"/api/v1/admin/tables/{gone}", headers=admin)
    assert retired.status_code == 200
    floor.added.remove(gone)

    refused = {
        "one table": await _combine(client, admin, one),
        "a table twice": await _combine(client, admin, one, one),
        "an unknown table": await _combine(client, admin, one, "tbl_nowhere"),
        "a retired table": await _combine(client, admin, one, gone),
        "capacity below its minimum": await _combine(
            client, admin, one, two, min_capacity=8, capacity=6
        ),
        "a minimum of none": await _combine(client, admin, one, two, min_capacity=0, capacity=6),
        "absurd seats": await _combine(client, admin, one, two, min_capacity=5, capacity=10_000),
    }
    for why, response in refused.items():
        assert response.status_code == 422, (why, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert _kind(response) in ("invalid-combination", "unknown-table-in-combination"), why
        assert response.json()["detail"], why
    assert _kind(refused["a retired table"]) == "unknown-table-in-combination"
    assert gone in refused["a retired table"].json()["detail"]

    made = await _combine(client, admin, one, two, min_capacity=5, capacity=8)
    assert made.status_code == 201, made.text
    again = await _combine(client, admin, two, one, min_capacity=6, capacity=8)
    assert again.status_code == 409
    assert _kind(again) == "combination-already-exists"
    unknown_field = await client.post(
        f"{COMBINATIONS}/",
        json={"table_ids": [one, two], "min_capacity": 5, "capacity": 8, "seats": 3},
        headers=admin,
    )
    assert unknown_field.status_code == 400
    not_json = await client.post(
        f"{COMBINATIONS}/",
        content=b"{table_ids",
        headers={**admin, "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400
    as_guest = await _combine(client, guest, one, two)
    assert as_guest.status_code == 403


async def test_a_combination_is_removed_and_its_tables_stay(
    client: Client, admin: Headers, floor: Floor
) -> None:
    one = (await floor.table(capacity=4))["id"]
    two = (await floor.table(capacity=4))["id"]
    made = (await _combine(client, admin, one, two, min_capacity=5, capacity=8)).json()

    removed = await client.delete(f"{COMBINATIONS}/{made['id']}", headers=admin)

    assert removed.status_code == 200, removed.text
    assert removed.json() == made
    gone = await client.get(f"{COMBINATIONS}/{made['id']}", headers=_seen(removed, admin))
    assert gone.status_code == 404
    assert _kind(gone) == "combination-not-found"
    twice = await client.delete(f"{COMBINATIONS}/{made['id']}", headers=admin)
    assert twice.status_code == 404


async def test_retiring_a_table_removes_its_combinations(
    client: Client, admin: Headers, floor: Floor
) -> None:
    one = (await floor.table(capacity=4))["id"]
    two = (await floor.table(capacity=4))["id"]
    made = (await _combine(client, admin, one, two, min_capacity=5, capacity=8)).json()

    retired = await client.delete(f"/api/v1/admin/tables/{one}", headers=admin)
    floor.added.remove(one)

    assert retired.status_code == 200
    listed = await client.get(f"{COMBINATIONS}/", headers=_seen(retired, admin))
    assert made["id"] not in [c["id"] for c in listed.json()["items"]]


async def test_a_booking_moves_onto_a_combination_and_names_its_tables_plainly(
    client: Client, admin: Headers, guest: Headers, floor: Floor, days: Iterator[dt.date]
) -> None:
    one = (await floor.table(capacity=4, min_capacity=1))["id"]
    two = (await floor.table(capacity=4, min_capacity=1))["id"]
    assert (await _combine(client, admin, one, two, min_capacity=5, capacity=8)).status_code == 201
    day = next(days)
    booked = await _book(client, guest, day, 4, table_id=one)
    assert booked.status_code == 201, booked.text

    moved = await client.put(
        f"/api/v1/bookings/{booked.json()['id']}",
        json={"party_size": 7, "table_ids": [two, one]},
        headers=guest,
    )

    assert moved.status_code == 200, moved.text
    assert moved.json()["table_ids"] == [two, one]
    assert moved.json()["table_id"] == two
    mismatched = await _book(client, guest, day, 6, table_id=one, table_ids=[two, one])
    assert mismatched.status_code == 422
    assert _kind(mismatched) == "invalid-booking"
    blank = await _book(client, guest, day, 6, table_ids=[one, ""])
    assert blank.status_code == 422
    assert _kind(blank) == "invalid-booking"


async def test_staff_book_a_combination_by_phone(
    client: Client, admin: Headers, floor: Floor, days: Iterator[dt.date]
) -> None:
    one = (await floor.table(capacity=4, min_capacity=1))["id"]
    two = (await floor.table(capacity=4, min_capacity=1))["id"]
    assert (await _combine(client, admin, one, two, min_capacity=5, capacity=8)).status_code == 201

    booked = await client.post(
        "/api/v1/admin/bookings",
        json={
            "date": next(days).isoformat(),
            "time": "19:00",
            "party_size": 8,
            "guest_name": "Alan Turing, party of 8",
            "table_ids": [one, two],
        },
        headers=admin,
    )

    assert booked.status_code == 201, booked.text
    assert booked.json()["table_ids"] == [one, two]
