"""A decision costs the same however much history the venue has: a stream folded by an
earlier command is read again only from where it was folded, and a fold that no longer
matches the store is thrown away, never decided from."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from booking_core.domain.booking import Confirmed
from booking_core.domain.commands import AddClosure, ChangeTable
from booking_core.domain.errors import ClosedOnDate, DomainError
from booking_core.domain.streams import local_name
from booking_core.handlers import book_table, change_table, change_venue
from booking_core.handlers._state_cache import Folded, StateCache
from booking_core.store import EventStore, InMemoryEventStore, RecordedEvent
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import ADMIN, CHRISTMAS_EVE, NOW, book, command_id
from tests.unit.handlers.bistro import open_the_bistro
from tests.unit.handlers.fakes import Counting, RacingAfterFirstRead


async def close(store: EventStore, day: date, reason: str = "private party") -> None:
    command = AddClosure(
        venue_id=TEST_VENUE, command_id=command_id(), actor=ADMIN, now=NOW, date=day, reason=reason
    )
    await change_venue(store, command)


async def test_a_booking_in_a_venue_with_a_long_history_reads_only_what_changed_since() -> None:
    store = Counting(await open_the_bistro())
    for n in range(300):  # closures long past: history that decides nothing today
        await close(store, date(2020, 1, 1) + timedelta(days=n))
    await book_table(store, book("b-ada"))
    store.events_read = 0

    await book_table(store, book("b-grace", party_size=4))

    # the venue's and each table's last folded event, and nothing of their history
    assert store.events_read <= 1 + 5


async def test_a_closure_added_by_another_process_is_seen_by_the_next_booking() -> None:
    shared = await open_the_bistro()
    ours, theirs = Counting(shared), Counting(shared)  # two processes, two caches
    await book_table(ours, book("b-ada"))

    await close(theirs, CHRISTMAS_EVE)

    with pytest.raises(ClosedOnDate):
        await book_table(ours, book("b-grace"))


async def test_a_store_restored_under_a_running_process_is_read_afresh() -> None:
    before = await open_the_bistro()
    await close(before, CHRISTMAS_EVE)
    process = Counting(before)
    with pytest.raises(ClosedOnDate):
        await book_table(process, book("b-ada"))

    # the same number of events at the same positions, but another closure among them
    restored = await open_the_bistro()
    await close(restored, CHRISTMAS_EVE + timedelta(days=1))
    process.inner = restored

    result = await book_table(process, book("b-ada"))
    assert result.booking.status == "confirmed"


def folded(version: int) -> Folded:
    record = RecordedEvent(
        position=version,
        tx=version,
        stream_id="s",
        version=version,
        type="T",
        schema_version=1,
        data=b"{}",
        metadata=b"{}",
        recorded_at=NOW,
    )
    return Folded.read(record, None, {})


def test_the_cache_keeps_the_streams_used_most_recently_and_no_more() -> None:
    cache = StateCache(capacity=2)
    cache.put("a", folded(1))
    cache.put("b", folded(1))
    cache.get("a")
    cache.put("c", folded(1))
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None


async def test_a_cache_is_never_shared_between_two_stores() -> None:
    first, second = await open_the_bistro(), InMemoryEventStore()
    await book_table(first, book("b-ada"))
    with pytest.raises(DomainError):  # the second store's venue has no hours yet
        await book_table(second, book("b-ada"))


async def test_auto_assign_reads_only_the_table_it_takes_not_every_table_of_the_venue() -> None:
    store = Counting(await open_the_bistro())

    result = await book_table(store, book("b-ada", party_size=4))

    assert result.booking.status == "confirmed"
    assert [s for s in store.reads if local_name(s).startswith("table-") and "@" not in s] == [
        STREAMS.table("t-corner")  # CORNER-4: the smallest that seats four, first by name
    ]


async def test_a_table_resized_by_another_process_is_ranked_by_its_new_seats() -> None:
    shared = await open_the_bistro()
    ours, theirs = Counting(shared), Counting(shared)
    await book_table(ours, book("b-ada", party_size=4, at=time(17)))  # warms our folds

    resize = ChangeTable(
        venue_id=TEST_VENUE,
        command_id=command_id(),
        actor=ADMIN,
        now=NOW,
        table_id="t-bar",
        capacity=4,
    )
    await change_table(theirs, resize)

    result = await book_table(ours, book("b-grace", party_size=3))
    assert isinstance(result.booking, Confirmed)
    assert result.booking.details.table_ids == ("t-bar",)  # now BAR-2 seats four


async def test_a_table_resized_after_the_venue_was_read_is_chosen_again_from_fresh_reads() -> None:
    async def rival(inner: InMemoryEventStore) -> None:
        resize = ChangeTable(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=ADMIN,
            now=NOW,
            table_id="t-bar",
            capacity=1,
        )
        await change_table(inner, resize)

    store = RacingAfterFirstRead(await open_the_bistro(), rival)

    result = await book_table(store, book("b-ada", party_size=2))

    assert isinstance(result.booking, Confirmed)
    assert result.booking.details.table_ids == ("t-corner",)  # BAR-2 seats one now
    assert result.attempts == 2
