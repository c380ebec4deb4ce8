"""One journey over real HTTP against a `tablebook serve` process."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator

import httpx

from tests.support.scope import to_test_venue


async def test_a_guest_books_and_reads_back_over_http(
    live_server: str, days: Iterator[dt.date]
) -> None:
    day = next(days)
    email = f"live-{uuid.uuid4().hex[:10]}@example.com"
    async with httpx.AsyncClient(
        base_url=live_server, timeout=10, event_hooks={"request": [to_test_venue]}
    ) as http:
        docs = await http.get("/openapi.json")
        assert docs.status_code == 200
        assert "/api/v1/bookings" in str(docs.json()["paths"])
        assert (await http.get("/docs")).status_code == 200
        registered = await http.post(
            "/api/v1/auth/register",
            json={"email": email, "password": "a long password", "full_name": "Live"},
        )
        assert registered.status_code == 201
        token = await http.post(
            "/api/v1/auth/token", data={"username": email, "password": "a long password"}
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        body = {
            "date": day.isoformat(),
            "time": "19:15",
            "party_size": 3,
            "guest_name": "Live Guest",
        }
        made = await http.post(
            "/api/v1/bookings/", json=body, headers={**headers, "Idempotency-Key": "live-1"}
        )
        assert made.status_code == 201, made.text
        again = await http.post(
            "/api/v1/bookings/", json=body, headers={**headers, "Idempotency-Key": "live-1"}
        )
        assert again.json() == made.json()
        assert again.headers["idempotent-replayed"] == "true"
        consistent = {**headers, "X-Consistency-Token": made.headers["x-consistency-token"]}
        mine = await http.get("/api/v1/bookings/my-bookings", headers=consistent)
        assert [b["id"] for b in mine.json()["items"]] == [made.json()["id"]]
        tables = await http.get(
            "/api/v1/bookings/tables",
            params={"date": day.isoformat(), "time": "19:15", "party_size": 3},
            headers={"X-Consistency-Token": made.headers["x-consistency-token"]},
        )
        status = {t["table_id"]: t["status"] for t in tables.json()["tables"]}
        assert status[made.json()["table_id"]] == "booked"
        broken = await http.post(
            "/api/v1/bookings/",
            content=b'{"date": ',
            headers={**headers, "Content-Type": "application/json"},
        )
        assert broken.status_code == 400
        assert broken.headers["content-type"].startswith("application/problem+json")


async def test_concurrent_retries_with_one_idempotency_key_all_get_the_first_answer(
    live_server: str, days: Iterator[dt.date]
) -> None:
    day = next(days)
    email = f"retry-{uuid.uuid4().hex[:10]}@example.com"
    async with httpx.AsyncClient(
        base_url=live_server, timeout=30, event_hooks={"request": [to_test_venue]}
    ) as http:
        await http.post(
            "/api/v1/auth/register",
            json={"email": email, "password": "a long password", "full_name": "Ada Lovelace"},
        )
        token = await http.post(
            "/api/v1/auth/token", data={"username": email, "password": "a long password"}
        )
        headers = {
            "Authorization": f"Bearer {token.json()['access_token']}",
            "Idempotency-Key": f"flaky-network-{day}",
        }
        body = {
            "date": day.isoformat(),
            "time": "13:00",
            "party_size": 2,
            "guest_name": "Ada Lovelace, party of 2",
        }

        answers = await asyncio.gather(
            *(http.post("/api/v1/bookings/", json=body, headers=headers) for _ in range(16))
        )

    assert [a.status_code for a in answers] == [201] * 16, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert len({a.headers["x-consistency-token"] for a in answers}) == 1
    assert len({a.headers["location"] for a in answers}) == 1
