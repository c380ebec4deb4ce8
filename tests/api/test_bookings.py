"""Guests' routes over HTTP: availability, booking, changing, cancelling, privacy."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Headers, NewUser
from tests.support.scope import scoped_path

Client = AsyncTestClient[Litestar]
PROBLEMS = "https://tablebook.dev/problems/"


def _booking(
    day: dt.date, time: str = "19:00", party: int = 2, **extra: object
) -> dict[str, object]:
    return {
        "date": day.isoformat(),
        "time": time,
        "party_size": party,
        "guest_name": "Ada",
        **extra,
    }


async def test_book_then_read_everywhere(
    client: Client, guest: Headers, days: Iterator[dt.date]
) -> None:
    day = next(days)
    made = await client.post(
        "/api/v1/bookings/",
        json=_booking(day, guest_phone="+44 20 7946 0001", special_requests="window"),
        headers=guest,
    )
    assert made.status_code == 201, made.text
    booking = made.json()
    assert booking["status"] == "confirmed"
    assert booking["time"] == "19:00"
    assert booking["end_time"] == "20:30"
    assert booking["table_id"] in {"t1", "t2"}
    assert made.headers["location"] == scoped_path(f"/api/v1/bookings/{booking['id']}")
    token = made.headers["x-consistency-token"]
    read = await client.get(
        f"/api/v1/bookings/{booking['id']}", headers={**guest, "X-Consistency-Token": token}
    )
    assert read.status_code == 200, read.text
    assert read.json() == booking
    mine = await client.get(
        "/api/v1/bookings/my-bookings", headers={**guest, "X-Consistency-Token": token}
    )
    assert [b["id"] for b in mine.json()["items"]] == [booking["id"]]
    tables = await client.get(
        "/api/v1/bookings/tables",
        params={"date": day.isoformat(), "time": "19:30", "party_size": 2},
        headers={"X-Consistency-Token": token},
    )
    assert tables.status_code == 200, tables.text
    status = {t["table_id"]: t["status"] for t in tables.json()["tables"]}
    assert status[booking["table_id"]] == "booked"
    assert "Ada" not in tables.text
    slots = await client.get(
        "/api/v1/availability",
        params={"date": day.isoformat(), "party_size": 2},
        headers={"X-Consistency-Token": token},
    )
    at_seven = next(s for s in slots.json()["slots"] if s["time"] == "19:00")
    assert at_seven["tables_available"] == 3  # t1-t4 fit two; one is taken


async def test_a_booking_shows_in_the_next_read_that_carries_its_token(
    client: Client, guest: Headers, days: Iterator[dt.date]
) -> None:
    """The availability reads cache a parsed snapshot per model version: a read made
    before the booking (and so cached) must not answer the read that follows it."""
    day = next(days)
    params: dict[str, str | int] = {"date": day.isoformat(), "party_size": 2}
    table_params: dict[str, str | int] = {"date": day.isoformat(), "time": "19:00", "party_size": 2}
    for _ in range(500):  # the package's daemon may still be building the model
        before = await client.get("/api/v1/availability", params=params)
        if before.status_code != 503:
            break
        await asyncio.sleep(0.02)
    for _ in range(2):  # the second read is answered from the cache
        before = await client.get("/api/v1/availability", params=params)
        tables_before = await client.get("/api/v1/bookings/tables", params=table_params)
    assert before.status_code == tables_before.status_code == 200, before.text
    at_seven = next(s for s in before.json()["slots"] if s["time"] == "19:00")
    assert {t["status"] for t in tables_before.json()["tables"]} == {"available"}
    made = await client.post("/api/v1/bookings/", json=_booking(day), headers=guest)
    assert made.status_code == 201, made.text
    token = {"X-Consistency-Token": made.headers["x-consistency-token"]}
    after = await client.get("/api/v1/availability", params=params, headers=token)
    at_seven_after = next(s for s in after.json()["slots"] if s["time"] == "19:00")
    assert at_seven_after["tables_available"] == at_seven["tables_available"] - 1
    tables = await client.get("/api/v1/bookings/tables", params=table_params, headers=token)
    status = {t["table_id"]: t["status"] for t in tables.json()["tables"]}
    assert status[made.json()["table_id"]] == "booked"


async def test_public_availability_needs_no_sign_in(
    client: Client, days: Iterator[dt.date]
) -> None:
    day = next(days)
    response = await client.get(
        "/api/v1/bookings/tables", params={"date": day.isoformat(), "time": "12:00"}
    )
    assert response.status_code == 200
    assert {t["table_id"] for t in response.json()["tables"]} == {
        "t1",
        "t2",
        "t3",
        "t4",
        "t5",
        "t6",
    }
    bad = await client.get(
        "/api/v1/bookings/tables", params={"date": day.isoformat(), "time": "25:00"}
    )
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")


async def test_a_start_off_the_grid_is_the_same_422_asked_about_as_booked(
    client: Client, guest: Headers, days: Iterator[dt.date]
) -> None:
    """Starts are every 15 minutes from 10:00: 19:07 has no table list, and says why."""
    day = next(days)
    params: dict[str, str | int] = {"date": day.isoformat(), "time": "19:07", "party_size": 2}
    for _ in range(500):  # the package's daemon may still be building the model
        asked = await client.get("/api/v1/bookings/tables", params=params)
        if asked.status_code != 503:
            break
        await asyncio.sleep(0.02)
    booked = await client.post("/api/v1/bookings/", json=_booking(day, "19:07"), headers=guest)

    assert asked.status_code == booked.status_code == 422, asked.text
    assert asked.headers["content-type"].startswith("application/problem+json")
    assert asked.json()["type"] == booked.json()["type"]
    assert asked.json()["type"].endswith("/off-slot-grid")
    assert "19:07" in asked.json()["detail"]
    on_the_grid = await client.get("/api/v1/bookings/tables", params={**params, "time": "19:00"})
    assert on_the_grid.status_code == 200, on_the_grid.text


async def test_slot_taken_is_409_and_rules_are_422(
    client: Client, guest: Headers, days: Iterator[dt.date]
) -> None:
    day = next(days)
    first = await client.post("/api/v1/bookings/", json=_booking(day, table_id="t3"), headers=guest)
    assert first.status_code == 201
    taken = await client.post(
        "/api/v1/bookings/", json=_booking(day, "19:30", table_id="t3"), headers=guest
    )
    assert taken.status_code == 409
    assert taken.json()["type"].endswith("table-already-booked") or taken.json()["status"] == 409
    closed = await client.post("/api/v1/bookings/", json=_booking(day, "03:00"), headers=guest)
    assert closed.status_code == 422
    too_big = await client.post(
        "/api/v1/bookings/", json=_booking(day, party=3, table_id="t1"), headers=guest
    )
    assert too_big.status_code == 422
    past = await client.post(
        "/api/v1/bookings/", json=_booking(dt.date.today() - dt.timedelta(days=2)), headers=guest
    )
    assert past.status_code == 422


async def test_bad_bodies_are_4xx(client: Client, guest: Headers, days: Iterator[dt.date]) -> None:
    day = next(days)
    cases: list[object] = [
        _booking(day, party=0),
        _booking(day, party=10_000),
        _booking(day, unknown="x"),
        {**_booking(day), "date": "9999-12-31"},
        {**_booking(day), "date": "not a date"},
        {**_booking(day), "party_size": "two"},
        {**_booking(day), "party_size": "2"},
        {**_booking(day), "party_size": True},
        {**_booking(day), "guest_name": "Ada\u0000Lovelace"},
        {"date": day.isoformat()},
        [],
    ]
    for body in cases:
        response = await client.post("/api/v1/bookings/", json=body, headers=guest)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    raw = [b"{not json", b"\xff\xfe\x00", b"x" * (70 * 1024)]
    for content in raw:
        response = await client.post(
            "/api/v1/bookings/",
            content=content,
            headers={**guest, "Content-Type": "application/json"},
        )
        assert 400 <= response.status_code < 500, content[:20]


async def test_another_users_booking_is_404(
    client: Client, guest: Headers, new_user: NewUser, admin: Headers, days: Iterator[dt.date]
) -> None:
    made = await client.post("/api/v1/bookings/", json=_booking(next(days)), headers=guest)
    booking_id = made.json()["id"]
    token = {"X-Consistency-Token": made.headers["x-consistency-token"]}
    other, _ = await new_user()
    assert (
        await client.get(f"/api/v1/bookings/{booking_id}", headers={**other, **token})
    ).status_code == 404
    assert (
        await client.put(f"/api/v1/bookings/{booking_id}", json={"party_size": 1}, headers=other)
    ).status_code == 404
    assert (await client.delete(f"/api/v1/bookings/{booking_id}", headers=other)).status_code == 404
    assert (
        await client.get(f"/api/v1/bookings/{booking_id}", headers={**admin, **token})
    ).status_code == 200
    assert (await client.get(f"/api/v1/bookings/{booking_id}")).status_code == 401


async def test_change_with_if_match_and_cancel_twice(
    client: Client, guest: Headers, days: Iterator[dt.date]
) -> None:
    day = next(days)
    made = (await client.post("/api/v1/bookings/", json=_booking(day), headers=guest)).json()
    url = f"/api/v1/bookings/{made['id']}"
    moved = await client.put(
        url,
        json={"time": "20:00", "party_size": 4},
        headers={**guest, "If-Match": str(made["version"])},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["time"] == "20:00"
    assert moved.json()["party_size"] == 4
    assert moved.json()["version"] > made["version"]
    stale = await client.put(
        url, json={"time": "21:00"}, headers={**guest, "If-Match": str(made["version"])}
    )
    assert stale.status_code == 409
    cancelled = await client.delete(url, headers=guest)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = await client.delete(url, headers=guest)
    assert again.status_code == 200
    assert again.json()["status"] == "cancelled"


async def test_idempotency_key(client: Client, guest: Headers, days: Iterator[dt.date]) -> None:
    day = next(days)
    headers = {**guest, "Idempotency-Key": f"key-{day}"}
    first = await client.post("/api/v1/bookings/", json=_booking(day), headers=headers)
    repeat = await client.post("/api/v1/bookings/", json=_booking(day), headers=headers)
    assert first.status_code == repeat.status_code == 201
    assert repeat.json() == first.json()
    assert repeat.headers["x-consistency-token"] == first.headers["x-consistency-token"]
    other_body = await client.post(
        "/api/v1/bookings/", json=_booking(day, "20:00"), headers=headers
    )
    assert other_body.status_code == 422
    concurrent = await asyncio.gather(
        *(
            client.post(
                "/api/v1/bookings/",
                json=_booking(day, "12:00"),
                headers={**guest, "Idempotency-Key": f"c-{day}"},
            )
            for _ in range(5)
        )
    )
    assert {r.status_code for r in concurrent} == {201}
    assert len({r.json()["id"] for r in concurrent}) == 1
    mine = await client.get(
        "/api/v1/bookings/my-bookings",
        params={"from": day.isoformat(), "to": day.isoformat()},
        headers={
            **guest,
            "X-Consistency-Token": max(r.headers["x-consistency-token"] for r in concurrent),
        },
    )
    assert len(mine.json()["items"]) == 2


async def test_my_bookings_pages(client: Client, guest: Headers, days: Iterator[dt.date]) -> None:
    day = next(days)
    token = ""
    for hour in range(12, 17):
        made = await client.post(
            "/api/v1/bookings/", json=_booking(day, f"{hour}:00"), headers=guest
        )
        assert made.status_code == 201, made.text
        token = made.headers["x-consistency-token"]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, "from": day.isoformat()}
        if cursor:
            params["cursor"] = cursor
        page = (
            await client.get(
                "/api/v1/bookings/my-bookings",
                params=params,
                headers={**guest, "X-Consistency-Token": token},
            )
        ).json()
        seen += [b["time"] for b in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["12:00", "13:00", "14:00", "15:00", "16:00"]
    bad = await client.get(
        "/api/v1/bookings/my-bookings", params={"cursor": "garbage!"}, headers=guest
    )
    assert bad.status_code == 400
    not_ours = await client.get(
        "/api/v1/bookings/my-bookings", params={"cursor": "bm90LW91cnM"}, headers=guest
    )
    assert not_ours.status_code == 422
    too_many = await client.get(
        "/api/v1/bookings/my-bookings", params={"limit": 501}, headers=guest
    )
    assert too_many.status_code == 400


async def test_consistency_token_that_never_arrives_is_503(
    client: Client, guest: Headers, days: Iterator[dt.date]
) -> None:
    made = await client.post("/api/v1/bookings/", json=_booking(next(days)), headers=guest)
    tx, position = made.headers["x-consistency-token"].split("-")
    # The write's own transaction, at a position it never reached: plausible, never caught up.
    response = await client.get(
        "/api/v1/bookings/my-bookings",
        headers={**guest, "X-Consistency-Token": f"{tx}-{int(position) + 10**12}"},
        timeout=20,
    )
    assert response.status_code == 503
    assert response.headers["retry-after"]
    malformed = await client.get(
        "/api/v1/bookings/my-bookings", headers={**guest, "X-Consistency-Token": "nope"}
    )
    assert malformed.status_code == 400


async def test_reading_a_booking_sends_its_version_as_the_etag_if_match_takes(
    client: Client, guest: Headers, admin: Headers, days: Iterator[dt.date]
) -> None:
    made = await client.post("/api/v1/bookings/", json=_booking(next(days)), headers=guest)
    booking = made.json()
    token = {"X-Consistency-Token": made.headers["x-consistency-token"]}
    read = await client.get(f"/api/v1/bookings/{booking['id']}", headers={**guest, **token})
    assert read.status_code == 200, read.text
    assert read.headers["etag"] == '"1"'
    by_admin = await client.get(f"/api/v1/admin/bookings/{booking['id']}", headers=admin)
    assert by_admin.headers["etag"] == '"1"'
    changed = await client.put(
        f"/api/v1/bookings/{booking['id']}",
        json={"party_size": 3},
        headers={**guest, "If-Match": read.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    stale = await client.put(
        f"/api/v1/bookings/{booking['id']}",
        json={"party_size": 4},
        headers={**guest, "If-Match": read.headers["etag"]},
    )
    assert stale.status_code == 409
    assert stale.json()["type"] == f"{PROBLEMS}stale-version"


async def test_a_consistency_token_no_write_gave_is_refused_at_once(
    client: Client, guest: Headers
) -> None:
    began = time.monotonic()
    response = await client.get(
        "/api/v1/bookings/my-bookings",
        headers={**guest, "X-Consistency-Token": "999999999999-1"},
        timeout=20,
    )
    assert response.status_code == 422
    assert response.json()["type"] == f"{PROBLEMS}unknown-consistency-token"
    assert time.monotonic() - began < 2


async def test_a_consistency_token_of_0_asks_for_nothing_to_wait_for(
    client: Client, guest: Headers
) -> None:
    response = await client.get(
        "/api/v1/bookings/my-bookings", headers={**guest, "X-Consistency-Token": "0"}
    )
    assert response.status_code == 200, response.text


async def test_a_cursor_this_api_never_gave_is_refused_with_its_own_type(
    client: Client, guest: Headers
) -> None:
    response = await client.get(
        "/api/v1/bookings/my-bookings", params={"cursor": "0"}, headers=guest
    )
    assert response.status_code == 422
    assert response.json()["type"] == f"{PROBLEMS}invalid-cursor"
