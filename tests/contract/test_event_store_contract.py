"""One contract, every store: the in-memory store and PostgreSQL must answer alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool

from booking_core.domain.personal import is_person_id
from booking_core.store import (
    ANY,
    NO_STREAM,
    ORIGIN,
    ConcurrencyError,
    EventStore,
    IdempotencyKey,
    IdempotencyKeyReused,
    InMemoryEventStore,
    NewEvent,
    StreamAppend,
    subscribe,
)
from booking_core.store.postgres import PostgresEventStore


def event(kind: str = "TableReserved", **data: Any) -> NewEvent:
    body = ",".join(f'"{key}":"{value}"' for key, value in data.items())
    return NewEvent(type=kind, data=f"{{{body}}}".encode(), metadata=b'{"user_id":"u-ada"}')


@pytest.fixture(params=["memory", "postgres"])
async def store(
    request: pytest.FixtureRequest, pool: AsyncConnectionPool[Any], database_url: str
) -> AsyncIterator[EventStore]:
    if request.param == "memory":
        yield InMemoryEventStore()
        return
    async with pool.connection() as connection:
        await connection.execute("TRUNCATE events, streams, idempotency_keys RESTART IDENTITY")
    yield PostgresEventStore(pool, database_url)


async def test_a_new_stream_starts_at_version_one(store: EventStore) -> None:
    result = await store.append(
        [StreamAppend("table-WINDOW-4", NO_STREAM, [event(), event(), event()])]
    )
    assert result.versions == {"table-WINDOW-4": 3}
    assert not result.duplicate
    events = await store.read_stream("table-WINDOW-4")
    assert [e.version for e in events] == [1, 2, 3]
    assert await store.stream_version("table-WINDOW-4") == 3
    assert result.token == events[-1].token


async def test_stored_events_keep_type_payload_metadata_and_schema_version(
    store: EventStore,
) -> None:
    new = NewEvent(
        type="BookingPlaced",
        data=b'{"guest_name":"Ada Lovelace","party_size":6}',
        metadata=b'{"command_id":"c-1"}',
        schema_version=3,
    )
    await store.append([StreamAppend("booking-b1", NO_STREAM, [new])])
    (stored,) = await store.read_stream("booking-b1")
    assert stored.type == "BookingPlaced"
    assert stored.schema_version == 3
    assert stored.stream_id == "booking-b1"
    assert stored.recorded_at.tzinfo is not None
    import json

    # A payload with personal fields comes back as written, with its person resolved (a
    # store that seals them lists every personal field, the unset ones as null).
    data = json.loads(stored.data)
    assert is_person_id(data.pop("person"))
    assert {k: v for k, v in data.items() if v is not None} == {
        "guest_name": "Ada Lovelace",
        "party_size": 6,
    }
    assert json.loads(stored.metadata) == {"command_id": "c-1"}


async def test_an_exact_expected_version_appends_after_it(store: EventStore) -> None:
    await store.append([StreamAppend("s", NO_STREAM, [event()])])
    result = await store.append([StreamAppend("s", 1, [event(), event()])])
    assert result.versions == {"s": 3}


async def test_a_stale_expected_version_is_a_concurrency_error_naming_everything(
    store: EventStore,
) -> None:
    await store.append([StreamAppend("table-WINDOW-4@2026-12-24", NO_STREAM, [event(), event()])])
    with pytest.raises(ConcurrencyError) as raised:
        await store.append([StreamAppend("table-WINDOW-4@2026-12-24", 1, [event()])])
    assert raised.value.stream_id == "table-WINDOW-4@2026-12-24"
    assert raised.value.expected == 1
    assert raised.value.actual == 2
    assert await store.stream_version("table-WINDOW-4@2026-12-24") == 2


async def test_an_expected_version_ahead_of_the_stream_is_a_concurrency_error(
    store: EventStore,
) -> None:
    await store.append([StreamAppend("s", NO_STREAM, [event()])])
    with pytest.raises(ConcurrencyError) as raised:
        await store.append([StreamAppend("s", 5, [event()])])
    assert (raised.value.expected, raised.value.actual) == (5, 1)


async def test_expecting_an_exact_version_of_a_missing_stream_fails(store: EventStore) -> None:
    with pytest.raises(ConcurrencyError) as raised:
        await store.append([StreamAppend("ghost", 2, [event()])])
    assert raised.value.actual == 0


async def test_no_stream_fails_when_the_stream_exists(store: EventStore) -> None:
    await store.append([StreamAppend("booking-b1", NO_STREAM, [event()])])
    with pytest.raises(ConcurrencyError) as raised:
        await store.append([StreamAppend("booking-b1", NO_STREAM, [event()])])
    assert (raised.value.expected, raised.value.actual) == (0, 1)


async def test_any_appends_whatever_the_version(store: EventStore) -> None:
    first = await store.append([StreamAppend("venue", ANY, [event()])])
    second = await store.append([StreamAppend("venue", ANY, [event(), event()])])
    assert first.versions == {"venue": 1}
    assert second.versions == {"venue": 3}


async def test_several_streams_append_atomically(store: EventStore) -> None:
    result = await store.append(
        [
            StreamAppend("table-T1@2026-12-24", NO_STREAM, [event("TableReserved")]),
            StreamAppend("booking-b1", NO_STREAM, [event("BookingPlaced"), event("Noted")]),
        ]
    )
    assert result.versions == {"table-T1@2026-12-24": 1, "booking-b1": 2}
    everything = await store.read_all()
    assert [(e.stream_id, e.version) for e in everything] == [
        ("table-T1@2026-12-24", 1),
        ("booking-b1", 1),
        ("booking-b1", 2),
    ]
    assert len({e.tx for e in everything}) == 1


async def test_one_stale_stream_writes_nothing_to_any_stream(store: EventStore) -> None:
    await store.append([StreamAppend("table-T2@2026-12-24", NO_STREAM, [event()])])
    with pytest.raises(ConcurrencyError) as raised:
        await store.append(
            [
                StreamAppend("booking-b2", NO_STREAM, [event("BookingPlaced")]),
                StreamAppend("table-T2@2026-12-24", NO_STREAM, [event()]),
            ]
        )
    assert raised.value.stream_id == "table-T2@2026-12-24"
    assert await store.read_stream("booking-b2") == []
    assert await store.stream_version("booking-b2") == 0
    assert len(await store.read_all()) == 1


async def test_a_stream_without_events_asserts_its_version_and_is_not_written(
    store: EventStore,
) -> None:
    await store.append([StreamAppend("table-T3", NO_STREAM, [event("TableAdded")])])
    result = await store.append(
        [StreamAppend("table-T3", 1, []), StreamAppend("booking-b3", NO_STREAM, [event()])]
    )
    assert result.versions == {"table-T3": 1, "booking-b3": 1}
    assert await store.stream_version("table-T3") == 1
    with pytest.raises(ConcurrencyError) as raised:
        await store.append(
            [StreamAppend("table-T3", 0, []), StreamAppend("booking-b4", NO_STREAM, [event()])]
        )
    assert raised.value.stream_id == "table-T3"
    assert await store.stream_version("booking-b4") == 0


async def test_read_stream_starts_at_the_given_version(store: EventStore) -> None:
    await store.append([StreamAppend("s", NO_STREAM, [event(n=str(n)) for n in range(5)])])
    assert [e.version for e in await store.read_stream("s", from_version=4)] == [4, 5]
    assert await store.read_stream("s", from_version=6) == []
    assert await store.read_stream("nobody") == []


async def test_read_all_resumes_after_a_token_and_honours_the_limit(store: EventStore) -> None:
    for n in range(7):
        await store.append([StreamAppend(f"booking-{n}", NO_STREAM, [event()])])
    first = await store.read_all(limit=3)
    assert [e.stream_id for e in first] == ["booking-0", "booking-1", "booking-2"]
    rest = await store.read_all(after=first[-1].token, limit=100)
    assert [e.stream_id for e in rest] == [f"booking-{n}" for n in range(3, 7)]
    assert await store.read_all(after=rest[-1].token) == []
    assert await store.head() == rest[-1].token


async def test_read_all_filters_by_stream_prefix_and_type(store: EventStore) -> None:
    await store.append([StreamAppend("table-T1", NO_STREAM, [event("TableAdded")])])
    await store.append([StreamAppend("booking-b1", NO_STREAM, [event("BookingPlaced")])])
    await store.append([StreamAppend("booking-b2", NO_STREAM, [event("BookingPlaced")])])
    await store.append([StreamAppend("booking-b2", 1, [event("BookingCancelled")])])
    by_prefix = await store.read_all(stream_prefix="booking-")
    assert [e.stream_id for e in by_prefix] == ["booking-b1", "booking-b2", "booking-b2"]
    by_type = await store.read_all(types=["BookingCancelled", "TableAdded"])
    assert [e.type for e in by_type] == ["TableAdded", "BookingCancelled"]


VENUE_STREAMS = [
    "venue",
    "table-WINDOW-4@2026-11-27",
    "booking-b1",
    "ven_a/venue",
    "ven_a/booking-b1",
    "ven_ab/venue",
    "ven_ab/booking-b2",
    "venXa/booking-b3",
    "ven%/booking-b4",
    "registry/venues",
]


@pytest.mark.parametrize(
    ("venue", "expected"),
    [
        ("default", ["venue", "table-WINDOW-4@2026-11-27", "booking-b1"]),
        ("ven_a", ["ven_a/venue", "ven_a/booking-b1"]),
        ("ven_ab", ["ven_ab/venue", "ven_ab/booking-b2"]),
        ("ven%", ["ven%/booking-b4"]),
        ("ven", []),
    ],
    ids=[
        "the default venue has the bare names and nothing with a slash",
        "ven_a is not a prefix match of ven_ab, and _ matches no other letter",
        "ven_ab has only its own",
        "a % in an id is a plain character",
        "a prefix of venue ids is no venue",
    ],
)
async def test_read_all_keeps_exactly_one_venues_streams(
    store: EventStore, venue: str, expected: list[str]
) -> None:
    for stream_id in VENUE_STREAMS:
        await store.append([StreamAppend(stream_id, NO_STREAM, [event("TableAdded")])])
    found = await store.read_all(venue=venue)
    assert [e.stream_id for e in found] == expected
    assert await store.read_all(venue=venue, limit=1) == found[:1]
    everything = await store.read_all(venue=None)
    assert [e.stream_id for e in everything] == VENUE_STREAMS


async def test_read_all_filters_by_a_window_of_recorded_at(store: EventStore) -> None:
    for n in range(3):
        await store.append([StreamAppend(f"booking-{n}", NO_STREAM, [event()])])
        await asyncio.sleep(0.002)  # three distinct instants
    first, second, third = await store.read_all()
    assert first.recorded_at < second.recorded_at < third.recorded_at
    window = await store.read_all(
        recorded_from=second.recorded_at, recorded_before=third.recorded_at
    )
    assert all(second.recorded_at <= e.recorded_at < third.recorded_at for e in window)
    assert second in window
    assert third not in window
    up_to_second = await store.read_all(recorded_before=second.recorded_at)
    assert second not in up_to_second


async def test_head_of_an_empty_store_is_the_origin(store: EventStore) -> None:
    assert await store.head() == ORIGIN
    assert await store.read_all() == []


async def test_a_repeated_idempotency_key_appends_nothing_and_returns_the_first_result(
    store: EventStore,
) -> None:
    key = IdempotencyKey(key="idem-1", fingerprint="sha-a", payload=b'{"booking_id":"b1"}')
    first = await store.append([StreamAppend("booking-b1", NO_STREAM, [event()])], idempotency=key)
    again = await store.append([StreamAppend("booking-b1", NO_STREAM, [event()])], idempotency=key)
    assert again.duplicate
    assert again.token == first.token
    assert again.versions == first.versions
    assert again.payload == first.payload == b'{"booking_id":"b1"}' or (
        # PostgreSQL normalises JSON whitespace; the value is what counts.
        again.payload.replace(b" ", b"") == b'{"booking_id":"b1"}'
    )
    assert len(await store.read_all()) == 1


async def test_an_idempotency_key_reused_for_another_request_is_refused(
    store: EventStore,
) -> None:
    await store.append(
        [StreamAppend("booking-b1", NO_STREAM, [event()])],
        idempotency=IdempotencyKey(key="idem-2", fingerprint="sha-a"),
    )
    with pytest.raises(IdempotencyKeyReused):
        await store.append(
            [StreamAppend("booking-b9", NO_STREAM, [event()])],
            idempotency=IdempotencyKey(key="idem-2", fingerprint="sha-b"),
        )
    assert await store.stream_version("booking-b9") == 0


async def test_a_failed_append_does_not_consume_its_idempotency_key(store: EventStore) -> None:
    await store.append([StreamAppend("s", NO_STREAM, [event()])])
    key = IdempotencyKey(key="idem-3", fingerprint="f")
    with pytest.raises(ConcurrencyError):
        await store.append([StreamAppend("s", NO_STREAM, [event()])], idempotency=key)
    result = await store.append([StreamAppend("s", 1, [event()])], idempotency=key)
    assert not result.duplicate
    assert result.versions == {"s": 2}


@pytest.mark.parametrize(
    ("streams", "why"),
    [
        ([], "no streams"),
        ([StreamAppend("s", NO_STREAM, [])], "no events"),
        ([StreamAppend("s", ANY, [event()]), StreamAppend("s", ANY, [event()])], "twice"),
        ([StreamAppend("s", -3, [event()])], "negative version"),
        ([StreamAppend("", ANY, [event()])], "empty stream id"),
    ],
)
async def test_malformed_appends_are_refused_before_writing(
    store: EventStore, streams: list[StreamAppend], why: str
) -> None:
    with pytest.raises(ValueError):
        await store.append(streams)
    assert await store.read_all() == [], why


async def test_wakeups_announce_an_append(store: EventStore) -> None:
    async with store.wakeups() as wakeups:
        assert not await wakeups.wait(0.05)
        assert [wakeups.announced] == [None]  # (a list: mypy would narrow it for good)
        first = await store.append([StreamAppend("s", ANY, [event()])])
        assert await wakeups.wait(5)
        second = await store.append([StreamAppend("s", ANY, [event()])])
        assert await wakeups.wait(5)
        for _ in range(50):  # both notices may arrive before the first wait returns
            if wakeups.announced == second.token:
                break
            await asyncio.sleep(0.01)
        assert first.token < second.token == wakeups.announced


async def test_subscribe_yields_every_event_in_order_and_stops(store: EventStore) -> None:
    stop = asyncio.Event()
    seen: list[str] = []

    async def follow() -> None:
        async for batch in subscribe(store, stop=stop, batch_size=2, poll_interval=0.2):
            seen.extend(e.stream_id for e in batch)
            if len(seen) >= 5:
                stop.set()

    follower = asyncio.create_task(follow())
    for n in range(5):
        await store.append([StreamAppend(f"booking-{n}", NO_STREAM, [event()])])
    await asyncio.wait_for(follower, 10)
    assert seen == [f"booking-{n}" for n in range(5)]


async def test_several_streams_read_in_one_call_match_reading_each(store: EventStore) -> None:
    await store.append([StreamAppend("a", NO_STREAM, [event(n=1), event(n=2)])])
    await store.append([StreamAppend("b", NO_STREAM, [event(n=3)])])
    await store.append([StreamAppend("a", 2, [event(n=4)])])
    found = await store.read_streams(["b", "a", "missing"])
    assert set(found) == {"a", "b", "missing"}
    assert found["a"] == await store.read_stream("a")
    assert [e.version for e in found["a"]] == [1, 2, 3]
    assert found["b"] == await store.read_stream("b")
    assert found["missing"] == []
    assert await store.read_streams([]) == {}


async def test_several_streams_read_each_from_its_own_version_in_one_call(
    store: EventStore,
) -> None:
    await store.append([StreamAppend("a", NO_STREAM, [event(n=1), event(n=2), event(n=3)])])
    await store.append([StreamAppend("b", NO_STREAM, [event(n=4)])])
    found = await store.read_streams(["a", "b", "c", "missing"], {"a": 2, "b": 5, "c": 1})
    assert found["a"] == (await store.read_stream("a"))[1:]
    assert [e.version for e in found["a"]] == [2, 3]
    assert found["b"] == []
    assert found["c"] == []
    assert found["missing"] == []
