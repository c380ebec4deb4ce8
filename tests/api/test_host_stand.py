"""The host stand over HTTP: staff book by phone inside the guests' lead time, seat a walk-in
this minute, set a rule aside only with a reason the history keeps, and seat a party only
within its seating window; guests can do none of it.

Each test opens a venue of its own, open from two hours before the clock's now to six
hours after it with an hour's lead time, so every time here is derived from the clock the
app reads (the suite may run with it moved by a year) and no other test's bookings meet
these.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from booking_core.domain.commands import (
    Actor,
    AddTable,
    ChangeSlotSettings,
    OpenVenue,
    SetOpeningHours,
)
from booking_core.domain.values import OpeningHours, Shift, TurnTime
from booking_core.handlers import add_table, change_registry, change_venue
from read_models.venues import resolve
from tests.api.conftest import TIME_ZONE, Headers, NewUser, World, host_at, problem_of

Client = AsyncTestClient[Litestar]
ZONE = ZoneInfo(TIME_ZONE)
GRID = 15


@dataclass(frozen=True)
class Venue:
    id: str

    def path(self, rest: str) -> str:
        return f"/api/v1/venues/{self.id}/{rest}"


def _local_now() -> dt.datetime:
    return dt.datetime.now(ZONE)


def _on_grid(at: dt.datetime) -> dt.datetime:
    """`at`, rounded up to the venue's 15-minute grid."""
    at = at.replace(second=0, microsecond=0)
    return at + dt.timedelta(minutes=-at.minute % GRID)


def _at(local: dt.datetime) -> dict[str, str]:
    return {"date": local.date().isoformat(), "time": local.strftime("%H:%M")}


@pytest.fixture
async def venue(world: World) -> Venue:
    """A venue of this test alone, open around now, with an hour's lead time."""
    return await _open_venue(world)


async def _open_venue(world: World) -> Venue:
    venue_id = f"ven_{uuid.uuid4().hex}"
    setup = Actor(user_id="setup", role="admin")
    now = dt.datetime.now(dt.UTC)
    opens = _on_grid(_local_now() - dt.timedelta(hours=2, minutes=GRID))
    closes = opens + dt.timedelta(hours=8)

    def command(kind: type[Any], **fields: Any) -> Any:
        return kind(venue_id=venue_id, command_id=uuid.uuid4().hex, actor=setup, now=now, **fields)

    await change_registry(
        world.store,
        command(OpenVenue, name="Host Stand", slug=f"stand-{venue_id[4:16]}", time_zone=TIME_ZONE),
    )
    shift = Shift(opens=opens.time(), closes=closes.time())
    await change_venue(world.store, command(SetOpeningHours, hours=OpeningHours.every_day(shift)))
    await change_venue(
        world.store,
        command(
            ChangeSlotSettings,
            interval_minutes=GRID,
            turn_times=(TurnTime(max_party_size=8, minutes=90),),
            buffer_minutes=0,
            min_lead_minutes=60,
            max_days_ahead=30,
            time_zone=TIME_ZONE,
        ),
    )
    for n in range(1, 5):
        await add_table(
            world.store,
            command(AddTable, table_id=f"h{n}", name=f"H{n}", capacity=4, min_capacity=1),
        )
    deadline = asyncio.get_running_loop().time() + 30
    while await resolve(world.pool, venue_id) is None:
        assert asyncio.get_running_loop().time() < deadline, "the directory never listed it"
        await asyncio.sleep(0.05)
    return Venue(venue_id)


async def _host_of(client: Client, admin: Headers, new_user: NewUser, venue: Venue) -> Headers:
    return await host_at(client, admin, new_user, venue.id)


@pytest.fixture
async def host(client: Client, admin: Headers, new_user: NewUser, venue: Venue) -> Headers:
    return await _host_of(client, admin, new_user, venue)


def _booking(start: dt.datetime, name: str = "Ada Lovelace", **extra: Any) -> dict[str, Any]:
    return {**_at(start), "party_size": 2, "guest_name": name, **extra}


async def _staff_book(client: Client, headers: Headers, venue: Venue, body: dict[str, Any]) -> Any:
    return await client.post(venue.path("admin/bookings"), json=body, headers=headers)


async def test_staff_take_a_phone_booking_inside_the_lead_time_a_guest_cannot(
    client: Client, host: Headers, guest: Headers, venue: Venue
) -> None:
    soon = _on_grid(_local_now() + dt.timedelta(minutes=30))

    refused = await client.post(venue.path("bookings"), json=_booking(soon), headers=guest)
    problem_of(refused, 422, "inside-lead-time")

    made = await _staff_book(client, host, venue, _booking(soon, source="phone"))
    assert made.status_code == 201, made.text
    booking = made.json()
    assert (booking["status"], booking["source"]) == ("confirmed", "phone")
    assert (booking["date"], booking["time"]) == (soon.date().isoformat(), soon.strftime("%H:%M"))
    assert made.headers["location"].endswith(f"/admin/bookings/{booking['id']}")
    assert made.headers["etag"] == f'"{booking["version"]}"'


async def test_a_walk_in_is_booked_from_this_minute_and_seated_in_one_request(
    client: Client, host: Headers, admin: Headers, venue: Venue
) -> None:
    before = _local_now().replace(second=0, microsecond=0)
    made = await _staff_book(
        client, host, venue, {"party_size": 3, "guest_name": "Walk-in", "seat_now": True}
    )
    after = _local_now().replace(second=0, microsecond=0)

    assert made.status_code == 201, made.text
    booking = made.json()
    assert (booking["status"], booking["source"]) == ("seated", "walk_in")
    minutes = {before.strftime("%H:%M"), after.strftime("%H:%M")}
    assert booking["time"] in minutes
    assert booking["date"] in {before.date().isoformat(), after.date().isoformat()}
    assert booking["seated_at"] is not None

    read = await client.get(
        venue.path(f"admin/bookings/{booking['id']}"),
        headers={**host, "X-Consistency-Token": made.headers["x-consistency-token"]},
    )
    assert read.json()["status"] == "seated"
    assert read.json()["seated_at"] is not None


async def test_a_date_and_time_are_needed_unless_the_party_is_seated_now(
    client: Client, host: Headers, venue: Venue
) -> None:
    refused = await _staff_book(client, host, venue, {"party_size": 2, "guest_name": "Nobody"})
    problem_of(refused, 422, "invalid-booking")


@pytest.mark.parametrize("reason", [{}, {"reason": ""}, {"reason": "   "}])
async def test_an_override_without_a_reason_is_refused(
    client: Client, host: Headers, venue: Venue, reason: dict[str, str]
) -> None:
    later = _on_grid(_local_now() + dt.timedelta(hours=2))
    refused = await _staff_book(client, host, venue, _booking(later, override=reason))
    problem_of(refused, 422, "invalid-booking")


async def test_outside_opening_hours_staff_need_a_reason_which_the_history_keeps(
    client: Client, host: Headers, venue: Venue
) -> None:
    closed = _on_grid(_local_now() + dt.timedelta(hours=10))  # the venue is open 8 hours in 24

    refused = await _staff_book(client, host, venue, _booking(closed, "Late Larry"))
    problem = problem_of(refused, 422, "override-required")
    assert problem["rule"] == "outside-opening-hours"
    assert "give a reason to override it" in problem["detail"]

    reason = "Private party; the chef stays late"
    made = await _staff_book(
        client, host, venue, _booking(closed, "Late Larry", override={"reason": reason})
    )
    assert made.status_code == 201, made.text
    me = await client.get("/api/v1/auth/me", headers=host)
    history = await client.get(venue.path(f"bookings/{made.json()['id']}/history"), headers=host)
    assert history.status_code == 200, history.text
    (placed,) = history.json()
    assert placed["type"] == "BookingPlaced"
    assert placed["data"]["source"] == "phone"
    assert placed["data"]["override"] == {"reason": reason, "given_by": me.json()["id"]}


async def test_a_party_is_seated_a_day_early_only_with_a_reason(
    client: Client, host: Headers, admin: Headers, venue: Venue
) -> None:
    # Two days on: the day after tomorrow's service, whatever the hour (the test's venue
    # is open around now, so near midnight its shift runs into tomorrow).
    tomorrow = _on_grid(_local_now() + dt.timedelta(days=2, minutes=30))
    made = await _staff_book(client, host, venue, _booking(tomorrow, "Early Edith"))
    assert made.status_code == 201, made.text
    seat = venue.path(f"admin/bookings/{made.json()['id']}/seat")

    refused = await client.post(seat, headers=host)
    problem = problem_of(refused, 422, "override-required")
    assert problem["rule"] == "seating-window"
    assert "Early Edith's booking starts at " + tomorrow.strftime("%H:%M") in problem["detail"]
    blank = await client.post(seat, json={"override": {"reason": " "}}, headers=host)
    problem_of(blank, 422, "invalid-booking")

    reason = "They could not wait; the table is free tonight"
    seated = await client.post(seat, json={"override": {"reason": reason}}, headers=host)
    assert seated.status_code == 200, seated.text
    assert seated.json()["status"] == "seated"

    me = await client.get("/api/v1/auth/me", headers=host)
    history = await client.get(venue.path(f"bookings/{made.json()['id']}/history"), headers=host)
    entry = history.json()[-1]
    assert entry["type"] == "BookingSeated"
    assert entry["data"]["override"] == {"reason": reason, "given_by": me.json()["id"]}

    # Seated a day early is not seated now: neither on tomorrow's dashboard nor on today's.
    after = {**admin, "X-Consistency-Token": seated.headers["x-consistency-token"]}
    for day in (tomorrow.date(), _local_now().date()):
        stats = await client.get(
            venue.path("admin/dashboard/stats"), params={"date": day.isoformat()}, headers=after
        )
        assert stats.status_code == 200, stats.text
        assert stats.json()["seated_now"] == 0


async def test_the_dashboard_counts_the_parties_at_their_tables_now(
    client: Client, host: Headers, admin: Headers, venue: Venue
) -> None:
    walk_in = {"party_size": 2, "guest_name": "Walk-in", "seat_now": True}
    first = await _staff_book(client, host, venue, walk_in)
    second = await _staff_book(client, host, venue, walk_in)
    assert (first.status_code, second.status_code) == (201, 201), second.text
    done = await client.post(
        venue.path(f"admin/bookings/{second.json()['id']}/complete"), headers=host
    )
    assert done.status_code == 200, done.text
    later = _on_grid(_local_now() + dt.timedelta(hours=2))
    assert (await _staff_book(client, host, venue, _booking(later))).status_code == 201

    stats = await client.get(
        venue.path("admin/dashboard/stats"),
        headers={**admin, "X-Consistency-Token": done.headers["x-consistency-token"]},
    )
    assert stats.status_code == 200, stats.text
    assert stats.json()["seated_now"] == 1


async def test_staff_move_a_booking_past_the_venues_hours_only_with_a_reason(
    client: Client, host: Headers, guest: Headers, venue: Venue
) -> None:
    later = _on_grid(_local_now() + dt.timedelta(hours=2))
    made = await client.post(venue.path("bookings"), json=_booking(later), headers=guest)
    assert made.status_code == 201, made.text
    path = venue.path(f"bookings/{made.json()['id']}")
    closed = _on_grid(_local_now() + dt.timedelta(hours=10))
    move = {**_at(closed), "override": {"reason": "Moved after the chef agreed"}}

    by_guest = await client.put(path, json=move, headers={**guest, "If-Match": '"1"'})
    assert by_guest.status_code == 403, by_guest.text
    without = await client.put(path, json=_at(closed), headers={**host, "If-Match": '"1"'})
    assert problem_of(without, 422, "override-required")["rule"] == "outside-opening-hours"

    moved = await client.put(path, json=move, headers={**host, "If-Match": '"1"'})
    assert moved.status_code == 200, moved.text
    assert moved.json()["time"] == closed.strftime("%H:%M")
    history = await client.get(f"{path}/history", headers=host)
    changed = history.json()[-1]
    assert changed["type"] == "BookingChanged"
    assert changed["data"]["override"]["reason"] == "Moved after the chef agreed"


async def test_guests_may_not_set_a_source_seat_now_or_override(
    client: Client, guest: Headers, venue: Venue
) -> None:
    later = _on_grid(_local_now() + dt.timedelta(hours=2))
    for extra in ({"source": "phone"}, {"seat_now": True}, {"override": {"reason": "VIP"}}):
        refused = await client.post(
            venue.path("bookings"), json=_booking(later, **extra), headers=guest
        )
        assert refused.status_code == 403, (extra, refused.text)
    online = await client.post(
        venue.path("bookings"), json=_booking(later, source="online"), headers=guest
    )
    assert online.status_code == 201, online.text


async def test_guests_and_a_host_of_another_venue_cannot_use_the_host_stand(
    client: Client,
    admin: Headers,
    guest: Headers,
    new_user: NewUser,
    venue: Venue,
    world: World,
) -> None:
    elsewhere = await _host_of(client, admin, new_user, await _open_venue(world))
    later = _booking(_on_grid(_local_now() + dt.timedelta(hours=2)))
    for headers in (guest, elsewhere):
        refused = await _staff_book(client, headers, venue, later)
        assert refused.status_code in (403, 404), refused.text
    made = await _staff_book(client, admin, venue, later)
    assert made.status_code == 201, made.text
    seat = venue.path(f"admin/bookings/{made.json()['id']}/seat")
    assert (await client.post(seat, headers=elsewhere)).status_code in (403, 404)
