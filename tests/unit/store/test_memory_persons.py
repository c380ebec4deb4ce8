"""The in-memory store gives persons the same meaning as PostgreSQL: resolved by
identity per venue, erased for every reader, never given back a key."""

from __future__ import annotations

import json

from booking_core.domain.personal import ERASED, is_person_id
from booking_core.domain.streams import streams_of
from booking_core.store import NO_STREAM, InMemoryEventStore, NewEvent, StreamAppend

HERE = streams_of("ven_a")


def placed(email: str | None, name: str = "Ada", **more: str) -> NewEvent:
    body = {"guest_name": name, "guest_email": email, "party_size": 2, **more}
    return NewEvent(type="BookingPlaced", data=json.dumps(body).encode())


async def book(store: InMemoryEventStore, stream: str, event: NewEvent) -> str:
    result = await store.append([StreamAppend(stream, NO_STREAM, [event])])
    return result.persons[0]


def erased(venue_id: str, person: str) -> NewEvent:
    return NewEvent(type="PersonErased", data=json.dumps({"person": person}).encode())


async def test_persons_are_resolved_by_identity_per_venue() -> None:
    store = InMemoryEventStore()
    ada = await book(store, HERE.booking("b1"), placed("ada@example.org"))
    assert is_person_id(ada)
    assert await book(store, HERE.booking("b2"), placed(" ADA@example.org")) == ada
    assert await book(store, HERE.booking("b3"), placed(None)) != ada
    there = await book(store, streams_of("ven_b").booking("b1"), placed("ada@example.org"))
    assert there != ada
    account = NewEvent(type="BookingPlaced", data=placed("ada@example.org").data, account="u-1")
    mine = await book(store, HERE.booking("b4"), account)
    assert mine != ada
    found = await store.persons_of(["user:u-1", "email:ada@example.org"])
    assert found == sorted([("ven_a", mine), ("ven_a", ada), ("ven_b", there)])
    assert await store.streams_of_persons([there]) == [streams_of("ven_b").booking("b1")]


async def test_erasure_shows_every_reader_the_person_erased_once() -> None:
    store = InMemoryEventStore()
    ada = await book(store, HERE.booking("b1"), placed("ada@example.org"))
    gone, token = await store.erase({"ven_a": [ada], "ven_b": [ada]}, erased)
    assert gone == [("ven_a", ada)]
    assert token is not None
    (record,) = await store.read_stream(HERE.booking("b1"))
    data = json.loads(record.data)
    assert (data["guest_name"], data["guest_email"], data["party_size"]) == (ERASED, None, 2)
    assert [r.type for r in await store.read_all()] == ["BookingPlaced", "PersonErased"]
    assert await store.erase({"ven_a": [ada]}, erased) == ([], None)
    # Written for the erased person later: stored erased. The email again: a new person.
    later = placed("ada@example.org", person=ada)
    await store.append([StreamAppend(HERE.booking("b1"), 1, [later])])
    assert json.loads((await store.read_stream(HERE.booking("b1")))[1].data)["guest_name"] == ERASED
    assert await book(store, HERE.booking("b2"), placed("ada@example.org")) != ada
