"""`GET /admin/bookings?q=`: staff find a guest's bookings on any day, by name, email or
phone, the phone however it was written."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import Headers

Client = AsyncTestClient[Litestar]


async def _book(client: Client, admin: Headers, day: dt.date, name: str, phone: str) -> Any:
    response = await client.post(
        "/api/v1/admin/bookings",
        json={
            "date": day.isoformat(),
            "time": "18:00",
            "party_size": 2,
            "guest_name": name,
            "guest_phone": phone,
            "source": "phone",
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return response


async def test_a_phone_is_found_by_its_digits_on_any_day_however_it_was_written(
    client: Client, admin: Headers, days: Iterator[dt.date]
) -> None:
    line = f"{random.randrange(10**6):06d}"  # this run's own number
    first = await _book(client, admin, next(days), "Nora Zeale", f"+44 20 7{line[:3]} {line[3:]}")
    second = await _book(client, admin, next(days), "Nora Zeale", f"(020) 7{line}")
    other = await _book(client, admin, next(days), "Someone Else", "+44 20 7000 0000")
    token = other.headers["X-Consistency-Token"]

    async def found(q: str) -> set[str]:
        response = await client.get(
            "/api/v1/admin/bookings",
            params={"q": q},
            headers={**admin, "X-Consistency-Token": token},
        )
        assert response.status_code == 200, response.text
        return {b["id"] for b in response.json()["items"]}

    both = {first.json()["id"], second.json()["id"]}
    assert await found(f"7{line}") == both  # no date: every day
    assert await found(f"7{line[:3]}-{line[3:]}") == both
    assert await found(f"+44 207{line}") == {first.json()["id"]}  # the country code
    assert await found("nora zeale") >= both
    assert other.json()["id"] not in await found(f"7{line}")
