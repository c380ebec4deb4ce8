"""The waitlist over HTTP: the host puts walk-in parties on tonight's list with a quote,
sees the line with places and quotes from the floor, tells a party its table is ready,
seats it as a walk-in booking or takes it off; the guest follows their place with the
token they were given, and nobody else sees anything of it.

The parties join the list of the venue's current service day, whatever the hour the
suite runs at: seating passes an override reason, so a walk-in seated after closing time
(the suite's clock may say 3 a.m.) is still seated. Each test seats at tables of its own
(`t1`, `t2`, `t3`, `t5`), as each books on days of its own elsewhere.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import TABLES, Headers, NewUser, World, grant_role, host_at
from tests.support.scope import STREAM_PREFIX, TEST_VENUE

Client = AsyncTestClient[Litestar]

LIST = "/api/v1/admin/waitlist"
OVERRIDE = {"reason": "walk-in seated by the host"}


@pytest.fixture(autouse=True)
async def floor_known(world: World) -> None:
    """Quotes are worked out from the floor's read models: wait until they hold the
    venue's tables (the daemon starts with the package)."""
    for _ in range(400):
        async with world.pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT count(*) FROM rm_tables WHERE venue_id = %s", (TEST_VENUE,)
            )
            found = await cursor.fetchone()
        if found and found[0] >= len(TABLES):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the venue's tables never reached the read model")


def party(name: str, size: int = 2, **extra: Any) -> dict[str, Any]:
    return {"party_size": size, "guest_name": name, **extra}


async def join(client: Client, staff: Headers, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    made = await client.post(LIST, json=body, headers=staff)
    assert made.status_code == 201, made.text
    return made.json(), made.headers["x-consistency-token"]


async def line(client: Client, staff: Headers, token: str, **params: Any) -> dict[str, Any]:
    read = await client.get(LIST, params=params, headers={**staff, "X-Consistency-Token": token})
    assert read.status_code == 200, read.text
    found: dict[str, Any] = read.json()
    return found


async def leave(client: Client, staff: Headers, entry_id: str) -> None:
    removed = await client.post(f"{LIST}/{entry_id}/remove", json={"reason": "tidy"}, headers=staff)
    assert removed.status_code in (200, 409), removed.text


async def test_a_party_joins_the_list_with_its_place_its_quote_and_a_token(
    client: Client, admin: Headers
) -> None:
    entry, _ = await join(client, admin, party("Ada Lovelace", 2, guest_phone="+44 20 7946 0018"))

    assert entry["status"] == "waiting"
    assert entry["position"] >= 1
    assert isinstance(entry["quoted_wait_minutes"], int)
    assert entry["quoted_wait_minutes"] >= 0
    assert entry["first_quote_minutes"] == entry["quoted_wait_minutes"]
    assert entry["token"]
    assert entry["added_at"]
    assert entry["id"].startswith("wl-")
    await leave(client, admin, entry["id"])


async def test_the_line_shows_places_in_arrival_order_with_quotes_from_the_floor(
    client: Client, admin: Headers
) -> None:
    first, _ = await join(client, admin, party("Grace Hopper", 3))
    second, token = await join(client, admin, party("Alan Turing", 3, notes="by the fire"))

    shown = await line(client, admin, token)

    by_id = {e["id"]: e for e in shown["entries"]}
    assert by_id[second["id"]]["position"] == by_id[first["id"]]["position"] + 1
    assert by_id[second["id"]]["notes"] == "by the fire"
    assert isinstance(by_id[first["id"]]["quoted_wait_minutes"], int)
    assert isinstance(by_id[second["id"]]["quoted_wait_minutes"], int)
    assert [e["position"] for e in shown["entries"]] == list(range(1, len(shown["entries"]) + 1))
    for entry in (first, second):
        await leave(client, admin, entry["id"])


async def test_telling_a_party_its_table_is_ready_puts_a_message_in_the_outbox(
    client: Client, admin: Headers, world: World
) -> None:
    entry, _ = await join(client, admin, party("Edsger Dijkstra", 2, guest_phone="+31 20 555 0199"))

    told = await client.post(f"{LIST}/{entry['id']}/notify", headers=admin)

    assert told.status_code == 200, told.text
    assert told.json()["status"] == "notified"
    assert told.json()["position"] == entry["position"]
    rows: list[Any] = []
    for _ in range(200):
        async with world.pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT kind, channel, status, recipient FROM notifications"
                " WHERE booking_id = %s ORDER BY channel",
                (entry["id"],),
            )
            rows = await cursor.fetchall()
        if rows:
            break
        await asyncio.sleep(0.05)
    assert rows == [
        ("table_ready", "email", "skipped", None),
        ("table_ready", "sms", "pending", "+31 20 555 0199"),
    ]
    await leave(client, admin, entry["id"])


async def test_seating_from_the_list_makes_a_seated_walk_in_and_takes_the_party_off_in_one_write(
    client: Client, admin: Headers, world: World
) -> None:
    entry, _ = await join(client, admin, party("Ada Byron", 2, notes="high chair"))

    seated = await client.post(
        f"{LIST}/{entry['id']}/seat",
        json={"table_ids": ["t1"], "override": OVERRIDE},
        headers=admin,
    )

    assert seated.status_code == 200, seated.text
    booking, left = seated.json()["booking"], seated.json()["entry"]
    assert (booking["status"], booking["source"], booking["table_ids"]) == (
        "seated",
        "walk_in",
        ["t1"],
    )
    assert (booking["guest_name"], booking["special_requests"]) == ("Ada Byron", "high chair")
    assert (left["status"], left["booking_id"], left["position"]) == ("seated", booking["id"], None)
    assert left["waited_minutes"] >= 0
    async with world.pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT DISTINCT tx FROM events WHERE metadata->>'command_id' = ("
            " SELECT metadata->>'command_id' FROM events"
            " WHERE type = 'WaitlistEntrySeated' AND data->>'entry_id' = %s)",
            (entry["id"],),
        )
        appends = await cursor.fetchall()
        cursor = await connection.execute(
            "SELECT stream_id, type FROM events WHERE tx = %s ORDER BY position",
            (appends[0][0],),
        )
        written = await cursor.fetchall()
    assert len(appends) == 1
    streams = {stream_id for stream_id, _ in written}
    assert f"{STREAM_PREFIX}booking-{booking['id']}" in streams
    assert any(s.startswith(f"{STREAM_PREFIX}waitlist@") for s in streams)
    assert any(s.startswith(f"{STREAM_PREFIX}table-t1@") for s in streams)
    assert {"BookingPlaced", "BookingSeated", "TableReserved", "WaitlistEntrySeated"} <= {
        kind for _, kind in written
    }
    shown = await line(client, admin, seated.headers["x-consistency-token"], include_closed=True)
    assert {e["id"]: e["status"] for e in shown["entries"]}[entry["id"]] == "seated"


async def test_seating_one_party_twice_at_once_makes_one_booking(
    client: Client, admin: Headers, world: World
) -> None:
    name = f"Twice {uuid.uuid4().hex[:6]}"
    entry, _ = await join(client, admin, party(name, 2))

    answers = await asyncio.gather(
        *(
            client.post(
                f"{LIST}/{entry['id']}/seat",
                json={"table_ids": ["t2"], "override": OVERRIDE},
                headers=admin,
            )
            for _ in range(2)
        )
    )

    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409).json()
    assert refused["type"].endswith("/waitlist-entry-closed")
    async with world.pool.connection() as connection:
        # The walk-in's booking carries the entry's guest (names are sealed in the log).
        cursor = await connection.execute(
            "SELECT count(*) FROM events WHERE type = 'BookingPlaced' AND data->>'person' = ("
            " SELECT data->>'person' FROM events"
            " WHERE type = 'WaitlistEntryAdded' AND data->>'entry_id' = %s)",
            (entry["id"],),
        )
        assert await cursor.fetchone() == (1,)


async def test_without_tables_named_a_free_table_that_fits_is_taken(
    client: Client, admin: Headers
) -> None:
    """Which one is auto-assign's choice (`tests/unit/domain`); here the shared venue's
    other parties of the moment may hold the smallest."""
    entry, _ = await join(client, admin, party("The Babbages", 6))

    seated = await client.post(
        f"{LIST}/{entry['id']}/seat", json={"override": OVERRIDE}, headers=admin
    )

    assert seated.status_code == 200, seated.text
    fitting = {table_id for table_id, _, seats, least, _ in TABLES if least <= 6 <= seats}
    assert set(seated.json()["booking"]["table_ids"]) <= fitting


async def test_the_dashboard_says_how_far_the_quotes_were_off(
    client: Client, admin: Headers
) -> None:
    entry, _ = await join(client, admin, party("Quoted Quinn", 2))
    seated = await client.post(
        f"{LIST}/{entry['id']}/seat",
        json={"override": OVERRIDE},  # any free table: the shared venue's t3 may be taken now
        headers=admin,
    )
    assert seated.status_code == 200, seated.text

    stats = await client.get(
        "/api/v1/admin/dashboard/stats",
        params={"date": entry["service_date"]},
        headers={**admin, "X-Consistency-Token": seated.headers["x-consistency-token"]},
    )

    assert stats.status_code == 200, stats.text
    assert stats.json()["waitlist_quotes_measured"] >= 1
    assert stats.json()["waitlist_quote_error_minutes"] >= 0


async def test_a_party_is_taken_off_the_list_with_a_reason_once(
    client: Client, admin: Headers
) -> None:
    entry, _ = await join(client, admin, party("Hedy Lamarr", 2))
    path = f"{LIST}/{entry['id']}/remove"

    blank = await client.post(path, json={"reason": "   "}, headers=admin)
    removed = await client.post(path, json={"reason": "could not wait"}, headers=admin)
    again = await client.post(path, json={"reason": "could not wait"}, headers=admin)

    assert blank.status_code == 422, blank.text
    assert blank.json()["type"].endswith("/invalid-waitlist-entry")
    assert "reason" in blank.json()["detail"]
    assert removed.status_code == 200, removed.text
    assert (removed.json()["status"], removed.json()["removed_reason"]) == (
        "removed",
        "could not wait",
    )
    assert again.status_code == 409
    assert "no longer waiting" in again.json()["detail"]


async def test_the_guest_follows_their_place_with_their_token_and_sees_no_details(
    client: Client, admin: Headers
) -> None:
    entry, token = await join(
        client, admin, party("Katherine Johnson", 2, guest_phone="+1 202 555 0101", notes="VIP")
    )
    path = f"/api/v1/waitlist/{entry['id']}"
    consistent = {"X-Consistency-Token": token}

    by_query = await client.get(path, params={"token": entry["token"]}, headers=consistent)
    by_header = await client.get(
        path, headers={**consistent, "Authorization": f"Waitlist {entry['token']}"}
    )
    wrong = await client.get(path, params={"token": "not-the-token"}, headers=consistent)
    without = await client.get(path, headers=consistent)
    unknown = await client.get(f"/api/v1/waitlist/{entry['id']}x", params={"token": entry["token"]})

    assert by_query.status_code == 200, by_query.text
    assert by_query.json() == by_header.json()
    shown = by_query.json()
    assert (shown["status"], shown["party_size"]) == ("waiting", 2)
    assert shown["position"] >= 1
    assert shown["quoted_wait_minutes"] >= 0
    assert "Katherine" not in by_query.text
    assert "0101" not in by_query.text
    assert "VIP" not in by_query.text
    assert [wrong.status_code, without.status_code, unknown.status_code] == [404, 404, 404]
    await leave(client, admin, entry["id"])


async def test_a_host_of_the_venue_keeps_the_list(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    headers = await host_at(client, admin, new_user, TEST_VENUE, "Hal Host")

    entry, token = await join(client, headers, party("Walk-in Wendy", 2))
    shown = await line(client, headers, token)

    assert entry["id"] in {e["id"] for e in shown["entries"]}
    await leave(client, headers, entry["id"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", LIST),
        ("POST", LIST),
        ("POST", f"{LIST}/wl-20300501-nobody/notify"),
        ("POST", f"{LIST}/wl-20300501-nobody/seat"),
        ("POST", f"{LIST}/wl-20300501-nobody/remove"),
    ],
)
async def test_the_list_is_staff_only(
    client: Client, guest: Headers, method: str, path: str
) -> None:
    body = party("Nosy Parker") if path == LIST else {"reason": "nosy"}
    json = body if method == "POST" else None

    anonymous = await client.request(method, path, json=json)
    as_guest = await client.request(method, path, json=json, headers=guest)

    assert anonymous.status_code == 401
    assert as_guest.status_code == 403


async def test_the_staff_of_another_venue_get_nothing(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    opened = await client.post(
        "/api/v1/admin/venues",
        json={"name": "Elsewhere", "slug": f"else-{uuid.uuid4().hex[:8]}", "time_zone": "UTC"},
        headers=admin,
    )
    assert opened.status_code == 201, opened.text
    headers, user = await new_user("Olga Other")
    await grant_role(
        client,
        {**admin, "X-Consistency-Token": opened.headers["x-consistency-token"]},
        opened.json()["id"],
        user["id"],
        "manager",
    )
    entry, _ = await join(client, admin, party("Private Pat", 2))

    listed = await client.get(LIST, headers=headers)
    told = await client.post(f"{LIST}/{entry['id']}/notify", headers=headers)

    assert (listed.status_code, told.status_code) == (404, 404)
    await leave(client, admin, entry["id"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (party("Zero", 0), "party_size"),
        (party("", 2), "guest_name"),
        (party("Phony", 2, guest_phone="call me maybe"), "guest_phone"),
        ({"party_size": 2}, "guest_name"),
        (party("Extra", 2, table="t1"), "table"),
    ],
)
async def test_bad_input_is_refused_in_plain_words(
    client: Client, admin: Headers, body: dict[str, Any], field: str
) -> None:
    refused = await client.post(LIST, json=body, headers=admin)

    assert refused.status_code in (400, 422), refused.text
    assert field in refused.text
    assert "Expected" not in refused.text
    assert "regex" not in refused.text


@pytest.mark.parametrize("table_id", ["", "t1@2030-05-01", "venue/t1"])
async def test_a_table_id_no_table_can_have_is_refused_in_plain_words(
    client: Client, admin: Headers, table_id: str
) -> None:
    entry, _ = await join(client, admin, party("Typo Tom", 2))

    refused = await client.post(
        f"{LIST}/{entry['id']}/seat", json={"table_ids": [table_id]}, headers=admin
    )

    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/invalid-waitlist-entry")
    assert refused.json()["detail"].startswith("table_ids: each must be a table's id")
    await leave(client, admin, entry["id"])
