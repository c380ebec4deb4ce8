"""The guest profiles projection: what a guest's bookings add up to, merges, and an
erasure that scrubs the row to exactly what a rebuild gives once the key is gone."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

import projectors.registry as registry
from booking_core.domain.personal import ERASED
from booking_core.store.postgres import PostgresEventStore
from projectors.guests import GuestsProjection
from projectors.rebuild import rebuild
from projectors.runner import SqlProjectionRunner
from read_models import guests
from tests.support.guests import AT, Book
from tests.support.models import clear_read_models, dump_sql
from tests.support.scope import TEST_VENUE

ADA = "gst_" + "a" * 32
ADA_AGAIN = "gst_" + "b" * 32
GRACE = "gst_" + "c" * 32
OTHER_VENUE = "ven_0ther0venue0000000000000000001"


@pytest.fixture
async def store(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Any, redis_prefix: str
) -> PostgresEventStore:
    await clear_read_models(pool, redis, redis_prefix)
    return clean_store


async def project(store: PostgresEventStore, pool: AsyncConnectionPool[Any]) -> None:
    await SqlProjectionRunner(GuestsProjection(), store, registry.codec, pool).catch_up()


DAY = date(2026, 12, 1)


async def ada_history(book: Book) -> None:
    """Ada: two visits (one still at the table), a no-show, a cancellation, a booking to
    come, one changed to a new phone and party; a booking without a person."""
    await book.place("b1", ADA, DAY, party_size=2)
    await book.step("b1", "seat", DAY)
    await book.step("b1", "complete", DAY)
    await book.place("b2", ADA, DAY + timedelta(days=7), party_size=4, email=None)
    await book.change(
        "b2",
        DAY + timedelta(days=8),
        name="Ada King",
        phone="+44 (20) 7946-1111",
        party_size=5,
        at=AT + timedelta(hours=1),
    )
    await book.step("b2", "seat", DAY + timedelta(days=8), party_size=5)
    await book.place("b3", ADA, DAY + timedelta(days=2))
    await book.step("b3", "no_show", DAY + timedelta(days=2))
    await book.place("b4", ADA, DAY + timedelta(days=3))
    await book.step("b4", "cancel", DAY + timedelta(days=3))
    await book.place("b5", ADA, DAY + timedelta(days=20))
    await book.place("b6", None, DAY, name="Nobody's")


async def test_a_guests_bookings_add_up_to_their_profile(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    book = Book(store)
    await ada_history(book)
    await book.note(ADA, ("VIP",), "window seat")
    await project(store, pool)

    found = await guests.profiles(pool, TEST_VENUE, [ADA])

    assert found[ADA] == guests.GuestProfile(
        id=ADA,
        name="Ada King",
        phones=["+442079460000", "+442079461111"],
        emails=["ada@example.org"],
        visits=2,
        covers=7,
        no_shows=1,
        cancellations=1,
        first_visit=DAY,
        last_visit=DAY + timedelta(days=8),
        tags=["VIP"],
        notes="window seat",
        merged=[],
        version=1,
    )
    listed = await guests.bookings_of(pool, TEST_VENUE, ADA)
    assert [b.booking_id for b in listed] == ["b5", "b2", "b4", "b3", "b1"]
    assert [b.status for b in listed][:2] == ["confirmed", "seated"]
    assert await guests.bookings_of(pool, TEST_VENUE, ADA, limit=2) == listed[:2]


async def test_a_merged_profile_counts_towards_the_kept_one_and_reads_as_it(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    book = Book(store)
    await book.place("m1", ADA, DAY, phone=None, email="ada@example.org")
    await book.step("m1", "seat", DAY)
    await book.place(
        "m2",
        ADA_AGAIN,
        DAY + timedelta(days=1),
        name="A. Lovelace",
        email=None,
        at=AT + timedelta(hours=1),
    )
    await book.step("m2", "seat", DAY + timedelta(days=1))
    await book.place("m3", GRACE, DAY, name="Grace Hopper")
    # Ada's profile merged into Grace's, then Grace's into Ada's other: the group follows.
    await book.merge(GRACE, ADA)
    await book.merge(ADA_AGAIN, GRACE)
    await project(store, pool)

    assert await guests.resolve(pool, TEST_VENUE, ADA) == ADA_AGAIN
    assert await guests.resolve(pool, TEST_VENUE, GRACE) == ADA_AGAIN
    assert await guests.group_of(pool, TEST_VENUE, ADA) == [ADA_AGAIN, ADA, GRACE]
    kept = (await guests.profiles(pool, TEST_VENUE, [ADA_AGAIN]))[ADA_AGAIN]
    assert (kept.name, kept.visits, kept.covers, kept.merged) == (
        "A. Lovelace",  # the latest name given
        2,
        4,
        [ADA, GRACE],
    )
    assert kept.phones == ["+442079460000"]
    assert kept.emails == ["ada@example.org"]
    assert await guests.profiles(pool, TEST_VENUE, [ADA]) == {}


async def test_search_finds_a_guest_by_name_phone_digits_or_email_in_their_venue_only(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    book = Book(store)
    await book.place("s1", ADA, DAY, name="Ada Lovelace", phone="+44 20 7946 0000")
    await book.place(
        "s2",
        GRACE,
        DAY,
        name="Grace Hopper",
        phone="+1 555 0100",
        email="g@navy.mil",
        at=AT + timedelta(minutes=1),
    )
    elsewhere = Book(store, OTHER_VENUE)
    await elsewhere.place("s3", "gst_" + "d" * 32, DAY, name="Ada Elsewhere")
    await project(store, pool)

    async def ids(q: str) -> list[str]:
        items, _ = await guests.search(pool, TEST_VENUE, q, limit=10)
        return [item.id for item in items]

    assert await ids("lovelace") == [ADA]
    assert await ids("ADA") == [ADA]
    assert await ids("7946") == [ADA]
    assert await ids("(555) 01") == [GRACE]
    assert await ids("NAVY.mil") == [GRACE]
    assert await ids("%") == []
    assert await ids("") == [GRACE, ADA]  # the most recently seen first
    first, after = await guests.search(pool, TEST_VENUE, "", limit=1)
    assert [p.id for p in first] == [GRACE]
    assert after is not None
    second, done = await guests.search(pool, TEST_VENUE, "", limit=1, after=after)
    assert [p.id for p in second] == [ADA]
    assert done is None
    assert [p.name for p in (await guests.search(pool, OTHER_VENUE, "ada", limit=5))[0]] == [
        "Ada Elsewhere"
    ]


async def test_an_erasure_scrubs_the_profile_to_what_a_rebuild_makes_of_it(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Any, redis_prefix: str
) -> None:
    book = Book(store)
    await ada_history(book)
    await book.note(ADA, ("VIP", "nuts"), "allergic to nuts")
    await book.note(GRACE, ("regular",), "no name yet")
    await book.erase(ADA)
    await book.erase(GRACE)
    await project(store, pool)
    live = await dump_sql(pool)

    ada = (await guests.profiles(pool, TEST_VENUE, [ADA]))[ADA]
    assert (ada.name, ada.phones, ada.emails, ada.notes, ada.tags) == (
        ERASED,
        [],
        [],
        None,
        ["VIP", "nuts"],
    )
    assert (ada.visits, ada.covers, ada.no_shows, ada.cancellations) == (2, 7, 1, 1)
    grace = (await guests.profiles(pool, TEST_VENUE, [GRACE]))[GRACE]
    assert (grace.name, grace.notes, grace.tags) == ("", None, ["regular"])

    # What a rebuild reads once the key is gone: the personal fields as erased.
    async with pool.connection() as connection:
        await connection.execute(
            "UPDATE events SET data = jsonb_set(data, '{guest_name}', to_jsonb(%s::text))"
            " WHERE type IN ('BookingPlaced', 'BookingChanged') AND data->>'person' = %s",
            (ERASED, ADA),
        )
        for field in ("guest_phone", "guest_email", "notes"):
            await connection.execute(
                "UPDATE events SET data = jsonb_set(data, %s, 'null')"
                " WHERE data->>'person' = ANY(%s) AND data ? %s",
                ([field], [ADA, GRACE], field),
            )
    await rebuild(
        store=store,
        codec=registry.codec,
        pool=pool,
        redis=redis,
        redis_prefix=redis_prefix,
        sql_projections=[GuestsProjection()],
    )
    assert await dump_sql(pool) == live
