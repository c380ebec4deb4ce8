"""Admin operations over HTTP: all bookings, the evening's workflow, the dashboard and
reports, accounts, and the raw event log."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import TIME_ZONE, Headers, NewUser, World, booked_before
from tests.support.scope import STREAMS, TEST_VENUE

Client = AsyncTestClient[Litestar]

ADMIN_ROUTES = [
    ("GET", "/api/v1/admin/bookings"),
    ("GET", "/api/v1/admin/bookings/bkg_nobody"),
    ("POST", "/api/v1/admin/bookings/bkg_nobody/seat"),
    ("POST", "/api/v1/admin/bookings/bkg_nobody/complete"),
    ("POST", "/api/v1/admin/bookings/bkg_nobody/no-show"),
    ("GET", "/api/v1/admin/dashboard/stats"),
    ("GET", "/api/v1/admin/reports/bookings"),
    ("GET", "/api/v1/admin/users"),
    ("GET", "/api/v1/admin/users/usr_nobody"),
    ("PATCH", "/api/v1/admin/users/usr_nobody"),
    ("GET", "/api/v1/admin/events"),
]


def _booking(day: dt.date, time: str, party: int, name: str, **extra: object) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "time": time,
        "party_size": party,
        "guest_name": name,
        **extra,
    }


async def _book(
    client: Client, headers: Headers, day: dt.date, time: str, party: int, name: str, **extra: Any
) -> tuple[dict[str, Any], str]:
    made = await client.post(
        "/api/v1/bookings/", json=_booking(day, time, party, name, **extra), headers=headers
    )
    assert made.status_code == 201, made.text
    return made.json(), made.headers["x-consistency-token"]


EARLY = {"override": {"reason": "Seated days ahead of the booking, for the test"}}
"""The body that seats a booking of a later day: outside its seating window, so only with
a reason."""


async def _step(
    client: Client, admin: Headers, booking_id: str, step: str, body: Any = None
) -> Any:
    return await client.post(
        f"/api/v1/admin/bookings/{booking_id}/{step}", json=body, headers=admin
    )


def _after(token: str, headers: Headers) -> Headers:
    return {**headers, "X-Consistency-Token": token}


async def _every_page(
    client: Client, path: str, params: dict[str, str | int], headers: Headers, follow: str
) -> list[dict[str, Any]]:
    """The items of every page, following `next_cursor` in the parameter `follow`."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = await client.get(
            path, params={**params, **({follow: cursor} if cursor else {})}, headers=headers
        )
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_routes_refuse_strangers_and_guests(
    client: Client, guest: Headers, method: str, path: str
) -> None:
    body: dict[str, Any] | None = {} if method == "PATCH" else None
    anonymous = await client.request(method, path, json=body)
    assert anonymous.status_code == 401, anonymous.text
    as_guest = await client.request(method, path, headers=guest, json=body)
    assert as_guest.status_code == 403, as_guest.text
    assert as_guest.headers["content-type"].startswith("application/problem+json")


# --- bookings ---------------------------------------------------------------------------


async def test_admin_finds_every_guests_bookings_by_day_status_table_and_guest(
    client: Client, admin: Headers, new_user: NewUser, days: Iterator[dt.date]
) -> None:
    day = next(days)
    ada_headers, ada = await new_user("Ada Lovelace")
    grace_headers, _ = await new_user("Grace Hopper")
    first, _ = await _book(
        client, ada_headers, day, "18:00", 2, "Ada Lovelace", guest_phone="+44 20 7946 0101"
    )
    second, _ = await _book(client, grace_headers, day, "19:00", 6, "Grace Hopper, party of 6")
    gone, _ = await _book(client, grace_headers, day, "20:00", 2, "Grace Hopper")
    cancelled = await client.delete(f"/api/v1/bookings/{gone['id']}", headers=grace_headers)
    token = cancelled.headers["x-consistency-token"]

    async def ids(**params: Any) -> list[str]:
        response = await client.get(
            "/api/v1/admin/bookings", params=params, headers=_after(token, admin)
        )
        assert response.status_code == 200, response.text
        return [b["id"] for b in response.json()["items"]]

    iso = day.isoformat()
    assert await ids(date=iso) == [first["id"], second["id"], gone["id"]]
    assert await ids(**{"from": iso, "to": iso}) == [first["id"], second["id"], gone["id"]]
    assert await ids(date=iso, status="cancelled") == [gone["id"]]
    assert await ids(date=iso, table_id=second["table_id"]) == [second["id"]]
    assert await ids(date=iso, q="lovelace") == [first["id"]]
    assert await ids(date=iso, q="7946 0101") == [first["id"]]
    assert await ids(date=iso, q="party of 6") == [second["id"]]

    one = await client.get(f"/api/v1/admin/bookings/{first['id']}", headers=admin)
    assert one.status_code == 200
    assert one.json()["user_id"] == ada["id"]
    missing = await client.get("/api/v1/admin/bookings/bkg_does_not_exist", headers=admin)
    assert missing.status_code == 404


async def test_admin_pages_through_bookings_without_skipping_or_repeating(
    client: Client, admin: Headers, guest: Headers, days: Iterator[dt.date]
) -> None:
    day = next(days)
    made = []
    token = ""
    for time in ("12:00", "13:00", "14:00", "15:00", "16:00"):
        booking, token = await _book(client, guest, day, time, 2, "Paged Guest")
        made.append(booking["id"])
    seen = await _every_page(
        client,
        "/api/v1/admin/bookings",
        {"date": day.isoformat(), "limit": 2},
        _after(token, admin),
        "cursor",
    )
    assert [b["id"] for b in seen] == made


async def test_admin_booking_filters_refuse_nonsense(client: Client, admin: Headers) -> None:
    for params, status in (
        ({"from": "2030-02-02", "to": "2030-02-01"}, 422),
        ({"date": "9999-01-01"}, 422),
        ({"date": "tomorrow"}, 400),
        ({"status": "eaten"}, 400),
        ({"limit": 0}, 400),
        ({"limit": 501}, 400),
    ):
        response = await client.get("/api/v1/admin/bookings", params=params, headers=admin)
        assert response.status_code == status, (params, response.text)
    forged = {"cursor": "not-a-cursor"}
    response = await client.get("/api/v1/admin/bookings", params=forged, headers=admin)
    assert response.status_code in {400, 422}


# --- the evening's workflow -------------------------------------------------------------


async def test_a_party_is_seated_then_completed(
    client: Client, admin: Headers, guest: Headers, days: Iterator[dt.date]
) -> None:
    booking, _ = await _book(client, guest, next(days), "19:00", 4, "Seated Party")
    too_soon = await _step(client, admin, booking["id"], "complete")
    assert too_soon.status_code == 409, too_soon.text

    seated = await _step(client, admin, booking["id"], "seat", EARLY)
    assert seated.status_code == 200, seated.text
    assert seated.json()["status"] == "seated"
    assert seated.headers["x-consistency-token"]
    again = await _step(client, admin, booking["id"], "seat")
    assert again.status_code == 200
    assert again.json()["status"] == "seated"

    completed = await _step(client, admin, booking["id"], "complete")
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "completed"
    token = completed.headers["x-consistency-token"]
    read = await client.get(f"/api/v1/admin/bookings/{booking['id']}", headers=_after(token, admin))
    assert read.json()["status"] == "completed"

    reseat = await _step(client, admin, booking["id"], "seat")
    assert reseat.status_code == 409
    assert reseat.json()["type"].endswith("/invalid-transition")


async def test_a_cancelled_or_unknown_booking_cannot_be_seated(
    client: Client, admin: Headers, guest: Headers, days: Iterator[dt.date]
) -> None:
    booking, _ = await _book(client, guest, next(days), "19:00", 2, "Changed Mind")
    await client.delete(f"/api/v1/bookings/{booking['id']}", headers=guest)
    assert (await _step(client, admin, booking["id"], "seat")).status_code == 409
    assert (await _step(client, admin, "bkg_does_not_exist", "seat")).status_code == 404


async def test_no_show_is_refused_before_the_start(
    client: Client, admin: Headers, guest: Headers, days: Iterator[dt.date]
) -> None:
    booking, _ = await _book(client, guest, next(days), "19:00", 2, "Not Yet Late")
    early = await _step(client, admin, booking["id"], "no-show")
    assert early.status_code == 422, early.text
    assert early.json()["type"].endswith("/no-show-before-start")


async def test_a_booking_past_its_start_is_marked_a_no_show_and_counted(
    client: Client, admin: Headers, world: World
) -> None:
    day = dt.date.today() - dt.timedelta(days=200)
    booking_id = await booked_before(  # placed when it was still ahead
        world, TEST_VENUE, day, party_size=3, guest_name="Never Came"
    )
    marked = await _step(client, admin, booking_id, "no-show")
    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "no_show"
    assert (await _step(client, admin, booking_id, "no-show")).status_code == 200
    assert (await _step(client, admin, booking_id, "seat")).status_code == 409
    stats = await client.get(
        "/api/v1/admin/dashboard/stats",
        params={"date": day.isoformat()},
        headers=_after(marked.headers["x-consistency-token"], admin),
    )
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert (body["bookings"], body["covers"], body["no_shows"]) == (1, 0, 1)


# --- dashboard and reports --------------------------------------------------------------


async def test_dashboard_counts_one_day(
    client: Client, admin: Headers, guest: Headers, days: Iterator[dt.date]
) -> None:
    day, busier, empty = next(days), next(days), next(days)
    await _book(client, guest, day, "18:00", 2, "Couple")
    four, _ = await _book(client, guest, day, "19:00", 4, "Family of four")
    gone, _ = await _book(client, guest, day, "20:00", 2, "Cancelled Couple")
    await client.delete(f"/api/v1/bookings/{gone['id']}", headers=guest)
    for time in ("12:00", "18:00"):
        await _book(client, guest, busier, time, 2, "Couple")
        await _book(client, guest, busier, time, 4, "Family of four")
    seated = await _step(client, admin, four["id"], "seat", EARLY)
    token = seated.headers["x-consistency-token"]

    async def stats(on: dt.date) -> dict[str, Any]:
        response = await client.get(
            "/api/v1/admin/dashboard/stats",
            params={"date": on.isoformat()},
            headers=_after(token, admin),
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    found = await stats(day)
    assert found["date"] == day.isoformat()
    counts = ("bookings", "covers", "cancellations", "no_shows", "seated_now")
    # The family was seated days ahead of its booking: seated, but not "now" on that day.
    assert [found[k] for k in counts] == [2, 6, 1, 0, 0]
    assert found["tables_total"] >= 6
    # 2 x 90 + 4 x 120 seat-minutes on `day`, twice that on `busier`, same floor
    assert 0 < found["occupancy_rate"] < 1
    assert (await stats(busier))["occupancy_rate"] == pytest.approx(
        2 * found["occupancy_rate"], abs=2e-4
    )
    nothing = await stats(empty)
    assert [nothing[k] for k in counts] == [0, 0, 0, 0, 0]
    assert nothing["occupancy_rate"] == 0


async def test_dashboard_defaults_to_the_venues_today(client: Client, admin: Headers) -> None:
    response = await client.get("/api/v1/admin/dashboard/stats", headers=admin)
    assert response.status_code == 200, response.text
    today = dt.datetime.now(ZoneInfo(TIME_ZONE)).date()
    assert response.json()["date"] in {
        today.isoformat(),
        dt.datetime.now(dt.UTC).date().isoformat(),
    }


async def test_report_totals_days_sources_and_party_sizes_as_json_and_csv(
    client: Client, admin: Headers, guest: Headers, days: Iterator[dt.date]
) -> None:
    day = next(days)
    await _book(client, guest, day, "18:00", 2, "Web Couple")
    await _book(client, admin, day, "18:00", 4, "Phoned Family", source="phone")
    gone, _ = await _book(client, guest, day, "20:00", 2, "Cancelled Couple")
    cancelled = await client.delete(f"/api/v1/bookings/{gone['id']}", headers=guest)
    headers = _after(cancelled.headers["x-consistency-token"], admin)
    params = {"from": day.isoformat(), "to": day.isoformat()}

    report = await client.get("/api/v1/admin/reports/bookings", params=params, headers=headers)
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["from"], body["to"]) == (day.isoformat(), day.isoformat())
    totals = body["totals"]
    assert [totals[k] for k in ("bookings", "covers", "cancellations", "no_shows")] == [2, 6, 1, 0]
    assert 0 < totals["occupancy_rate"] <= 1
    assert body["by_day"] == [{"date": day.isoformat(), **totals}]
    assert sorted(body["by_source"], key=lambda s: s["source"]) == [
        {"source": "online", "bookings": 1, "covers": 2},
        {"source": "phone", "bookings": 1, "covers": 4},
    ]
    assert body["by_party_size"] == [
        {"party_size": 2, "bookings": 1, "covers": 2},
        {"party_size": 4, "bookings": 1, "covers": 4},
    ]

    as_csv = await client.get(
        "/api/v1/admin/reports/bookings", params=params, headers={**headers, "Accept": "text/csv"}
    )
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    disposition = as_csv.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert ".csv" in disposition
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert rows == [
        {
            "date": day.isoformat(),
            "bookings": "2",
            "covers": "6",
            "cancellations": "1",
            "no_shows": "0",
            "occupancy_rate": str(totals["occupancy_rate"]),
        }
    ]


async def test_report_lists_every_day_of_its_range(
    client: Client, admin: Headers, days: Iterator[dt.date]
) -> None:
    first = next(days) + dt.timedelta(days=400)
    params = {"from": first.isoformat(), "to": (first + dt.timedelta(days=6)).isoformat()}
    report = await client.get("/api/v1/admin/reports/bookings", params=params, headers=admin)
    assert report.status_code == 200, report.text
    by_day = report.json()["by_day"]
    assert [d["date"] for d in by_day] == [
        (first + dt.timedelta(days=n)).isoformat() for n in range(7)
    ]
    assert all(d["bookings"] == 0 and d["occupancy_rate"] == 0 for d in by_day)


async def test_report_refuses_backwards_overlong_or_malformed_ranges(
    client: Client, admin: Headers
) -> None:
    for params, status in (
        ({"from": "2030-03-02", "to": "2030-03-01"}, 422),
        ({"from": "2030-01-01", "to": "2031-01-02"}, 422),
        ({"from": "9999-01-01", "to": "9999-01-02"}, 422),
        ({"from": "yesterday"}, 400),
    ):
        response = await client.get("/api/v1/admin/reports/bookings", params=params, headers=admin)
        assert response.status_code == status, (params, response.text)


# --- accounts ---------------------------------------------------------------------------


async def test_admin_lists_and_filters_accounts_page_by_page(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    tag = uuid.uuid4().hex[:8]
    made = [(await new_user(f"Lister {tag} {n}"))[1] for n in range(3)]
    seen = await _every_page(client, "/api/v1/admin/users", {"q": tag, "limit": 2}, admin, "cursor")
    assert [u["id"] for u in seen] == [u["id"] for u in made]

    admins = await client.get("/api/v1/admin/users", params={"role": "admin"}, headers=admin)
    assert admins.json()["items"]
    assert all(u["role"] == "admin" for u in admins.json()["items"])
    await client.patch(
        f"/api/v1/admin/users/{made[0]['id']}", json={"is_active": False}, headers=admin
    )
    inactive = await client.get(
        "/api/v1/admin/users", params={"q": tag, "is_active": "false"}, headers=admin
    )
    assert [u["id"] for u in inactive.json()["items"]] == [made[0]["id"]]

    one = await client.get(f"/api/v1/admin/users/{made[1]['id']}", headers=admin)
    assert one.status_code == 200
    assert one.json() == made[1]
    assert (await client.get("/api/v1/admin/users/usr_nobody", headers=admin)).status_code == 404


async def test_promoting_a_user_revokes_their_old_token(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    headers, user = await new_user("Soon Admin")
    promoted = await client.patch(
        f"/api/v1/admin/users/{user['id']}", json={"role": "admin"}, headers=admin
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "admin"
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401


async def test_an_admin_cannot_lock_themself_out(client: Client, admin: Headers) -> None:
    me = (await client.get("/api/v1/auth/me", headers=admin)).json()
    for change in ({"is_active": False}, {"role": "system_user"}):
        refused = await client.patch(f"/api/v1/admin/users/{me['id']}", json=change, headers=admin)
        assert refused.status_code == 409, refused.text
        assert "your own" in refused.json()["detail"]
    unchanged = await client.patch(
        f"/api/v1/admin/users/{me['id']}", json={"role": "admin"}, headers=admin
    )
    assert unchanged.status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=admin)).status_code == 200


async def test_user_changes_refuse_unknown_fields_values_and_users(
    client: Client, admin: Headers
) -> None:
    path = "/api/v1/admin/users/usr_nobody"
    assert (await client.patch(path, json={"role": "root"}, headers=admin)).status_code == 400
    assert (await client.patch(path, json={"is_admin": True}, headers=admin)).status_code == 400
    assert (await client.patch(path, json={"is_active": True}, headers=admin)).status_code == 404


# --- the event log ----------------------------------------------------------------------


async def test_event_log_shows_a_bookings_life_page_by_page(
    client: Client, admin: Headers, guest: Headers, days: Iterator[dt.date]
) -> None:
    booking, placed_token = await _book(client, guest, next(days), "19:00", 2, "Logged Guest")
    await _step(client, admin, booking["id"], "seat", EARLY)
    done = await _step(client, admin, booking["id"], "complete")
    headers = _after(done.headers["x-consistency-token"], admin)
    stream = STREAMS.booking(booking["id"])

    everything = await client.get(
        "/api/v1/admin/events", params={"stream": stream}, headers=headers
    )
    assert everything.status_code == 200, everything.text
    items = everything.json()["items"]
    assert [e["type"] for e in items] == ["BookingPlaced", "BookingSeated", "BookingCompleted"]
    assert [e["version"] for e in items] == [1, 2, 3]
    assert items[0]["token"] == placed_token
    assert items[0]["data"]["booking_id"] == booking["id"]
    assert items[0]["metadata"]["user_id"] == booking["user_id"]
    assert everything.json()["next_cursor"] is None

    seen = await _every_page(
        client, "/api/v1/admin/events", {"stream": stream, "limit": 1}, headers, "after"
    )
    assert seen == items

    since = await client.get(
        "/api/v1/admin/events", params={"stream": stream, "after": placed_token}, headers=headers
    )
    assert [e["type"] for e in since.json()["items"]] == ["BookingSeated", "BookingCompleted"]
    seated = await client.get(
        "/api/v1/admin/events",
        params=[("stream", stream), ("type", "BookingSeated"), ("type", "BookingPlaced")],
        headers=headers,
    )
    assert [e["type"] for e in seated.json()["items"]] == ["BookingPlaced", "BookingSeated"]


async def test_event_log_refuses_bad_tokens_and_unknown_types(
    client: Client, admin: Headers
) -> None:
    for after in ("abc", "1-2-3", "-5", "99999999999999999999-1"):
        response = await client.get("/api/v1/admin/events", params={"after": after}, headers=admin)
        assert response.status_code == 400, (after, response.text)
    beyond = await client.get(
        "/api/v1/admin/events", params={"after": "9999999999999999999-1"}, headers=admin
    )
    assert beyond.status_code == 422, beyond.text
    unknown = await client.get("/api/v1/admin/events", params={"type": "TableEaten"}, headers=admin)
    assert unknown.status_code == 400
    assert "TableEaten" in unknown.json()["detail"]  # the schema lists the known types
