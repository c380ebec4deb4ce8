"""Personal fields in PostgreSQL: sealed on append, opened on every read, erased for good.

The store is the only place that sees keys: what readers get looks as it was written
(plus the `person`), the `events` rows hold ciphertext, and once a person is erased every
read path shows their fields as erased while the facts stay.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from typing import Any, Literal

import pytest
from psycopg_pool import AsyncConnectionPool

from booking_core.codec import codec
from booking_core.domain.events import BookingChanged, BookingPlaced, PersonErased
from booking_core.domain.personal import ERASED, is_person_id
from booking_core.domain.streams import streams_of
from booking_core.store import ANY, NO_STREAM, NewEvent, StreamAppend
from booking_core.store.postgres import PostgresEventStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
VENUE = "ven_seal"
STREAMS = streams_of(VENUE)


@pytest.fixture
async def store(pool: AsyncConnectionPool[Any], database_url: str) -> PostgresEventStore:
    async with pool.connection() as connection:
        await connection.execute(
            "TRUNCATE events, streams, idempotency_keys, person_keys, person_index RESTART IDENTITY"
        )
    return PostgresEventStore(pool, database_url)


def placed(
    booking_id: str, name: str, email: str | None, phone: str | None = None
) -> BookingPlaced:
    starts = datetime(2026, 12, 24, 19, 0, tzinfo=UTC)
    return BookingPlaced(
        booking_id=booking_id,
        table_ids=("t1",),
        service_date=date(2026, 12, 24),
        date=date(2026, 12, 24),
        time=time(19, 0),
        end_date=date(2026, 12, 24),
        end_time=time(20, 30),
        starts_at=starts,
        ends_at=starts.replace(hour=20, minute=30),
        party_size=4,
        duration_minutes=90,
        guest_name=name,
        guest_phone=phone,
        guest_email=email,
        special_requests="window seat, nut allergy",
        user_id="u-staff",
        placed_at=NOW,
    )


def changed(before: BookingPlaced, person: str, name: str) -> BookingChanged:
    return BookingChanged(
        booking_id=before.booking_id,
        table_ids=before.table_ids,
        service_date=before.service_date,
        date=before.date,
        time=before.time,
        end_date=before.end_date,
        end_time=before.end_time,
        starts_at=before.starts_at,
        ends_at=before.ends_at,
        party_size=5,
        duration_minutes=90,
        guest_name=name,
        guest_email=before.guest_email,
        person=person,
        changed_at=NOW,
        changed_by="u-staff",
        previous_table_ids=before.table_ids,
        previous_service_date=before.service_date,
        previous_party_size=4,
        previous_duration_minutes=90,
    )


async def book(store: PostgresEventStore, event: BookingPlaced, account: str | None = None) -> str:
    new = codec.encode(event)
    if account is not None:
        new = NewEvent(type=new.type, data=new.data, metadata=new.metadata, account=account)
    result = await store.append([StreamAppend(STREAMS.booking(event.booking_id), NO_STREAM, [new])])
    return result.persons[0]


async def raw_text(pool: AsyncConnectionPool[Any]) -> str:
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT data::text FROM events ORDER BY position")
        return "\n".join(row[0] for row in await cursor.fetchall())


def erased_event(venue_id: str, person: str) -> NewEvent:
    return codec.encode(PersonErased(person=person, erased_at=NOW, erased_by="u-admin"))


async def test_reads_open_what_the_rows_keep_sealed(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    ada = placed("b1", "Ada Lovelace", "Ada@Example.org", "+44 20 7946 0000")
    person = await book(store, ada)
    assert is_person_id(person)
    more = changed(ada, person, "Ada King")
    await store.append([StreamAppend(STREAMS.booking("b1"), 1, [codec.encode(more)])])

    text = await raw_text(pool)
    for secret in ("Ada", "Example.org", "7946", "nut allergy"):
        assert secret not in text
    assert person in text  # the person stays in the clear, beside the facts

    expected = [
        BookingPlaced(**{**_fields(ada), "person": person}),
        BookingChanged(**{**_fields(more), "person": person}),
    ]
    stream = STREAMS.booking("b1")
    assert [codec.decode(r) for r in await store.read_stream(stream)] == expected
    read = await store.read_streams([stream], {stream: 2})
    assert [codec.decode(r) for r in read[stream]] == expected[1:]
    everything = await settled(lambda: store.read_all(venue=VENUE), 2)
    assert [codec.decode(r) for r in everything] == expected

    lines = await settled(lambda: _lines(exported(store, "jsonl")), 2)
    jsonl = [json.loads(line) for line in lines]
    assert [e["data"]["guest_name"] for e in jsonl] == ["Ada Lovelace", "Ada King"]
    assert "_sealed" not in jsonl[0]["data"]
    assert jsonl[0]["metadata"] == {}
    text = b"\n".join(await settled(lambda: _lines(exported(store, "csv")), 3)).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "position", "tx", "stream_id", "version", "type", "schema_version", "recorded_at",
        "metadata", "data",
    ]  # fmt: skip
    assert json.loads(rows[0]["data"])["guest_email"] == "Ada@Example.org"
    assert json.loads(rows[1]["data"])["guest_name"] == "Ada King"


async def test_no_key_is_ever_in_an_events_payload_or_metadata(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    ada = placed("b1", "Ada Lovelace", "ada@example.org", "+44 20 7946 0000")
    person = await book(store, ada)
    await store.append(
        [StreamAppend(STREAMS.booking("b1"), 1, [codec.encode(changed(ada, person, "Ada King"))])]
    )
    await book(store, placed("b2", "Grace Hopper", "grace@example.org"), account="u-grace")
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT key FROM person_keys")
        keys = [bytes(row[0]) for row in await cursor.fetchall()]
        cursor = await connection.execute("SELECT data::text || metadata::text FROM events")
        stored = "\n".join(row[0] for row in await cursor.fetchall()).lower()
    assert len(keys) == 2
    for key in keys:
        spellings = {
            key.hex(),
            base64.b64encode(key).decode(),
            base64.urlsafe_b64encode(key).decode(),
        }
        for spelling in spellings:
            assert spelling.rstrip("=").lower() not in stored


async def test_after_erasure_every_read_shows_the_person_erased_and_the_facts_stay(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    ada = await book(store, placed("b1", "Ada Lovelace", "ada@example.org"))
    grace = await book(store, placed("b2", "Grace Hopper", "grace@example.org"))
    gone, token = await store.erase({VENUE: [ada]}, erased_event)
    assert gone == [(VENUE, ada)]
    assert token is not None

    events = [codec.decode(r) for r in await settled(lambda: store.read_all(venue=VENUE), 3)]
    first, second, erased = events
    assert isinstance(first, BookingPlaced)
    assert isinstance(second, BookingPlaced)
    assert (first.guest_name, first.guest_email, first.special_requests) == (ERASED, None, None)
    assert (first.party_size, first.table_ids, first.person) == (4, ("t1",), ada)
    assert second.guest_name == "Grace Hopper"
    assert erased == PersonErased(person=ada, erased_at=NOW, erased_by="u-admin")
    lines = await settled(lambda: _lines(exported(store, "jsonl")), 3)
    assert json.loads(lines[0])["data"]["guest_name"] == ERASED

    # Erasing again writes nothing; another venue's erasure of the id touches nothing.
    assert await store.erase({VENUE: [ada], "ven_other": [grace]}, erased_event) == ([], None)
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT person FROM person_keys")
        assert [row[0] for row in await cursor.fetchall()] == [grace]


async def test_an_erased_person_is_never_given_a_new_key(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    ada = placed("b1", "Ada Lovelace", "ada@example.org")
    person = await book(store, ada)
    await store.erase({VENUE: [person]}, erased_event)
    # A later event of the booking (its state still holds the plaintext) names the person.
    later = changed(ada, person, "Ada Lovelace")
    await store.append([StreamAppend(STREAMS.booking("b1"), 1, [codec.encode(later)])])
    (_, stored) = [codec.decode(r) for r in await store.read_stream(STREAMS.booking("b1"))]
    assert isinstance(stored, BookingChanged)
    assert (stored.guest_name, stored.person) == (ERASED, person)
    assert "Ada" not in await raw_text(pool)
    # The guest comes back with the same email: a new person, readable.
    again = await book(store, placed("b2", "Ada Lovelace", "ada@example.org"))
    assert again != person
    (back,) = [codec.decode(r) for r in await store.read_stream(STREAMS.booking("b2"))]
    assert isinstance(back, BookingPlaced)
    assert back.guest_name == "Ada Lovelace"
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT person FROM person_keys")
        assert [row[0] for row in await cursor.fetchall()] == [again]


async def test_one_identity_is_one_person_and_an_account_is_its_own(
    store: PostgresEventStore, database_url: str, pool: AsyncConnectionPool[Any]
) -> None:
    by_email = await book(store, placed("b1", "Ada", "ada@example.org"))
    # Another process, with nothing remembered, resolves the same email to the same person.
    other = PostgresEventStore(pool, database_url)
    assert await book(other, placed("b2", "Ada L.", " ADA@example.org ")) == by_email
    assert await book(store, placed("b3", "Ada", None, "+44 20 7946 0000")) != by_email
    assert await book(store, placed("b4", "Ada", None, "+442079460000")) == await book(
        store, placed("b5", "Ada", None, "+44 (20) 7946-0000")
    )
    mine = await book(store, placed("b6", "Ada", "ada@example.org"), account="u-ada")
    assert mine != by_email
    assert await book(other, placed("b7", "Ada", "new@example.org"), account="u-ada") == mine
    # No identity at all: a person of their own each time.
    assert await book(store, placed("b8", "Walk-in", None)) != await book(
        store, placed("b9", "Walk-in", None)
    )
    # The same email at another venue is another person.
    elsewhere = codec.encode(placed("b1", "Ada", "ada@example.org"))
    result = await store.append(
        [StreamAppend(streams_of("ven_else").booking("b1"), NO_STREAM, [elsewhere])]
    )
    assert result.persons[0] != by_email


async def test_concurrent_appends_for_one_new_guest_make_one_key(
    pool: AsyncConnectionPool[Any], database_url: str, store: PostgresEventStore
) -> None:
    stores = [PostgresEventStore(pool, database_url) for _ in range(6)]
    persons = await asyncio.gather(
        *(book(each, placed(f"b{n}", "Ada", "ada@example.org")) for n, each in enumerate(stores))
    )
    assert len(set(persons)) == 1
    async with pool.connection() as connection:
        cursor = await connection.execute("SELECT count(*) FROM person_keys")
        assert await cursor.fetchone() == (1,)
    for n in range(6):
        (record,) = await store.read_stream(STREAMS.booking(f"b{n}"))
        assert codec.decode(record).guest_name == "Ada"  # type: ignore[attr-defined]


async def test_a_duplicate_append_answers_without_new_persons(store: PostgresEventStore) -> None:
    from booking_core.store import IdempotencyKey

    key = IdempotencyKey(key="k1", fingerprint="f")
    event = codec.encode(placed("b1", "Ada", "ada@example.org"))
    first = await store.append([StreamAppend(STREAMS.booking("b1"), ANY, [event])], idempotency=key)
    again = await store.append([StreamAppend(STREAMS.booking("b1"), ANY, [event])], idempotency=key)
    assert again.duplicate
    assert again.persons == {}
    assert first.persons


async def settled(read: Callable[[], Awaitable[list[Any]]], count: int) -> list[Any]:
    """What a gap-free read returns once it shows `count` items: other transactions on
    the server (other test runs) may hold it back for a moment."""
    deadline = asyncio.get_running_loop().time() + 10
    while len(found := await read()) < count:
        assert asyncio.get_running_loop().time() < deadline, "the read never settled"
        await asyncio.sleep(0.01)
    return found


async def exported(store: PostgresEventStore, format: Literal["jsonl", "csv"]) -> bytes:
    return b"".join([chunk async for chunk in store.export(format, venue=VENUE)])


async def _lines(chunks: Awaitable[bytes]) -> list[bytes]:
    return (await chunks).splitlines()


def _fields(event: Any) -> dict[str, Any]:
    return {name: getattr(event, name) for name in event.__struct_fields__}


async def test_a_process_that_remembers_an_erased_key_seals_as_erased(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], database_url: str
) -> None:
    ada = placed("b1", "Ada Lovelace", "ada@example.org")
    person = await book(store, ada)  # this process now remembers the key and the email
    elsewhere = PostgresEventStore(pool, database_url)  # another process erases
    await elsewhere.erase({VENUE: [person]}, erased_event)

    later = changed(ada, person, "Ada Lovelace")
    await store.append([StreamAppend(STREAMS.booking("b1"), 1, [codec.encode(later)])])
    again = await book(store, placed("b2", "Ada Lovelace", "ada@example.org"))

    assert again != person
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT data->'_sealed' FROM events WHERE stream_id = %s AND version = 2",
            (STREAMS.booking("b1"),),
        )
        assert await cursor.fetchone() == (b"{}",)  # sealed with no key: nothing to open
    (_, stored) = [codec.decode(r) for r in await store.read_stream(STREAMS.booking("b1"))]
    assert isinstance(stored, BookingChanged)
    assert stored.guest_name == ERASED
    (back,) = [codec.decode(r) for r in await store.read_stream(STREAMS.booking("b2"))]
    assert isinstance(back, BookingPlaced)
    assert back.guest_name == "Ada Lovelace"
