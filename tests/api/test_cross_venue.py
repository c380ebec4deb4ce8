"""Nothing of one venue is visible to the staff of another: a walk over every operation of
the served OpenAPI schema, as a host of another venue, with the real ids of the default
venue's table, block, layout, closure and booking filled in.

Every operation that needs a token answers the host of the other venue with no 2xx, and
every one of them that is about the default venue answers 404 (as for anything else they
may not see), whether it is addressed unscoped or under `/api/v1/venues/{venue_id}`. The
exceptions are few and named: what anyone may read without a token (availability, table
status, the venue directory) and what a guest does for themselves anywhere (book a table,
list their own bookings), which a host of another venue may do as a guest.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from booking_core.domain.personal import new_person_id
from tests.api.conftest import Headers, NewUser, World
from tests.support.guests import Book

Client = AsyncTestClient[Litestar]

METHODS = ("get", "post", "put", "patch", "delete")
SELF_SERVICE = {("post", "/bookings/"), ("get", "/bookings/my-bookings"), ("post", "/bookings")}
"""What a guest does for themselves at any venue (`/api/v1` relative)."""
ONESELF = {
    ("get", "/api/v1/auth/me"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/sign-out"),
    ("get", "/api/v1/auth/me/export"),
    ("delete", "/api/v1/auth/me"),
}
"""What anyone signed in reads or does of themselves (signing out, or erasing oneself,
would also end the token the walk goes on with)."""


async def _made(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
async def other_venue_host(client: Client, admin: Headers) -> Headers:
    """A host of a venue other than the default one."""
    slug = f"elsewhere-{uuid.uuid4().hex[:8]}"
    opened = await client.post(
        "/api/v1/admin/venues",
        json={"name": "Elsewhere", "slug": slug, "time_zone": "America/New_York"},
        headers=admin,
    )
    venue = await _made(opened)
    listed = {**admin, "X-Consistency-Token": opened.headers["X-Consistency-Token"]}
    email = f"host-{uuid.uuid4().hex[:10]}@example.com"
    user = await _made(
        await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": "correct horse", "full_name": "Hal Host"},
        )
    )
    await _made(
        await client.put(
            f"/api/v1/admin/venues/{venue['id']}/staff/{user['id']}",
            json={"role": "host"},
            headers=listed,
        )
    )
    token = await _made(
        await client.post(
            "/api/v1/auth/token", data={"username": email, "password": "correct horse"}
        )
    )
    return {"Authorization": f"Bearer {token['access_token']}"}


@pytest.fixture
async def default_venue_ids(
    client: Client, admin: Headers, new_user: NewUser, days: Iterator[dt.date], world: World
) -> dict[str, str]:
    """Real ids of the default venue's things, for every path parameter the schema has."""
    day = next(days)
    guest_id = new_person_id()
    await Book(world.store, "default").place(f"bkg_{uuid.uuid4().hex}", guest_id, day)
    table = await _made(
        await client.post(
            "/api/v1/admin/tables",
            json={"name": f"WALK-{uuid.uuid4().hex[:6]}", "capacity": 2},
            headers=admin,
        )
    )
    start = dt.datetime.combine(day, dt.time(15, 0))
    block = await _made(
        await client.post(
            f"/api/v1/admin/tables/{table['id']}/blocks",
            json={
                "start": start.isoformat(),
                "end": (start + dt.timedelta(hours=1)).isoformat(),
                "reason": "repairs",
            },
            headers=admin,
        )
    )
    layout = await _made(
        await client.post("/api/v1/admin/layouts", json={"name": "Walk"}, headers=admin)
    )
    other = await _made(
        await client.post(
            "/api/v1/admin/tables",
            json={"name": f"WALK-{uuid.uuid4().hex[:6]}", "capacity": 2},
            headers=admin,
        )
    )
    combination = await _made(
        await client.post(
            "/api/v1/admin/table-combinations",
            # for parties no other test seats, so that it changes no one's free tables
            json={"table_ids": [table["id"], other["id"]], "min_capacity": 60, "capacity": 60},
            headers=admin,
        )
    )
    closed = next(days)
    await _made(
        await client.post(
            "/api/v1/admin/closures",
            json={"date": closed.isoformat(), "reason": "walk"},
            headers=admin,
        )
    )
    guest, _ = await new_user()
    booking = await _made(
        await client.post(
            "/api/v1/bookings/",
            json={
                "date": day.isoformat(),
                "time": "19:00",
                "party_size": 2,
                "guest_name": "Wanda Walker",
            },
            headers=guest,
        )
    )
    me = await _made(await client.get("/api/v1/auth/me", headers=admin))
    return {
        "venue_id": "default",
        "table_id": table["id"],
        "block_id": block["id"],
        "layout_id": layout["id"],
        "combination_id": combination["id"],
        "day": closed.isoformat(),
        "booking_id": booking["id"],
        "user_id": me["id"],
        "entry_id": f"wl-{day:%Y%m%d}-nobody",
        "notification_id": f"{booking['id']}:placed:1:email",
        "guest_id": guest_id,
    }


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: ids[m.group(1)], path)


def _venue_relative(path: str) -> str | None:
    """`/bookings/{booking_id}` for a venue route (scoped or not); None for the others."""
    if path.startswith("/api/v1/venues/{venue_id}/"):
        return path[len("/api/v1/venues/{venue_id}") :]
    return None


async def test_a_host_of_another_venue_sees_nothing_of_this_one(
    client: Client, other_venue_host: Headers, default_venue_ids: dict[str, str]
) -> None:
    schema = (await client.get("/openapi.json")).json()
    venue_routes = {
        relative for path in schema["paths"] if (relative := _venue_relative(path)) is not None
    }
    walked = 0
    leaks = []
    for path, item in schema["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None or not operation.get("security"):
                continue  # public: no token, no guest data (a test of its own says so)
            relative = _venue_relative(path)
            if relative is None and path.startswith("/api/v1/") and path[7:] in venue_routes:
                relative = path[7:]  # the unscoped form of a venue route
            if (method, relative) in SELF_SERVICE or (method, path) in ONESELF:
                continue
            url = _fill(path, default_venue_ids)
            response = await client.request(
                method.upper(), url, json={} if method != "get" else None, headers=other_venue_host
            )
            walked += 1
            expected_404 = relative is not None or path.startswith("/api/v1/admin/venues/")
            if 200 <= response.status_code < 300 or (expected_404 and response.status_code != 404):
                leaks.append(f"{method.upper()} {url} -> {response.status_code}")
    assert not leaks, "\n".join(leaks)
    assert walked > 60  # every venue route twice, and the deployment's own


async def test_a_guest_is_refused_the_staff_routes_as_before(
    client: Client, guest: Headers, default_venue_ids: dict[str, str]
) -> None:
    response = await client.get("/api/v1/admin/bookings", headers=guest)
    assert response.status_code == 403
    scoped = await client.get("/api/v1/venues/default/admin/bookings", headers=guest)
    assert scoped.status_code == 403
