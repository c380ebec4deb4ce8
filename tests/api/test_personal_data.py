"""A user's personal data over HTTP: exported whole, erased with the account, and a guest
erased by the venue's admin; the facts of their bookings stay."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from booking_core.codec import codec
from booking_core.domain.commands import Actor, BookTable, MergeGuests, NoteGuest
from booking_core.domain.events import BookingPlaced
from booking_core.domain.personal import ERASED
from booking_core.domain.streams import streams_of
from booking_core.handlers import book_table, merge_guests, note_guest
from booking_core.store import NO_STREAM, StreamAppend
from tests.api.conftest import Headers, NewUser, World, booked_before, problem_of, sign_in
from tests.support.scope import STREAMS, TEST_VENUE

Client = AsyncTestClient[Litestar]
Merged = tuple[Headers, str, str]
"""The guest's sign-in, the merged profile's phone booking, and its phone."""
ERASE = "/api/v1/admin/guests/{}/erase"


async def _own_booking(world: World, user_id: str, day: dt.date, name: str) -> str:
    """A booking the signed-in guest makes for themselves."""
    booking_id = f"bkg_{uuid.uuid4().hex}"
    await book_table(
        world.store,
        BookTable(
            venue_id=TEST_VENUE,
            command_id=uuid.uuid4().hex,
            actor=Actor(user_id=user_id),
            now=dt.datetime.now(dt.UTC),
            booking_id=booking_id,
            date=day,
            time=dt.time(12, 0),
            party_size=2,
            guest_name=name,
            guest_phone="+44 20 7946 0101",
            special_requests="a quiet corner",
        ),
    )
    return booking_id


async def _placed(world: World, booking_id: str) -> BookingPlaced:
    (first, *_) = await world.store.read_stream(STREAMS.booking(booking_id))
    event = codec.decode(first)
    assert isinstance(event, BookingPlaced)
    return event


async def test_the_export_holds_the_account_and_every_booking_of_the_user(
    client: Client, new_user: NewUser, world: World, days: Iterator[dt.date]
) -> None:
    headers, user = await new_user("Grace Hopper")
    mine = await _own_booking(world, user["id"], next(days), "Grace Hopper")
    by_phone = await booked_before(
        world, TEST_VENUE, next(days), guest_name="G. Hopper", guest_email=user["email"].upper()
    )
    await booked_before(world, TEST_VENUE, next(days), guest_name="Someone Else")

    exported = await client.get("/api/v1/auth/me/export", headers=headers)

    assert exported.status_code == 200, exported.text
    body = exported.json()
    assert body["account"]["email"] == user["email"]
    assert len(body["guests"]) == 2  # the account's guest, and the email's
    bookings = {b["booking_id"]: b for b in body["bookings"]}
    assert set(bookings) == {mine, by_phone}
    placed = bookings[mine]["events"][0]
    assert placed["type"] == "BookingPlaced"
    assert placed["data"]["guest_name"] == "Grace Hopper"
    assert placed["data"]["special_requests"] == "a quiet corner"
    assert "_sealed" not in placed["data"]
    assert bookings[mine]["status"] == "confirmed"
    assert bookings[by_phone]["events"][0]["data"]["guest_name"] == "G. Hopper"
    assert {b["guest_id"] for b in body["bookings"]} == {g["guest_id"] for g in body["guests"]}
    assert body["waitlist_entries"] == []


async def test_deleting_me_erases_my_bookings_and_closes_the_account(
    client: Client, new_user: NewUser, world: World, days: Iterator[dt.date]
) -> None:
    headers, user = await new_user("Ada Lovelace", "a long password")
    mine = await _own_booking(world, user["id"], next(days), "Ada Lovelace")
    by_phone = await booked_before(
        world, TEST_VENUE, next(days), guest_name="Ada L.", guest_email=user["email"]
    )
    other = await booked_before(world, TEST_VENUE, next(days), guest_name="Not Ada")

    erased = await client.delete("/api/v1/auth/me", headers=headers)

    assert erased.status_code == 204, erased.text
    for booking_id in (mine, by_phone):
        event = await _placed(world, booking_id)
        assert (event.guest_name, event.guest_phone, event.special_requests) == (ERASED, None, None)
        assert (event.party_size, event.time) == (2, dt.time(12, 0))  # the facts stay
    assert (await _placed(world, other)).guest_name == "Not Ada"
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401
    signed_in = await client.post(
        "/api/v1/auth/token", data={"username": user["email"], "password": "a long password"}
    )
    assert signed_in.status_code == 401
    async with world.pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT email, full_name, phone, is_active FROM users WHERE id = %s", (user["id"],)
        )
        row = await cursor.fetchone()
    assert row is not None
    assert user["email"] not in row[0]
    assert (row[1], row[2], row[3]) == (ERASED, None, False)
    # The address is free again: a new account with it is a new guest, not the erased one.
    again = await client.post(
        "/api/v1/auth/register",
        json={"email": user["email"], "password": "another password", "full_name": "Ada"},
    )
    assert again.status_code == 201, again.text
    fresh = await sign_in(client, user["email"], "another password")
    export = (await client.get("/api/v1/auth/me/export", headers=fresh)).json()
    assert export["bookings"] == []


def _by_staff() -> dict[str, Any]:
    return {
        "command_id": uuid.uuid4().hex,
        "actor": Actor(user_id="front-desk", role="admin"),
        "now": dt.datetime.now(dt.UTC),
        "venue_id": TEST_VENUE,
    }


async def _phoned_and_merged(world: World, user_id: str, day: dt.date) -> tuple[str, str]:
    """A phone booking for the guest under another name and number, whose profile staff
    note and then merge into the profile of the guest's account."""
    phone = f"+44 20 7946 {uuid.uuid4().int % 10_000:04d}"
    phoned = await booked_before(
        world, TEST_VENUE, day, guest_name="Phoned Grace", guest_phone=phone
    )
    mine = await _own_booking(world, user_id, day + dt.timedelta(days=1), "Grace Hopper")
    kept, merged = (await _placed(world, mine)).person, (await _placed(world, phoned)).person
    assert kept is not None
    assert merged is not None
    await note_guest(
        world.store, NoteGuest(**_by_staff(), person=merged, tags=("VIP",), notes="Walnuts!")
    )
    await merge_guests(world.store, MergeGuests(**_by_staff(), person=kept, merged=merged))
    return phoned, phone


@pytest.fixture
async def merged(new_user: NewUser, world: World, days: Iterator[dt.date]) -> Merged:
    """A signed-in guest with a phone booking in a profile merged into their own."""
    headers, user = await new_user("Grace Hopper")
    phoned, phone = await _phoned_and_merged(world, user["id"], next(days))
    next(days)
    return headers, phoned, phone


async def test_the_export_holds_the_profiles_merged_with_the_users_and_their_notes(
    client: Client, merged: Merged
) -> None:
    headers, phoned, phone = merged

    body = (await client.get("/api/v1/auth/me/export", headers=headers)).json()

    bookings = {b["booking_id"]: b for b in body["bookings"]}
    assert bookings[phoned]["events"][0]["data"]["guest_phone"] == phone
    # Both profiles say so: the merged one as staff noted it, the kept one since the merge.
    noted = {(tuple(p["tags"]), p["notes"]) for p in body["profiles"]}
    assert noted == {(("VIP",), "Walnuts!")}
    assert {p["guest_id"] for p in body["profiles"]} <= {g["guest_id"] for g in body["guests"]}


async def test_deleting_me_erases_the_profiles_merged_with_mine(
    client: Client, world: World, merged: Merged
) -> None:
    headers, phoned, _ = merged

    assert (await client.delete("/api/v1/auth/me", headers=headers)).status_code == 204

    event = await _placed(world, phoned)
    assert (event.guest_name, event.guest_phone) == (ERASED, None)


async def test_an_admin_account_cannot_erase_itself(client: Client, admin: Headers) -> None:
    problem_of(await client.delete("/api/v1/auth/me", headers=admin), 409, "self-lockout")


async def test_the_venues_admin_erases_a_guest_once_and_twice_is_no_error(
    client: Client, admin: Headers, guest: Headers, world: World, days: Iterator[dt.date]
) -> None:
    email = f"walk-in-{uuid.uuid4().hex[:8]}@example.org"
    booking_id = await booked_before(
        world, TEST_VENUE, next(days), guest_name="Walk In", guest_email=email
    )
    person = (await _placed(world, booking_id)).person
    assert person is not None

    assert (await client.post(ERASE.format(person), headers=guest)).status_code == 403
    first = await client.post(ERASE.format(person), headers=admin)
    assert first.status_code == 204, first.text
    assert (await _placed(world, booking_id)).guest_name == ERASED
    second = await client.post(ERASE.format(person), headers=admin)
    assert second.status_code == 204, second.text
    erasures = await world.store.read_stream(STREAMS.person(person))
    assert [r.type for r in erasures] == ["PersonErased"]


async def test_an_unknown_or_another_venues_guest_is_not_found(
    client: Client, admin: Headers, world: World
) -> None:
    elsewhere = streams_of("ven_elsewhere_0000").booking(f"b{uuid.uuid4().hex}")
    placed = await world.store.append(
        [StreamAppend(elsewhere, NO_STREAM, [codec.encode(_walk_in())])]
    )
    theirs = placed.persons[0]
    for guest_id in (theirs, "gst_" + "0" * 32, "not-a-guest"):
        problem_of(await client.post(ERASE.format(guest_id), headers=admin), 404, "not-found")
    assert (await world.store.read_stream(elsewhere))[0].data.count(b"Elsewhere") == 1


def _walk_in() -> Any:
    start = dt.datetime(2026, 12, 24, 19, tzinfo=dt.UTC)
    return BookingPlaced(
        booking_id="b1",
        table_ids=("t1",),
        service_date=start.date(),
        date=start.date(),
        time=start.time(),
        end_date=start.date(),
        end_time=dt.time(20, 30),
        starts_at=start,
        ends_at=start.replace(hour=20, minute=30),
        party_size=2,
        duration_minutes=90,
        guest_name="Elsewhere Guest",
        guest_email="ada@example.org",
        user_id="u-staff",
        placed_at=start,
    )
