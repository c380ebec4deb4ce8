"""Many guests at once: whatever the interleaving of their reads and appends, no two live
bookings overlap on a table, the service days hold exactly the live bookings, and every
handler's result is what folding the stored events up to its version gives."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core.codec import codec
from booking_core.domain.booking import NoBooking
from booking_core.domain.commands import Actor, CancelBooking, ChangeBooking
from booking_core.domain.errors import DomainError
from booking_core.domain.folding import BOOKING
from booking_core.handlers import (
    BookingResult,
    RetryPolicy,
    book_table,
    cancel_booking,
    change_booking,
)
from booking_core.store import InMemoryEventStore
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.test_no_double_bookings import check_invariants, check_replay
from tests.unit.domain.world import (
    ADA,
    ADMIN,
    ALAN,
    FRIDAY,
    GRACE,
    NOW,
    SATURDAY,
    World,
    book,
    command_id,
)
from tests.unit.handlers.bistro import open_the_bistro
from tests.unit.handlers.fakes import Interleaving

GUESTS = {"b1": ADA, "b2": GRACE, "b3": ALAN, "b4": ADA, "b5": GRACE, "b6": ALAN}

booking_ids = st.sampled_from(tuple(GUESTS))
days = st.sampled_from((SATURDAY, FRIDAY))
times = st.sampled_from((time(19), time(19, 30), time(20), time(20, 30), time(23, 15)))
parties = st.sampled_from((2, 4, 2, 3, 6))
tables = st.sampled_from(((), ("t-window",), ("t-bar",), ("t-corner",)))

bookings = st.tuples(st.just("book"), booking_ids, days, times, parties, tables)
changes = st.tuples(st.just("change"), booking_ids, st.none() | days, times, st.none() | tables)
cancels = st.tuples(st.just("cancel"), booking_ids)
operations = st.sampled_from([bookings] * 4 + [changes] * 2 + [cancels]).flatmap(
    lambda operation: operation
)


async def _pass(seconds: float) -> None:
    return None


RETRY = RetryPolicy(attempts=50, sleep=_pass)


async def run(store: Interleaving, operation: tuple[Any, ...]) -> BookingResult | None:
    kind, booking_id, *args = operation
    guest: Actor = GUESTS[booking_id]
    with contextlib.suppress(DomainError):
        if kind == "book":
            day, at, party, table_ids = args
            command = book(booking_id, actor=guest, day=day, at=at, party_size=party)
            if table_ids:
                command = book(
                    booking_id, actor=guest, day=day, at=at, party_size=party, table_ids=table_ids
                )
            return await book_table(store, command, retry=RETRY)
        if kind == "change":
            day, at, table_ids = args
            fields = {"date": day, "time": at, "table_ids": table_ids}
            change = ChangeBooking(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=guest,
                now=NOW,
                booking_id=booking_id,
                **{name: value for name, value in fields.items() if value is not None},
            )
            return await change_booking(store, change, retry=RETRY)
        cancel = CancelBooking(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=ADMIN,
            now=NOW,
            booking_id=booking_id,
        )
        return await cancel_booking(store, cancel, retry=RETRY)
    return None


async def stored_world(store: InMemoryEventStore) -> World:
    world = World()
    for record in await store.read_all(limit=100_000):
        world.given(record.stream_id, codec.decode(record))
    return world


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    ops=st.lists(operations, min_size=4, max_size=16),
)
async def test_concurrent_guests_never_share_a_table(seed: int, ops: list[tuple[Any, ...]]) -> None:
    inner = await open_the_bistro()
    store = Interleaving(inner, seed)

    results = await asyncio.gather(*(run(store, operation) for operation in ops))

    world = await stored_world(inner)
    check_invariants(world)
    check_replay(world)
    for result in results:
        if result is None:
            continue
        stream = world.streams.get(STREAMS.booking(_booking_id(result)), [])
        assert BOOKING.fold(stream[: result.version]) == result.booking


def _booking_id(result: BookingResult) -> str:
    booking = result.booking
    assert not isinstance(booking, NoBooking), "a result always has a booking"
    return booking.details.booking_id
