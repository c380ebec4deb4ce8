"""The booking page's API over HTTP: booking without an account, then viewing, changing
and cancelling that booking with its manage token, and nothing else.

A token opens its own booking only, and only until the booking ends; every other case
(no token, a wrong one, another booking's, a bearer token, a booking made with an
account) is the same 404 as a booking that does not exist. Changes are re-decided like
any change. The page's writes are limited per client address.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from api.app import create_app
from api.book import BOOK_DIR
from api.context import forget_replays
from api.services import ApiConfig, Services
from booking_core.domain.commands import BookTable, public_guest
from booking_core.handlers import book_table
from read_models.as_of import booking_as_of
from tablebook.runtime import open_services
from tests.api.conftest import TIME_ZONE, Headers, World, problem_of, serving
from tests.support.scope import TEST_VENUE, to_test_venue

Client = AsyncTestClient[Litestar]

PUBLIC = "/api/v1/public/bookings"
SHOWN = {
    "id",
    "venue_id",
    "status",
    "date",
    "time",
    "end_time",
    "party_size",
    "guest_name",
    "guest_email",
    "guest_phone",
    "special_requests",
    "version",
    "created_at",
    "updated_at",
    "manage_token",
}
"""Every field a public booking answer may hold: this booking's own, nothing else."""


def _body(day: dt.date, time: str = "19:00", party_size: int = 2, **more: Any) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "time": time,
        "party_size": party_size,
        "guest_name": "Mary Public",
        "guest_email": f"mary-{uuid.uuid4().hex[:8]}@example.com",
        **more,
    }


def _with(token: str) -> Headers:
    return {"Authorization": f"Booking {token}"}


async def _book(client: Client, day: dt.date, **body: Any) -> dict[str, Any]:
    made = await client.post(f"{PUBLIC}/", json=_body(day, **body))
    assert made.status_code == 201, made.text
    assert made.headers["ETag"] == '"1"'
    booked: dict[str, Any] = made.json()
    assert made.headers["Location"].endswith(f"/public/bookings/{booked['id']}")
    return booked


async def test_a_guest_without_an_account_books_with_an_email_and_gets_a_token_once(
    client: Client, world: World, days: Iterator[dt.date]
) -> None:
    day = next(days)
    body = _body(day)
    del body["guest_email"]
    missing = problem_of(await client.post(f"{PUBLIC}/", json=body), 422, "email-required")
    assert [e["field"] for e in missing["errors"]] == ["guest_email"]

    booked = await _book(client, day, guest_phone="+44 20 7946 0000")
    token = booked["manage_token"]
    assert set(booked) <= SHOWN
    assert len(token) >= 32
    assert booked["status"] == "confirmed"
    assert booked["time"] == "19:00"

    found = await booking_as_of(world.store, TEST_VENUE, booked["id"], None)
    details = getattr(found.state, "details", None)
    assert details is not None
    assert details.manage_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert details.user_id == public_guest(booked["id"]).user_id

    read = await client.get(f"{PUBLIC}/{booked['id']}", headers=_with(token))
    assert read.status_code == 200, read.text
    assert read.headers["ETag"] == '"1"'
    shown = read.json()
    assert set(shown) <= SHOWN
    assert shown["manage_token"] is None
    assert shown["guest_phone"] == "+44 20 7946 0000"
    assert {k: v for k, v in shown.items() if k != "manage_token"} == {
        k: v for k, v in booked.items() if k != "manage_token"
    }


async def test_a_repeated_booking_request_never_gets_the_token_again_and_redis_keeps_none(
    client: Client, world: World, redis: Redis, days: Iterator[dt.date]
) -> None:
    body = _body(next(days))
    once = {"Idempotency-Key": f"page-{uuid.uuid4().hex}"}
    first = await client.post(f"{PUBLIC}/", json=body, headers=once)
    assert first.status_code == 201, first.text
    token = first.json()["manage_token"]
    assert token

    replayed = await client.post(f"{PUBLIC}/", json=body, headers=once)
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert (replayed.json()["id"], replayed.json()["manage_token"]) == (first.json()["id"], None)
    copies = redis.scan_iter(match=f"{world.redis_prefix}idem:*")
    kept = [await redis.get(key) async for key in copies]
    assert kept
    assert not [copy for copy in kept if isinstance(copy, bytes) and token.encode() in copy]

    # With the kept copy gone the request runs again and is known by its command id.
    await forget_replays(redis, world.redis_prefix)
    again = await client.post(f"{PUBLIC}/", json=body, headers=once)
    assert (again.json()["id"], again.json()["manage_token"]) == (first.json()["id"], None)


async def test_any_other_token_is_the_404_of_a_booking_that_does_not_exist(
    client: Client, guest: Headers, days: Iterator[dt.date]
) -> None:
    day = next(days)
    mine = await _book(client, day, time="12:00")
    theirs = await _book(client, day, time="12:30")
    path = f"{PUBLIC}/{mine['id']}"
    nobody = await client.get(f"{PUBLIC}/bkg_{uuid.uuid4().hex}", headers=_with("x" * 32))
    expected = problem_of(nobody, 404, "booking-not-found")
    for headers in (
        {},
        _with(theirs["manage_token"]),
        _with(mine["manage_token"][:-1]),
        _with(mine["manage_token"] + "x"),
        {"Authorization": f"Bearer {mine['manage_token']}"},
        guest,
        _with(""),
    ):
        for method in ("GET", "PUT", "DELETE"):
            answer = await client.request(
                method, path, headers=headers, json={"party_size": 3} if method == "PUT" else None
            )
            found = problem_of(answer, 404, "booking-not-found")
            assert set(found) == set(expected), headers
            assert mine["guest_name"] not in answer.text
            assert mine["id"] in answer.text
    calendar = await client.get(f"{path}/calendar.ics", headers=_with(theirs["manage_token"]))
    problem_of(calendar, 404, "booking-not-found")
    still = await client.get(path, headers=_with(mine["manage_token"]))
    assert still.status_code == 200
    assert still.json()["party_size"] == 2


async def test_a_signed_in_guest_books_without_an_email_and_the_booking_is_theirs(
    client: Client, guest: Headers, admin: Headers, days: Iterator[dt.date]
) -> None:
    body = _body(next(days))
    del body["guest_email"]
    made = await client.post(f"{PUBLIC}/", json=body, headers=guest)
    assert made.status_code == 201, made.text
    booked = made.json()
    assert booked["manage_token"] is None
    seen = {**guest, "X-Consistency-Token": made.headers["X-Consistency-Token"]}
    own = await client.get(f"/api/v1/bookings/{booked['id']}", headers=seen)
    assert own.status_code == 200
    assert own.json()["user_id"].startswith("usr_")
    # A booking made with an account has no token: the public routes do not open it.
    problem_of(
        await client.get(f"{PUBLIC}/{booked['id']}", headers=_with("a" * 32)),
        404,
        "booking-not-found",
    )
    # Its guest, signed in, gets its calendar file; no other account does.
    calendar = await client.get(f"{PUBLIC}/{booked['id']}/calendar.ics", headers=guest)
    assert calendar.status_code == 200, calendar.text
    assert "BEGIN:VEVENT" in calendar.text
    elsewhere = await client.get(f"{PUBLIC}/{booked['id']}/calendar.ics", headers=admin)
    problem_of(elsewhere, 404, "booking-not-found")
    bad = await client.post(f"{PUBLIC}/", json=body, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    # Staff signed in on the page book as guests: a rule is a refusal, not a question.
    too_many = {**body, "party_size": 30}
    refused = await client.post(f"{PUBLIC}/", json=too_many, headers=admin)
    problem_of(refused, 422, "no-table-fits-party")


async def test_a_change_is_re_decided_and_honours_if_match(
    client: Client, admin: Headers, days: Iterator[dt.date]
) -> None:
    day = next(days)
    booked = await _book(client, day, time="13:00", party_size=8)
    path, headers = f"{PUBLIC}/{booked['id']}", _with(booked["manage_token"])
    # The only table for eight (t6) is taken at 20:00 by a phone booking.
    taken = {**_body(day, "20:00", 8), "source": "phone"}
    assert (await client.post("/api/v1/bookings/", json=taken, headers=admin)).status_code == 201

    problem_of(
        await client.put(path, json={"time": "20:00"}, headers=headers), 409, "no-table-available"
    )
    problem_of(
        await client.put(path, json={"time": "20:07"}, headers=headers), 422, "off-slot-grid"
    )
    problem_of(
        await client.put(path, json={"party_size": 30}, headers=headers), 422, "no-table-fits-party"
    )
    moved = await client.put(
        path, json={"time": "18:30", "party_size": 6}, headers={**headers, "If-Match": '"1"'}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["time"] == "18:30"
    assert moved.json()["party_size"] == 6
    assert moved.headers["ETag"] == '"2"'
    assert set(moved.json()) <= SHOWN
    stale = await client.put(path, json={"time": "19:00"}, headers={**headers, "If-Match": '"1"'})
    problem_of(stale, 409, "stale-version")
    seen = await client.get(path, headers=headers)
    assert seen.json()["time"] == "18:30"
    assert seen.json()["version"] == 2


async def test_cancelling_twice_answers_the_same_and_a_cancelled_booking_stays_cancelled(
    client: Client, days: Iterator[dt.date]
) -> None:
    booked = await _book(client, next(days), time="14:00")
    path, headers = f"{PUBLIC}/{booked['id']}", _with(booked["manage_token"])
    first = await client.delete(path, headers=headers)
    assert first.status_code == 200
    assert first.json()["status"] == "cancelled"
    again = await client.delete(path, headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    problem_of(
        await client.put(path, json={"time": "15:00"}, headers=headers), 409, "invalid-transition"
    )
    assert (await client.get(path, headers=headers)).json()["status"] == "cancelled"


async def test_a_token_ends_when_its_booking_ends(client: Client, world: World) -> None:
    token = "an-old-token-of-a-past-booking-0123456789"
    hashed = hashlib.sha256(token.encode()).hexdigest()

    async def placed(day: dt.date, now: dt.datetime) -> str:
        booking_id = f"bkg_{uuid.uuid4().hex}"
        await book_table(
            world.store,
            BookTable(
                venue_id=TEST_VENUE,
                command_id=uuid.uuid4().hex,
                actor=public_guest(booking_id),
                now=now,
                booking_id=booking_id,
                date=day,
                time=dt.time(12, 0),
                party_size=2,
                guest_name="Past Guest",
                guest_email="past@example.com",
                manage_token_hash=hashed,
                manage_token=token,
            ),
        )
        return booking_id

    today = dt.datetime.now(dt.UTC)
    past = today.date() - dt.timedelta(days=3)
    ended = await placed(past, dt.datetime.combine(past - dt.timedelta(days=1), dt.time(9), dt.UTC))
    coming = await placed(today.date() + dt.timedelta(days=300), today)
    assert (await client.get(f"{PUBLIC}/{coming}", headers=_with(token))).status_code == 200
    for method in ("GET", "DELETE"):
        answer = await client.request(method, f"{PUBLIC}/{ended}", headers=_with(token))
        problem_of(answer, 404, "booking-not-found")


async def test_the_calendar_file_holds_the_booking_in_the_venue_s_time_zone(
    client: Client, days: Iterator[dt.date]
) -> None:
    day = next(days)
    booked = await _book(client, day, time="19:30", party_size=3)
    answer = await client.get(
        f"{PUBLIC}/{booked['id']}/calendar.ics", headers=_with(booked["manage_token"])
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answer.content)
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("dtstart")
    assert (start.date(), start.strftime("%H:%M")) == (day, "19:30")
    assert str(start.tzinfo) == TIME_ZONE
    assert calendar.walk("VTIMEZONE")
    assert "3 guests" in str(event["summary"])
    assert booked["guest_email"] not in answer.text


@pytest.fixture
async def slug(client: Client) -> str:
    """The suite's venue's slug, as the directory lists it."""
    listed = await client.get("/api/v1/venues")
    (venue,) = [v for v in listed.json() if v["id"] == TEST_VENUE]
    return str(venue["slug"])


async def test_the_venue_as_the_page_sees_it_holds_no_guest_data(client: Client, slug: str) -> None:
    answer = await client.get("/api/v1/public/venue")
    assert answer.status_code == 200, answer.text
    venue = answer.json()
    assert set(venue) == {
        "id",
        "slug",
        "name",
        "time_zone",
        "address",
        "today",
        "max_days_ahead",
        "min_party_size",
        "max_party_size",
    }
    assert venue["id"] == TEST_VENUE
    assert venue["slug"] == slug
    assert (venue["time_zone"], venue["max_days_ahead"]) == (TIME_ZONE, 365)
    # The suite's venue seats 1 to 8 at its own tables; other tests may add larger ones.
    assert venue["min_party_size"] == 1
    assert venue["max_party_size"] >= 8


@pytest.fixture
async def limited(
    api_config: ApiConfig, database_url: str, redis_url: str, redis_prefix: str, world: World
) -> AsyncIterator[Client]:
    """A second app on the same services whose page may write twice per address."""

    def services() -> AbstractAsyncContextManager[Services]:
        return open_services(database_url, redis_url, pool_size=2, redis_prefix=redis_prefix)

    config = dataclasses.replace(api_config, public_writes_per_address=2)
    async with AsyncTestClient(create_app(config, services)) as client:
        client.event_hooks = {"request": [to_test_venue], "response": []}
        counter = f"{redis_prefix}limit:public-writes:testclient"
        redis = Redis.from_url(redis_url)
        try:
            await redis.delete(counter)  # the suite's other tests count from this address too
            yield client
            await redis.delete(counter)
        finally:
            await redis.aclose()


async def test_the_page_s_writes_are_limited_per_address(
    limited: Client, days: Iterator[dt.date]
) -> None:
    day = next(days)
    booked = await _book(limited, day, time="16:00")
    headers = _with(booked["manage_token"])
    assert (await limited.delete(f"{PUBLIC}/{booked['id']}", headers=headers)).status_code == 200
    refused = problem_of(
        await limited.post(f"{PUBLIC}/", json=_body(day)), 429, "too-many-requests"
    )
    assert refused["status"] == 429
    again = await limited.delete(f"{PUBLIC}/{booked['id']}", headers=headers)
    assert again.status_code == 429
    assert 1 <= int(again.headers["Retry-After"]) <= 600
    moved = await limited.put(f"{PUBLIC}/{booked['id']}", json={"time": "17:00"}, headers=headers)
    problem_of(moved, 429, "too-many-requests")
    # Reading is not a write: the guest still sees their booking.
    assert (await limited.get(f"{PUBLIC}/{booked['id']}", headers=headers)).status_code == 200


@pytest.fixture
async def limited_server(
    database_url: str, redis_url: str, redis_prefix: str, world: World
) -> AsyncIterator[httpx.AsyncClient]:
    """A `tablebook serve` whose page may write twice per address, and which believes
    `X-Forwarded-For` from this host: the test speaks as several clients."""
    with serving(
        database_url,
        redis_url,
        redis_prefix,
        FORWARDED_ALLOW_IPS="127.0.0.1",
        PUBLIC_WRITES_PER_ADDRESS="2",
    ) as url:
        hooks = {"request": [to_test_venue], "response": []}
        async with httpx.AsyncClient(base_url=url, timeout=10, event_hooks=hooks) as client:
            yield client


async def test_one_address_past_its_limit_leaves_another_free_to_book(
    limited_server: httpx.AsyncClient, days: Iterator[dt.date]
) -> None:
    day = next(days)
    one, other = "203.0.113.7", "198.51.100.8"

    def book(address: str, time: str) -> Awaitable[httpx.Response]:
        headers = {"X-Forwarded-For": address}
        return limited_server.post(f"{PUBLIC}/", json=_body(day, time), headers=headers)

    assert [(await book(one, t)).status_code for t in ("15:00", "15:30")] == [201, 201]
    problem_of(await book(one, "16:00"), 429, "too-many-requests")
    assert (await book(other, "16:00")).status_code == 201


async def test_the_page_is_served_for_a_venue_and_a_404_page_for_any_other_slug(
    client: Client, slug: str
) -> None:
    page = await client.get(f"/book/{slug}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'class="embed"' not in page.text
    assert "book.js" in page.text
    assert '<link rel="icon" href="data:,">' in page.text  # the browser asks for no favicon.ico
    embedded = await client.get(f"/book/{slug}?embed=1")
    assert '<html lang="en" class="embed">' in embedded.text
    missing = await client.get("/book/no-such-venue-here")
    assert missing.status_code == 404
    assert "No such restaurant" in missing.text
    for asset in ("book.js", "book.css"):
        served = await client.get(f"/book/assets/{asset}")
        assert served.status_code == 200
        assert served.content == (BOOK_DIR / asset).read_bytes()


def test_the_page_s_assets_weigh_under_100_kb() -> None:
    total = sum(path.stat().st_size for path in Path(BOOK_DIR).iterdir() if path.is_file())
    assert 0 < total < 100 * 1024, total
