"""A booking's audit trail, time travel for admins, and the notifications list."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from psycopg_pool import AsyncConnectionPool

from tests.api.conftest import Headers, NewUser

Client = AsyncTestClient[Litestar]


async def _now(pool: AsyncConnectionPool[Any]) -> str:
    """The log's clock (events are stamped by the database server), whatever the tests'."""
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT clock_timestamp()")
        row = await cursor.fetchone()
    assert row is not None
    instant: dt.datetime = row[0]
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


async def test_history_lists_every_event_with_who_and_when(
    client: Client, guest: Headers, new_user: NewUser, admin: Headers, days: Iterator[dt.date]
) -> None:
    day = next(days)
    body = {"date": day.isoformat(), "time": "18:00", "party_size": 2, "guest_name": "Ada"}
    made = (await client.post("/api/v1/bookings/", json=body, headers=guest)).json()
    url = f"/api/v1/bookings/{made['id']}"
    await client.put(url, json={"time": "19:00"}, headers=guest)
    await client.delete(url, headers=admin)
    history = await client.get(f"{url}/history", headers=guest)
    assert history.status_code == 200
    entries = history.json()
    assert [e["version"] for e in entries] == sorted(e["version"] for e in entries)
    assert entries[0]["by"] == made["user_id"]
    assert entries[-1]["by"] != made["user_id"]  # the admin cancelled it
    assert any("19:00" in str(e["data"]) for e in entries)
    assert all(e["at"].endswith("Z") for e in entries)
    other, _ = await new_user()
    assert (await client.get(f"{url}/history", headers=other)).status_code == 404
    assert (await client.get(f"{url}/history", headers=admin)).status_code == 200
    missing = await client.get("/api/v1/bookings/bkg_nope/history", headers=admin)
    assert missing.status_code == 404


async def test_admin_availability_as_of(
    client: Client,
    guest: Headers,
    admin: Headers,
    days: Iterator[dt.date],
    pool: AsyncConnectionPool[Any],
) -> None:
    before = await _now(pool)
    skew = dt.datetime.fromisoformat(before) - dt.datetime.now(dt.UTC)
    if abs(skew) > dt.timedelta(hours=1):
        pytest.skip(
            "availability as of T judges lead time and booking window at T, the log's clock,"
            f" which is {skew} from this process's (moved by make test-clock)"
        )
    day = next(days)
    await asyncio.sleep(0.05)
    body = {
        "date": day.isoformat(),
        "time": "20:00",
        "party_size": 2,
        "table_id": "t2",
        "guest_name": "Ada",
    }
    made = await client.post("/api/v1/bookings/", json=body, headers=guest)
    assert made.status_code == 201
    await asyncio.sleep(0.05)
    after = await _now(pool)
    params: dict[str, str | int] = {"date": day.isoformat(), "time": "20:00", "party_size": 2}

    def status_of(response_json: dict[str, object]) -> str:
        tables = response_json["tables"]
        assert isinstance(tables, list)
        return str(next(t["status"] for t in tables if t["table_id"] == "t2"))

    then = await client.get(
        "/api/v1/admin/availability", params={**params, "as_of": before}, headers=admin
    )
    assert then.status_code == 200, then.text
    assert status_of(then.json()) == "available"
    now = await client.get(
        "/api/v1/admin/availability", params={**params, "as_of": after}, headers=admin
    )
    assert status_of(now.json()) == "booked"
    assert (
        await client.get(
            "/api/v1/admin/availability", params={**params, "as_of": after}, headers=guest
        )
    ).status_code == 403
    future = (dt.datetime.fromisoformat(await _now(pool)) + dt.timedelta(days=1)).isoformat()
    assert (
        await client.get(
            "/api/v1/admin/availability", params={**params, "as_of": future}, headers=admin
        )
    ).status_code == 422
    naive = await client.get(
        "/api/v1/admin/availability",
        params={**params, "as_of": "2026-01-01T10:00:00"},
        headers=admin,
    )
    assert naive.status_code == 400
    garbage = await client.get(
        "/api/v1/admin/availability", params={**params, "as_of": "yesterday"}, headers=admin
    )
    assert garbage.status_code == 400


async def test_notifications_list_for_admins(
    client: Client, guest: Headers, admin: Headers, days: Iterator[dt.date]
) -> None:
    day = next(days)
    body = {
        "date": day.isoformat(),
        "time": "13:00",
        "party_size": 2,
        "guest_name": "Ada",
        "guest_email": "ada@example.com",
    }
    made = await client.post("/api/v1/bookings/", json=body, headers=guest)
    booking_id = made.json()["id"]
    items: list[dict[str, object]] = []
    for _ in range(100):
        page = await client.get(
            "/api/v1/admin/notifications", params={"booking_id": booking_id}, headers=admin
        )
        assert page.status_code == 200, page.text
        items = page.json()["items"]
        if items:
            break
        await asyncio.sleep(0.05)
    assert {i["channel"] for i in items} >= {"email"}
    assert all(i["booking_id"] == booking_id for i in items)
    assert (await client.get("/api/v1/admin/notifications", headers=guest)).status_code == 403
    bad = await client.get(
        "/api/v1/admin/notifications", params={"status": "exploded"}, headers=admin
    )
    assert bad.status_code == 400


async def test_admin_reads_a_booking_as_it_stood(
    client: Client,
    guest: Headers,
    admin: Headers,
    days: Iterator[dt.date],
    pool: AsyncConnectionPool[Any],
) -> None:
    day = next(days)
    body = {"date": day.isoformat(), "time": "12:30", "party_size": 2, "guest_name": "Ada"}
    before = await _now(pool)
    await asyncio.sleep(0.05)
    made = (await client.post("/api/v1/bookings/", json=body, headers=guest)).json()
    await asyncio.sleep(0.05)
    placed = await _now(pool)
    await asyncio.sleep(0.05)
    await client.put(f"/api/v1/bookings/{made['id']}", json={"party_size": 4}, headers=guest)
    url = f"/api/v1/admin/bookings/{made['id']}"
    then = await client.get(url, params={"as_of": placed}, headers=admin)
    assert then.status_code == 200, then.text
    assert then.json()["party_size"] == 2
    assert then.json()["version"] == made["version"]
    now = await client.get(url, params={"as_of": await _now(pool)}, headers=admin)
    assert now.json()["party_size"] == 4
    assert (await client.get(url, params={"as_of": before}, headers=admin)).status_code == 404
    assert (await client.get(url, params={"as_of": placed}, headers=guest)).status_code == 403
