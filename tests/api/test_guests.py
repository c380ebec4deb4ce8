"""Guest profiles over HTTP: staff search a guest by name, phone or email, read what their
bookings add up to, tag them and write notes (admins and managers), and merge two profiles
of one guest; another venue's guests are not found.

The bookings are written to the store as they will be once bookings name their person
(`tests.support.guests`), each test with guests of its own."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from booking_core.codec import codec
from booking_core.domain.events import BookingPlaced
from booking_core.domain.personal import ERASED, new_person_id
from booking_core.store import ConsistencyToken
from read_models.venues import resolve
from tests.api.conftest import Headers, NewUser, World, host_at, problem_of
from tests.support.guests import Book
from tests.support.scope import TEST_VENUE

Client = AsyncTestClient[Litestar]
GUESTS = "/api/v1/admin/guests"
DAY = date(2026, 10, 5)


@pytest.fixture(autouse=True)
async def venue_listed(world: World) -> None:
    """Staff are granted roles at a venue the directory (a projection) lists: wait for it
    (the daemon starts with the package)."""
    for _ in range(400):
        if await resolve(world.pool, TEST_VENUE) is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the directory never listed the suite's venue")


def waiting(headers: Headers, token: ConsistencyToken | str) -> Headers:
    return {**headers, "X-Consistency-Token": str(token)}


async def regular(world: World) -> tuple[str, str, ConsistencyToken]:
    """A guest of the test's own with a finished visit, a no-show and a booking to come:
    their id, their (unique) surname and the token of the last write (a read that sends
    it finds the guest)."""
    person, surname = new_person_id(), f"Lovelace{uuid.uuid4().hex[:8]}"
    book = Book(world.store)
    first, second, third = (f"bkg_{uuid.uuid4().hex}" for _ in range(3))
    name = f"Ada {surname}"
    await book.place(first, person, DAY, name=name, party_size=3)
    await book.step(first, "seat", DAY)
    await book.step(first, "complete", DAY)
    await book.place(
        second, person, DAY + timedelta(days=1), name=name, email=f"{surname}@Example.org"
    )
    await book.step(second, "no_show", DAY + timedelta(days=1))
    token = await book.place(
        third, person, DAY + timedelta(days=30), name=name, phone="+44 20 7946 5555"
    )
    return person, surname, token


async def test_staff_find_a_guest_and_read_what_their_bookings_add_up_to(
    client: Client, admin: Headers, world: World, new_user: NewUser
) -> None:
    person, surname, token = await regular(world)
    host = await host_at(client, admin, new_user, TEST_VENUE)

    for q in (surname.upper(), "7946 5555", f"{surname.lower()}@example"):
        found = await client.get(GUESTS, params={"q": q}, headers=waiting(host, token))
        assert found.status_code == 200, found.text
        assert [g["id"] for g in found.json()["items"]] == [person], q
    read = await client.get(f"{GUESTS}/{person}", headers=waiting(host, token))

    assert read.status_code == 200, read.text
    assert read.headers["etag"] == '"0"'
    profile = read.json()
    assert {k: profile[k] for k in ("name", "visits", "covers", "no_shows", "cancellations")} == {
        "name": f"Ada {surname}",
        "visits": 1,
        "covers": 3,
        "no_shows": 1,
        "cancellations": 0,
    }
    assert (profile["first_visit"], profile["last_visit"]) == (str(DAY), str(DAY))
    assert profile["phones"] == ["+442079460000", "+442079465555"]
    assert profile["emails"] == ["ada@example.org", f"{surname.lower()}@example.org"]
    assert [b["status"] for b in profile["bookings"]] == ["confirmed", "no_show", "completed"]
    refused = await client.patch(f"{GUESTS}/{person}", json={"tags": ["VIP"]}, headers=host)
    assert refused.status_code == 403, refused.text


async def test_tags_and_notes_are_bounded_and_guarded_by_if_match(
    client: Client, admin: Headers, world: World
) -> None:
    person, _, token = await regular(world)
    path = f"{GUESTS}/{person}"
    assert (await client.get(path, headers=waiting(admin, token))).status_code == 200

    too_many = await client.patch(
        path,
        json={"tags": [f"t{i}" for i in range(21)] + [""], "notes": "n" * 2001},
        headers=waiting(admin, token),
    )
    body = problem_of(too_many, 422, "invalid-guest-profile")
    assert [e["field"] for e in body["errors"]] == ["tags[21]", "tags", "notes"]
    noted = await client.patch(
        path,
        json={"tags": ["VIP", " allergy: nuts ", "vip"], "notes": "Window seat"},
        headers={**admin, "If-Match": '"0"'},
    )
    assert noted.status_code == 200, noted.text
    assert noted.headers["etag"] == '"1"'
    assert (noted.json()["tags"], noted.json()["notes"]) == (
        ["VIP", "allergy: nuts"],
        "Window seat",
    )
    stale = await client.patch(path, json={"notes": None}, headers={**admin, "If-Match": '"0"'})
    problem_of(stale, 409, "stale-version")
    read = await client.get(path, headers=waiting(admin, noted.headers["x-consistency-token"]))
    assert (read.json()["tags"], read.json()["notes"], read.json()["version"]) == (
        ["VIP", "allergy: nuts"],
        "Window seat",
        1,
    )


async def test_two_profiles_of_one_guest_are_merged_into_one(
    client: Client, admin: Headers, world: World
) -> None:
    kept, surname, _ = await regular(world)
    other, third = new_person_id(), new_person_id()
    book = Book(world.store)
    visit = f"bkg_{uuid.uuid4().hex}"
    await book.place(visit, other, DAY + timedelta(days=3), name=f"A. {surname}", party_size=2)
    await book.step(visit, "seat", DAY + timedelta(days=3))
    await book.note(other, ("allergy: nuts",), "Calls ahead")
    token = await book.place(f"bkg_{uuid.uuid4().hex}", third, DAY, name="Someone Else")
    assert (await client.get(f"{GUESTS}/{third}", headers=waiting(admin, token))).is_success
    await client.patch(
        f"{GUESTS}/{kept}", json={"tags": ["VIP"], "notes": "Window"}, headers=waiting(admin, token)
    )

    merged = await client.post(
        f"{GUESTS}/{kept}/merge", json={"guest_id": other}, headers=waiting(admin, token)
    )

    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert (body["id"], body["merged"], body["tags"]) == (kept, [other], ["VIP", "allergy: nuts"])
    assert body["notes"] == "Window\n\nCalls ahead"
    after = merged.headers["x-consistency-token"]
    through_other = await client.get(f"{GUESTS}/{other}", headers=waiting(admin, after))
    assert through_other.json()["id"] == kept
    assert (through_other.json()["visits"], through_other.json()["covers"]) == (2, 5)
    found = await client.get(GUESTS, params={"q": surname}, headers=waiting(admin, after))
    assert [g["id"] for g in found.json()["items"]] == [kept]
    problem_of(
        await client.patch(f"{GUESTS}/{other}", json={"tags": []}, headers=admin),
        409,
        "guest-profile-merged",
    )
    problem_of(
        await client.post(f"{GUESTS}/{third}/merge", json={"guest_id": other}, headers=admin),
        409,
        "guest-profile-merged",
    )
    itself = await client.post(f"{GUESTS}/{kept}/merge", json={"guest_id": kept}, headers=admin)
    assert problem_of(itself, 422, "invalid-guest-profile")["errors"][0]["field"] == "guest_id"

    # Erasing the kept profile erases the one merged into it: one guest, both keys.
    erased = await client.post(f"{GUESTS}/{kept}/erase", headers=waiting(admin, after))
    assert erased.status_code == 204, erased.text
    placed = codec.decode((await world.store.read_stream(book.streams.booking(visit)))[0])
    assert isinstance(placed, BookingPlaced)
    assert (placed.person, placed.guest_name) == (other, ERASED)


async def test_another_venues_guest_is_not_found(
    client: Client, admin: Headers, world: World
) -> None:
    elsewhere, name = new_person_id(), f"Hopper{uuid.uuid4().hex[:8]}"
    other_venue = "ven_" + uuid.uuid4().hex
    token = await Book(world.store, other_venue).place(
        f"bkg_{uuid.uuid4().hex}", elsewhere, DAY, name=name
    )
    mine, _, mine_written = await regular(world)
    assert (await client.get(f"{GUESTS}/{mine}", headers=waiting(admin, mine_written))).is_success

    read = await client.get(f"{GUESTS}/{elsewhere}", headers=waiting(admin, token))
    problem_of(read, 404, "guest-not-found")
    found = await client.get(GUESTS, params={"q": name}, headers=waiting(admin, token))
    assert found.json() == {"items": [], "next_cursor": None}
    merge: Any = await client.post(
        f"{GUESTS}/{mine}/merge", json={"guest_id": elsewhere}, headers=admin
    )
    problem_of(merge, 404, "guest-not-found")
    patched = await client.patch(f"{GUESTS}/{elsewhere}", json={"tags": ["VIP"]}, headers=admin)
    problem_of(patched, 404, "guest-not-found")


async def test_the_profile_a_booking_counts_towards_is_found_by_the_booking(
    client: Client, admin: Headers, world: World
) -> None:
    person, name = new_person_id(), f"Curie{uuid.uuid4().hex[:8]}"
    booking_id, unnamed = f"bkg_{uuid.uuid4().hex}", f"bkg_{uuid.uuid4().hex}"
    book = Book(world.store)
    await book.place(booking_id, person, DAY, name=name)
    token = await book.place(unnamed, None, DAY, name=name, phone=None, email=None)

    found = await client.get(
        GUESTS, params={"booking_id": booking_id}, headers=waiting(admin, token)
    )
    nobody = await client.get(GUESTS, params={"booking_id": unnamed}, headers=admin)

    assert [(g["id"], g["name"]) for g in found.json()["items"]] == [(person, name)]
    # A guest with neither email nor phone is a person of their own: not `person`.
    alone = nobody.json()["items"]
    assert [g["name"] for g in alone] == [name]
    assert alone[0]["id"] != person
