"""The admin floor over HTTP: tables, blocks, layouts, opening hours, slot settings and
closures, and what guests see of them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import TIME_ZONE, Headers
from tests.support.scope import scoped_path

Client = AsyncTestClient[Litestar]

TABLES = "/api/v1/admin/tables"
LAYOUTS = "/api/v1/admin/layouts"
CLOSURES = "/api/v1/admin/closures"
HOURS = "/api/v1/admin/operating-hours"
SLOTS = "/api/v1/admin/time-slots"

SETUP_SLOTS = {
    "interval_minutes": 15,
    "turn_times": [{"max_party_size": 2, "minutes": 90}, {"max_party_size": 8, "minutes": 120}],
    "buffer_minutes": 0,
    "min_lead_minutes": 0,
    "max_days_ahead": 365,
    "time_zone": TIME_ZONE,
}
SETUP_DAY = [{"open": "10:00", "close": "23:45"}]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SETUP_HOURS = dict.fromkeys(WEEKDAYS, SETUP_DAY)


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Floor:
    """Adds tables for one test and retires them after it, so that no other test's count
    of free tables ever sees them."""

    def __init__(self, client: Client, admin: Headers) -> None:
        self.client = client
        self.admin = admin
        self.added: list[str] = []

    async def add(self, **fields: Any) -> Any:
        body = {"name": _unique("WINDOW"), "capacity": 2, **fields}
        made = await self.client.post(f"{TABLES}/", json=body, headers=self.admin)
        assert made.status_code == 201, made.text
        self.added.append(made.json()["id"])
        return made

    async def table(self, **fields: Any) -> dict[str, Any]:
        table: dict[str, Any] = (await self.add(**fields)).json()
        return table

    async def retire_all(self) -> None:
        for table_id in self.added:
            retired = await self.client.delete(
                f"{TABLES}/{table_id}", params={"cancel_bookings": "true"}, headers=self.admin
            )
            assert retired.status_code == 200, retired.text


@pytest.fixture
async def floor(client: Client, admin: Headers) -> AsyncIterator[Floor]:
    floor = Floor(client, admin)
    yield floor
    await floor.retire_all()


def _seen(response: Any, admin: Headers) -> Headers:
    """`admin`'s headers, waiting for what `response` wrote."""
    return {**admin, "X-Consistency-Token": response.headers["x-consistency-token"]}


async def _status_at(client: Client, day: dt.date, time: str, token: str) -> dict[str, str]:
    found = await client.get(
        "/api/v1/bookings/tables",
        params={"date": day.isoformat(), "time": time, "party_size": 2},
        headers={"X-Consistency-Token": token},
    )
    assert found.status_code == 200, found.text
    return {t["table_id"]: t["status"] for t in found.json()["tables"]}


async def _book(
    client: Client, guest: Headers, day: dt.date, table_id: str, time: str = "19:00"
) -> Any:
    return await client.post(
        "/api/v1/bookings/",
        json={
            "date": day.isoformat(),
            "time": time,
            "party_size": 2,
            "guest_name": "Ada Lovelace, party of 2",
            "table_id": table_id,
        },
        headers=guest,
    )


# --- who may ---------------------------------------------------------------------------

ROUTES = [
    ("POST", f"{TABLES}/", {"name": "NOPE", "capacity": 2}),
    ("GET", f"{TABLES}/", None),
    ("GET", f"{TABLES}/t1", None),
    ("PUT", f"{TABLES}/t1", {"capacity": 3}),
    ("DELETE", f"{TABLES}/t1", None),
    ("POST", f"{TABLES}/t1/blocks", {"start": "2030-01-01T10:00", "end": "2030-01-01T11:00"}),
    ("GET", f"{TABLES}/t1/blocks", None),
    ("GET", f"{TABLES}/t1/blocks/blk_x", None),
    ("DELETE", f"{TABLES}/t1/blocks/blk_x", None),
    ("POST", f"{LAYOUTS}/", {"name": "Summer"}),
    ("GET", f"{LAYOUTS}/", None),
    ("GET", f"{LAYOUTS}/lay_x", None),
    ("PUT", f"{LAYOUTS}/lay_x", {"name": "Summer"}),
    ("DELETE", f"{LAYOUTS}/lay_x", None),
    ("POST", f"{LAYOUTS}/lay_x/activate", None),
    (
        "POST",
        "/api/v1/admin/table-combinations/",
        {"table_ids": ["t3", "t4"], "min_capacity": 5, "capacity": 8},
    ),
    ("GET", "/api/v1/admin/table-combinations/", None),
    ("GET", "/api/v1/admin/table-combinations/cmb_x", None),
    ("DELETE", "/api/v1/admin/table-combinations/cmb_x", None),
    ("GET", HOURS, None),
    ("PUT", HOURS, SETUP_HOURS),
    ("GET", SLOTS, None),
    ("PUT", SLOTS, SETUP_SLOTS),
    ("POST", f"{CLOSURES}", {"date": "2030-01-01", "reason": "nope"}),
    ("GET", f"{CLOSURES}", None),
    ("GET", f"{CLOSURES}/2030-01-01", None),
    ("DELETE", f"{CLOSURES}/2030-01-01", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
async def test_every_admin_floor_route_refuses_strangers_and_guests(
    client: Client, guest: Headers, method: str, path: str, body: Any
) -> None:
    anonymous = await client.request(method, path, json=body)
    assert anonymous.status_code == 401, anonymous.text
    as_guest = await client.request(method, path, json=body, headers=guest)
    assert as_guest.status_code == 403, as_guest.text


# --- tables ----------------------------------------------------------------------------


async def test_a_new_table_is_listed_bookable_and_shown_to_guests(
    client: Client, admin: Headers, floor: Floor, guest: Headers, days: Iterator[dt.date]
) -> None:
    area = _unique("Conservatory")
    made = await floor.add(capacity=2, area=area, x=3.5, y=1, width=2, rotation=45, shape="round")
    table = made.json()
    assert table["id"].startswith("tbl_")
    assert (table["capacity"], table["min_capacity"], table["area"]) == (2, 1, area)
    assert (table["x"], table["y"], table["rotation"], table["shape"]) == (3.5, 1.0, 45.0, "round")
    assert table["retired"] is False
    assert table["version"] == 1
    listed = await client.get(f"{TABLES}/", params={"area": area}, headers=_seen(made, admin))
    assert listed.status_code == 200
    assert listed.json()["items"] == [table]
    read = await client.get(f"{TABLES}/{table['id']}", headers=admin)
    assert read.json() == table
    assert read.headers["etag"] == made.headers["etag"] == '"1"'

    day = next(days)
    booked = await _book(client, guest, day, table["id"])
    assert booked.status_code == 201, booked.text
    assert booked.json()["table_id"] == table["id"]
    status = await _status_at(client, day, "19:30", booked.headers["x-consistency-token"])
    assert status[table["id"]] == "booked"


async def test_created_table_has_a_location_and_answers_repeats_with_the_first_response(
    client: Client, admin: Headers, floor: Floor
) -> None:
    body = {"name": _unique("BOOTH"), "capacity": 4, "min_capacity": 2}
    keyed = {**admin, "Idempotency-Key": _unique("add-booth")}
    first = await client.post(f"{TABLES}/", json=body, headers=keyed)
    again = await client.post(f"{TABLES}/", json=body, headers=keyed)
    floor.added.append(first.json()["id"])
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.headers["location"] == scoped_path(f"{TABLES}/{first.json()['id']}")


async def test_tables_list_in_pages(client: Client, admin: Headers, floor: Floor) -> None:
    area = _unique("Mezzanine")
    made = [await floor.add(area=area) for _ in range(3)]
    seen = _seen(made[-1], admin)
    page = await client.get(f"{TABLES}/", params={"area": area, "limit": 2}, headers=seen)
    assert len(page.json()["items"]) == 2
    rest = await client.get(
        f"{TABLES}/",
        params={"area": area, "limit": 2, "cursor": page.json()["next_cursor"]},
        headers=admin,
    )
    assert rest.json()["next_cursor"] is None
    names = [t["name"] for t in page.json()["items"] + rest.json()["items"]]
    assert names == sorted(t.json()["name"] for t in made)


async def test_changing_a_table(client: Client, admin: Headers, floor: Floor) -> None:
    table = await floor.table(area="Bar")
    changed = await client.put(
        f"{TABLES}/{table['id']}",
        json={"capacity": 6, "min_capacity": 2, "area": None, "shape": "oval"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["capacity"], body["min_capacity"], body["area"], body["shape"]) == (
        6,
        2,
        None,
        "oval",
    )
    assert body["name"] == table["name"]
    assert body["version"] == 2
    assert body["created_at"] == table["created_at"]
    read = await client.get(f"{TABLES}/{table['id']}", headers=_seen(changed, admin))
    assert read.json() == body


async def test_table_changes_that_cannot_be(client: Client, admin: Headers, floor: Floor) -> None:
    table = await floor.table()
    other = await floor.table()
    url = f"{TABLES}/{table['id']}"
    assert (await client.put(url, json={"min_capacity": 3}, headers=admin)).status_code == 422
    renamed = await client.put(url, json={"name": other["name"]}, headers=admin)
    assert renamed.status_code == 409
    assert (await client.put(url, json={"seats": 3}, headers=admin)).status_code == 400
    assert (await client.put(url, json={"capacity": 10_000}, headers=admin)).status_code == 400
    assert (await client.put(url, json={"width": 0}, headers=admin)).status_code == 400
    missing = await client.put(f"{TABLES}/tbl_nowhere", json={"capacity": 3}, headers=admin)
    assert missing.status_code == 404
    assert (await client.get(f"{TABLES}/tbl_nowhere", headers=admin)).status_code == 404
    twin = await client.post(
        f"{TABLES}/", json={"name": table["name"], "capacity": 2}, headers=admin
    )
    assert twin.status_code == 409
    empty = await client.post(f"{TABLES}/", json={"name": "", "capacity": 2}, headers=admin)
    assert empty.status_code == 400


async def test_retiring_a_table_with_bookings_to_come(
    client: Client, admin: Headers, floor: Floor, guest: Headers, days: Iterator[dt.date]
) -> None:
    area = _unique("Garden")
    table = await floor.table(area=area)
    booked = await _book(client, guest, next(days), table["id"])
    assert booked.status_code == 201, booked.text
    url = f"{TABLES}/{table['id']}"

    refused = await client.delete(url, headers=admin)
    assert refused.status_code == 409
    assert booked.json()["id"] in refused.json()["detail"]

    retired = await client.delete(url, params={"cancel_bookings": "true"}, headers=admin)
    assert retired.status_code == 200, retired.text
    assert retired.json()["retired"] is True
    seen = _seen(retired, admin)
    booking = await client.get(f"/api/v1/bookings/{booked.json()['id']}", headers=seen)
    assert booking.json()["status"] == "cancelled"
    listed = await client.get(f"{TABLES}/", params={"area": area}, headers=seen)
    assert listed.json()["items"] == []
    with_retired = await client.get(
        f"{TABLES}/", params={"area": area, "include_retired": "true"}, headers=seen
    )
    assert [t["id"] for t in with_retired.json()["items"]] == [table["id"]]

    again = await client.delete(url, headers=admin)
    assert again.status_code == 200
    assert again.json() == retired.json()
    assert (await client.put(url, json={"capacity": 4}, headers=admin)).status_code == 409


async def test_retiring_a_table_without_bookings(
    client: Client, admin: Headers, floor: Floor
) -> None:
    table = await floor.table()
    retired = await client.delete(f"{TABLES}/{table['id']}", headers=admin)
    assert retired.status_code == 200, retired.text
    assert retired.json()["retired"] is True
    read = await client.get(f"{TABLES}/{table['id']}", headers=_seen(retired, admin))
    assert read.json() == retired.json()
    assert (await client.delete(f"{TABLES}/tbl_nowhere", headers=admin)).status_code == 404


# --- blocks ----------------------------------------------------------------------------


async def test_a_block_takes_the_table_out_of_service_until_lifted(
    client: Client, admin: Headers, floor: Floor, guest: Headers, days: Iterator[dt.date]
) -> None:
    table = await floor.table()
    day = next(days)
    blocked = await client.post(
        f"{TABLES}/{table['id']}/blocks",
        json={
            "start": f"{day.isoformat()}T18:00",
            "end": f"{day.isoformat()}T21:00",
            "reason": "Private tasting",
        },
        headers=admin,
    )
    assert blocked.status_code == 201, blocked.text
    block = blocked.json()
    assert block["table_id"] == table["id"]
    assert block["reason"] == "Private tasting"
    assert block["start"].endswith("Z")
    local = dt.datetime.fromisoformat(block["start"]).astimezone(dt.UTC)
    assert local.astimezone(_zone()).strftime("%H:%M") == "18:00"
    assert blocked.headers["location"] == scoped_path(
        f"{TABLES}/{table['id']}/blocks/{block['id']}"
    )

    token = blocked.headers["x-consistency-token"]
    assert (await _status_at(client, day, "19:00", token))[table["id"]] == "blocked"
    assert (await _status_at(client, day, "12:00", token))[table["id"]] == "available"
    assert (await _book(client, guest, day, table["id"])).status_code == 409
    listed = await client.get(f"{TABLES}/{table['id']}/blocks", headers=_seen(blocked, admin))
    assert listed.json()["items"] == [block]
    one = await client.get(blocked.headers["location"], headers=admin)
    assert one.json() == block

    lifted = await client.delete(blocked.headers["location"], headers=admin)
    assert lifted.status_code == 200, lifted.text
    assert lifted.json() == block
    token = lifted.headers["x-consistency-token"]
    assert (await _status_at(client, day, "19:00", token))[table["id"]] == "available"
    listed = await client.get(f"{TABLES}/{table['id']}/blocks", headers=_seen(lifted, admin))
    assert listed.json()["items"] == []
    assert (await client.delete(blocked.headers["location"], headers=admin)).status_code == 404
    assert (await client.get(blocked.headers["location"], headers=admin)).status_code == 404


async def test_a_block_given_in_instants(
    client: Client, admin: Headers, floor: Floor, days: Iterator[dt.date]
) -> None:
    table = await floor.table()
    day = next(days)
    blocked = await client.post(
        f"{TABLES}/{table['id']}/blocks",
        json={"start": f"{day.isoformat()}T12:00:00Z", "end": f"{day.isoformat()}T14:30:00+01:00"},
        headers=admin,
    )
    assert blocked.status_code == 201, blocked.text
    assert blocked.json()["start"] == f"{day.isoformat()}T12:00:00Z"
    assert blocked.json()["end"] == f"{day.isoformat()}T13:30:00Z"
    assert blocked.json()["reason"] == ""


async def test_blocks_that_cannot_be(
    client: Client, admin: Headers, floor: Floor, guest: Headers, days: Iterator[dt.date]
) -> None:
    table = await floor.table()
    day = next(days).isoformat()
    url = f"{TABLES}/{table['id']}/blocks"
    booked = await _book(client, guest, dt.date.fromisoformat(day), table["id"])
    assert booked.status_code == 201

    async def block(start: str, end: str) -> int:
        response = await client.post(url, json={"start": start, "end": end}, headers=admin)
        return response.status_code

    assert await block(f"{day}T18:30", f"{day}T19:30") == 409
    assert await block(f"{day}T15:00", f"{day}T14:00") == 422
    assert await block(f"{day} 15:00", f"{day}T16:00") == 400
    assert await block(f"{day}T25:00", f"{day}T26:00") == 422  # the right shape, no real time
    assert await block("9999-01-01T10:00", "9999-01-01T11:00") == 422
    missing = await client.post(
        f"{TABLES}/tbl_nowhere/blocks",
        json={"start": f"{day}T10:00", "end": f"{day}T11:00"},
        headers=admin,
    )
    assert missing.status_code == 404
    assert (await client.get(f"{TABLES}/tbl_nowhere/blocks", headers=admin)).status_code == 404
    lift = await client.delete(f"{url}/blk_nowhere", headers=admin)
    assert lift.status_code == 404


def _zone() -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(TIME_ZONE)


# --- layouts ---------------------------------------------------------------------------


def _layout(name: str, *table_ids: str) -> dict[str, Any]:
    return {
        "name": name,
        "tables": [
            {"table_id": t, "x": 2.0 * i, "y": 1.0, "shape": "round"}
            for i, t in enumerate(table_ids)
        ],
        "areas": [{"name": "Terrace", "x": 0, "y": 0, "width": 10, "height": 4}],
        "canvas": {"width": 20, "height": 12},
    }


async def test_layouts_are_created_replaced_activated_and_deleted(
    client: Client, admin: Headers, floor: Floor
) -> None:
    table = await floor.table()
    made = await client.post(f"{LAYOUTS}/", json=_layout("Summer", table["id"]), headers=admin)
    assert made.status_code == 201, made.text
    summer = made.json()
    assert summer["id"].startswith("lay_")
    assert summer["active"] is False
    assert summer["tables"][0] == {
        "table_id": table["id"],
        "x": 0.0,
        "y": 1.0,
        "width": 1.0,
        "height": 1.0,
        "rotation": 0.0,
        "shape": "round",
    }
    assert summer["canvas"] == {"width": 20.0, "height": 12.0, "background": None}
    url = made.headers["location"]
    read = await client.get(url, headers=_seen(made, admin))
    assert read.json() == summer
    assert read.headers["etag"] == f'"{summer["version"]}"'
    listed = await client.get(f"{LAYOUTS}/", params={"limit": 500}, headers=admin)
    assert summer in listed.json()["items"]

    winter_body = {"name": "Winter", "tables": []}
    replaced = await client.put(
        url, json=winter_body, headers={**admin, "If-Match": f'"{summer["version"]}"'}
    )
    assert replaced.status_code == 200, replaced.text
    winter = replaced.json()
    assert (winter["name"], winter["tables"], winter["areas"], winter["canvas"]) == (
        "Winter",
        [],
        [],
        None,
    )
    assert winter["version"] > summer["version"]
    assert winter["created_at"] == summer["created_at"]
    stale = await client.put(
        url, json=_layout("Spring"), headers={**admin, "If-Match": f'"{summer["version"]}"'}
    )
    assert stale.status_code == 409
    assert (await client.get(url, headers=_seen(replaced, admin))).json() == winter

    activated = await client.post(f"{url}/activate", headers=admin)
    assert activated.status_code == 200, activated.text
    assert activated.json() == {**winter, "active": True}
    assert (await client.delete(url, headers=admin)).status_code == 409

    other = await client.post(f"{LAYOUTS}/", json=_layout("Autumn"), headers=admin)
    switched = await client.post(f"{other.headers['location']}/activate", headers=admin)
    assert switched.json()["active"] is True
    previous = await client.get(url, headers=_seen(switched, admin))
    assert previous.json()["active"] is False
    deleted = await client.delete(url, headers=admin)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["name"] == "Winter"
    assert (await client.get(url, headers=_seen(deleted, admin))).status_code == 404
    assert (await client.delete(url, headers=admin)).status_code == 404


async def test_layouts_that_cannot_be(client: Client, admin: Headers) -> None:
    unknown = await client.post(f"{LAYOUTS}/", json=_layout("Ghosts", "tbl_nowhere"), headers=admin)
    assert unknown.status_code == 422
    twice = await client.post(f"{LAYOUTS}/", json=_layout("Twice", "t1", "t1"), headers=admin)
    assert twice.status_code == 422
    extra = await client.post(f"{LAYOUTS}/", json={"name": "X", "floor": 2}, headers=admin)
    assert extra.status_code == 400
    missing = await client.put(f"{LAYOUTS}/lay_nowhere", json=_layout("X"), headers=admin)
    assert missing.status_code == 404
    assert (await client.post(f"{LAYOUTS}/lay_nowhere/activate", headers=admin)).status_code == 404
    assert (await client.get(f"{LAYOUTS}/lay_nowhere", headers=admin)).status_code == 404
    made = await client.post(f"{LAYOUTS}/", json=_layout("Plain"), headers=admin)
    bad = await client.put(
        made.headers["location"], json=_layout("X"), headers={**admin, "If-Match": "soon"}
    )
    assert bad.status_code == 400


# --- opening hours and slot settings ---------------------------------------------------


async def test_opening_hours_read_and_replaced(client: Client, admin: Headers) -> None:
    read = await client.get(HOURS, headers=admin)
    assert read.status_code == 200
    assert read.json() == SETUP_HOURS
    late = {
        **SETUP_HOURS,
        "friday": [{"open": "12:00", "close": "15:00"}, {"open": "18:00", "close": "01:30"}],
    }
    del late["monday"]
    try:
        changed = await client.put(HOURS, json=late, headers=admin)
        assert changed.status_code == 200, changed.text
        assert changed.json() == {**late, "monday": []}
        seen = await client.get(HOURS, headers=_seen(changed, admin))
        assert seen.json() == changed.json()
    finally:
        restored = await client.put(HOURS, json=SETUP_HOURS, headers=admin)
        assert restored.status_code == 200
    overlapping = {
        "monday": [{"open": "10:00", "close": "15:00"}, {"open": "14:00", "close": "16:00"}]
    }
    assert (await client.put(HOURS, json=overlapping, headers=admin)).status_code == 422
    bad = {"monday": [{"open": "25:00", "close": "26:00"}]}
    assert (await client.put(HOURS, json=bad, headers=admin)).status_code == 400
    assert (await client.put(HOURS, json={"someday": []}, headers=admin)).status_code == 400


async def test_time_slots_read_and_replaced(client: Client, admin: Headers) -> None:
    read = await client.get(SLOTS, headers=admin)
    assert read.status_code == 200
    assert read.json() == SETUP_SLOTS
    same = await client.put(SLOTS, json=SETUP_SLOTS, headers=admin)
    assert same.status_code == 200
    assert same.json() == SETUP_SLOTS
    try:
        changed = await client.put(SLOTS, json={**SETUP_SLOTS, "buffer_minutes": 10}, headers=admin)
        assert changed.status_code == 200, changed.text
        seen = await client.get(SLOTS, headers=_seen(changed, admin))
        assert seen.json()["buffer_minutes"] == 10
    finally:
        restored = await client.put(SLOTS, json=SETUP_SLOTS, headers=admin)
        assert restored.status_code == 200
    nowhere = await client.put(
        SLOTS, json={**SETUP_SLOTS, "time_zone": "Mars/Olympus"}, headers=admin
    )
    assert nowhere.status_code == 422
    assert "time_zone" in nowhere.json()["detail"]
    zero = await client.put(SLOTS, json={**SETUP_SLOTS, "interval_minutes": 0}, headers=admin)
    assert zero.status_code == 422
    absurd = await client.put(SLOTS, json={**SETUP_SLOTS, "max_days_ahead": 10**12}, headers=admin)
    assert absurd.status_code == 400
    partial = await client.put(SLOTS, json={"interval_minutes": 30}, headers=admin)
    assert partial.status_code == 400


# --- closures --------------------------------------------------------------------------


async def test_a_closure_closes_the_day_until_reopened(
    client: Client, admin: Headers, guest: Headers, days: Iterator[dt.date]
) -> None:
    day = next(days)
    body = {"date": day.isoformat(), "reason": "Staff party"}
    closed = await client.post(CLOSURES, json=body, headers=admin)
    assert closed.status_code == 201, closed.text
    assert closed.json() == body
    url = f"{CLOSURES}/{day.isoformat()}"
    assert closed.headers["location"] == scoped_path(url)
    token = closed.headers["x-consistency-token"]
    assert set((await _status_at(client, day, "19:00", token)).values()) == {"closed"}
    assert (await _book(client, guest, day, "t1")).status_code == 422

    seen = _seen(closed, admin)
    assert (await client.get(url, headers=seen)).json() == body
    listed = await client.get(
        CLOSURES, params={"from": day.isoformat(), "to": day.isoformat()}, headers=seen
    )
    assert listed.json() == {"items": [body], "next_cursor": None}
    upcoming = await client.get(CLOSURES, params={"limit": 500}, headers=seen)
    assert body in upcoming.json()["items"]

    assert (await client.post(CLOSURES, json=body, headers=admin)).status_code == 200
    other = {**body, "reason": "Flood"}
    assert (await client.post(CLOSURES, json=other, headers=admin)).status_code == 409

    reopened = await client.delete(url, headers=admin)
    assert reopened.status_code == 200, reopened.text
    assert reopened.json() == body
    token = reopened.headers["x-consistency-token"]
    assert (await _status_at(client, day, "19:00", token))["t1"] == "available"
    assert (await client.get(url, headers=_seen(reopened, admin))).status_code == 404
    assert (await client.delete(url, headers=admin)).status_code == 404


async def test_closures_list_in_pages_and_refuse_nonsense(
    client: Client, admin: Headers, days: Iterator[dt.date]
) -> None:
    first, second, third = next(days), next(days), next(days)
    for day in (first, second, third):
        made = await client.post(CLOSURES, json={"date": day.isoformat()}, headers=admin)
        assert made.status_code == 201, made.text
    window: dict[str, str | int] = {"from": first.isoformat(), "to": third.isoformat(), "limit": 2}
    page = await client.get(CLOSURES, params=window, headers=_seen(made, admin))
    assert [c["date"] for c in page.json()["items"]] == [first.isoformat(), second.isoformat()]
    rest = await client.get(
        CLOSURES, params={**window, "cursor": page.json()["next_cursor"]}, headers=admin
    )
    assert [c["date"] for c in rest.json()["items"]] == [third.isoformat()]
    assert rest.json()["next_cursor"] is None
    far = await client.post(CLOSURES, json={"date": "9999-12-31"}, headers=admin)
    assert far.status_code == 422
    assert (await client.post(CLOSURES, json={"date": "someday"}, headers=admin)).status_code == 400
    assert (
        await client.get(CLOSURES, params={"cursor": "nonsense"}, headers=admin)
    ).status_code == 422
