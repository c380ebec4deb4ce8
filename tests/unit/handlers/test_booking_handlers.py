"""Booking handlers against the in-memory store: one atomic append per command, a fresh
decision after every lost race, and a result that matches what was stored."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from booking_core.codec import codec
from booking_core.domain.booking import Confirmed
from booking_core.domain.commands import (
    AddClosure,
    CancelBooking,
    ChangeBooking,
    ChangeTable,
    CompleteBooking,
    MarkNoShow,
    RetireTable,
    SeatBooking,
)
from booking_core.domain.errors import (
    ClosedOnDate,
    PartyTooLarge,
    StaleVersion,
    TableAlreadyBooked,
    TableIsRetired,
    TooMuchContention,
)
from booking_core.domain.folding import BOOKING
from booking_core.handlers import (
    RetryPolicy,
    book_table,
    cancel_booking,
    change_booking,
    change_table,
    change_venue,
    complete_booking,
    mark_no_show,
    retire_table,
    seat_booking,
)
from booking_core.store import IdempotencyKey, InMemoryEventStore
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import ADA, ADMIN, CHRISTMAS_EVE, GRACE, NOW, book, command_id
from tests.unit.handlers.bistro import open_the_bistro
from tests.unit.handlers.fakes import AlwaysLosing, Counting, Racing, RacingAfterFirstRead

START = datetime(2026, 12, 24, 19, tzinfo=UTC)
BOXING_DAY = date(2026, 12, 26)


def change(**fields: Any) -> ChangeBooking:
    fields.setdefault("actor", ADA)
    return ChangeBooking(
        venue_id=TEST_VENUE, command_id=command_id(), now=NOW, booking_id="b-ada", **fields
    )


async def test_a_booking_is_one_append_with_metadata_and_a_token() -> None:
    store = await open_the_bistro()

    result = await book_table(store, book("b-ada", table_ids=("t-window",)))

    assert set(result.events) == {
        STREAMS.service_day("t-window", CHRISTMAS_EVE),
        STREAMS.booking("b-ada"),
    }
    assert result.token == await store.head()
    assert (result.version, result.attempts, result.duplicate) == (1, 1, False)
    assert isinstance(result.booking, Confirmed)
    assert result.token is not None
    written = [record for record in await store.read_all() if record.tx == result.token.tx]
    assert {record.stream_id for record in written} == set(result.events)
    assert {codec.metadata(record).user_id for record in written} == {ADA.user_id}
    assert len({codec.metadata(record).command_id for record in written}) == 1


async def test_the_result_is_what_folding_the_stored_events_gives() -> None:
    store = await open_the_bistro()
    await book_table(store, book("b-ada", table_ids=("t-window",)))

    result = await change_booking(store, change(time=time(20), special_requests="window seat"))

    stored = [codec.decode(record) for record in await store.read_stream(STREAMS.booking("b-ada"))]
    assert BOOKING.fold(stored) == result.booking
    assert result.version == len(stored) == 2


async def test_a_venue_change_while_deciding_makes_the_booking_decided_again() -> None:
    inner = await open_the_bistro()

    async def close_christmas_eve(store: InMemoryEventStore) -> None:
        closure = AddClosure(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=ADMIN,
            now=NOW,
            date=CHRISTMAS_EVE,
            reason="flood",
        )
        await change_venue(store, closure)

    store = Racing(inner, close_christmas_eve)

    with pytest.raises(ClosedOnDate):
        await book_table(store, book("b-ada", table_ids=("t-window",)))
    assert store.appends == 1


async def test_a_table_change_while_deciding_makes_the_booking_decided_again() -> None:
    inner = await open_the_bistro()

    async def shrink_the_window(store: InMemoryEventStore) -> None:
        shrink = ChangeTable(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=ADMIN,
            now=NOW,
            table_id="t-window",
            capacity=2,
        )
        await change_table(store, shrink)

    with pytest.raises(PartyTooLarge):
        await book_table(
            Racing(inner, shrink_the_window), book("b-ada", party_size=3, table_ids=("t-window",))
        )


async def test_a_table_retired_while_deciding_is_not_booked() -> None:
    inner = await open_the_bistro()

    async def retire_the_window(store: InMemoryEventStore) -> None:
        retire = RetireTable(
            venue_id=TEST_VENUE, command_id=command_id(), actor=ADMIN, now=NOW, table_id="t-window"
        )
        await retire_table(store, retire)

    with pytest.raises(TableIsRetired):
        await book_table(Racing(inner, retire_the_window), book(table_ids=("t-window",)))


async def test_auto_assign_moves_on_when_its_table_is_taken_meanwhile() -> None:
    inner = await open_the_bistro()

    async def grace_takes_the_bar(store: InMemoryEventStore) -> None:
        await book_table(store, book("b-grace", actor=GRACE, table_ids=("t-bar",)))

    result = await book_table(Racing(inner, grace_takes_the_bar), book("b-ada", party_size=2))

    assert isinstance(result.booking, Confirmed)
    assert result.booking.details.table_ids == ("t-corner",)
    assert result.attempts == 2


async def test_a_command_that_keeps_losing_races_gives_up_after_bounded_jittered_retries() -> None:
    store = AlwaysLosing(await open_the_bistro())
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    retry = RetryPolicy(
        attempts=8, base_delay=0.002, max_delay=0.1, random=lambda: 0.5, sleep=sleep
    )

    with pytest.raises(TooMuchContention) as raised:
        await book_table(store, book(table_ids=("t-window",)), retry=retry)

    assert raised.value.kind == "conflict"
    # a first attempt on the cached states, then eight on fresh reads; every lost race
    # (this store loses them all, on streams that were read) pauses, twice as long each time
    assert store.appends == 1 + 8
    assert pauses == [0.5 * min(0.1, 0.002 * 2**n) for n in range(8)]


async def test_a_move_is_one_append_releasing_and_reserving() -> None:
    store = await open_the_bistro()
    await book_table(store, book("b-ada", table_ids=("t-window",)))

    result = await change_booking(store, change(date=BOXING_DAY))

    assert result.token is not None
    written = [record for record in await store.read_all() if record.tx == result.token.tx]
    assert {record.stream_id for record in written} == {
        STREAMS.service_day("t-window", CHRISTMAS_EVE),
        STREAMS.service_day("t-window", BOXING_DAY),
        STREAMS.booking("b-ada"),
    }


async def test_a_move_that_fails_leaves_every_stream_as_it_was() -> None:
    store = await open_the_bistro()
    placed = await book_table(store, book("b-ada", table_ids=("t-window",)))
    await book_table(store, book("b-grace", actor=GRACE, at=time(21), table_ids=("t-corner",)))
    head = await store.head()

    with pytest.raises(TableAlreadyBooked):
        await change_booking(store, change(time=time(21), table_ids=("t-corner",)))

    assert await store.head() == head
    stored = [codec.decode(record) for record in await store.read_stream(STREAMS.booking("b-ada"))]
    assert BOOKING.fold(stored) == placed.booking


async def test_a_change_against_a_stale_version_is_refused() -> None:
    store = await open_the_bistro()
    await book_table(store, book("b-ada", table_ids=("t-window",)))
    await change_booking(store, change(guest_phone="+44 20 7946 0000"))

    with pytest.raises(StaleVersion) as raised:
        await change_booking(store, change(time=time(20), expected_version=1))

    assert (raised.value.expected, raised.value.actual, raised.value.kind) == (1, 2, "conflict")
    result = await change_booking(store, change(time=time(20), expected_version=2))
    assert result.version == 3


async def test_a_command_applied_before_is_answered_as_a_duplicate() -> None:
    store = await open_the_bistro()
    command = book("b-ada", table_ids=("t-window",))
    first = await book_table(store, command)

    again = await book_table(store, command)

    assert again.duplicate
    assert (again.token, again.booking, again.version) == (first.token, first.booking, 1)
    assert await store.head() == first.token


async def test_an_idempotency_key_is_recorded_with_the_append() -> None:
    store = await open_the_bistro()
    key = IdempotencyKey(key="k-ada-1", fingerprint="POST /bookings {...}")
    first = await book_table(store, book("b-ada", table_ids=("t-window",)), idempotency=key)

    again = await book_table(store, book("b-ada-2", table_ids=("t-corner",)), idempotency=key)

    assert again.duplicate
    assert again.token == first.token


async def test_a_retry_that_read_before_its_first_request_wrote_still_answers_the_booking() -> None:
    store = await open_the_bistro()
    key = IdempotencyKey(key="k-ada-1", fingerprint="POST /bookings {...}")
    command = book("b-ada", table_ids=("t-window",))
    first: list[Any] = []

    async def the_first_request(inner: InMemoryEventStore) -> None:
        first.append(await book_table(inner, command, idempotency=key))

    retry = await book_table(Racing(store, the_first_request), command, idempotency=key)

    assert retry.duplicate
    assert (retry.token, retry.booking, retry.version) == (
        first[0].token,
        first[0].booking,
        first[0].version,
    )


async def test_a_retry_that_read_the_booking_before_its_first_request_wrote_answers_it() -> None:
    store = await open_the_bistro()
    key = IdempotencyKey(key="k-ada-1", fingerprint="POST /bookings {...}")
    command = book("b-ada", table_ids=("t-window",))
    first: list[Any] = []

    async def the_first_request(inner: InMemoryEventStore) -> None:
        first.append(await book_table(inner, command, idempotency=key))

    retry = await book_table(
        RacingAfterFirstRead(store, the_first_request), command, idempotency=key
    )

    assert retry.duplicate
    assert (retry.token, retry.booking, retry.version) == (
        first[0].token,
        first[0].booking,
        first[0].version,
    )


async def test_cancelling_twice_writes_nothing_the_second_time() -> None:
    store = await open_the_bistro()
    await book_table(store, book("b-ada", table_ids=("t-window",)))
    first = await cancel_booking(
        store,
        CancelBooking(
            venue_id=TEST_VENUE, command_id=command_id(), actor=ADA, now=NOW, booking_id="b-ada"
        ),
    )

    second = await cancel_booking(
        store,
        CancelBooking(
            venue_id=TEST_VENUE, command_id=command_id(), actor=ADA, now=NOW, booking_id="b-ada"
        ),
    )

    assert first.token is not None
    assert (second.token, second.events, second.booking.status) == (None, {}, "cancelled")
    assert second.version == first.version


async def test_the_evening_runs_through_the_handlers() -> None:
    store = await open_the_bistro()
    await book_table(store, book("b-ada", table_ids=("t-window",)))
    await book_table(store, book("b-grace", actor=GRACE, at=time(21), table_ids=("t-corner",)))

    await seat_booking(
        store,
        SeatBooking(
            venue_id=TEST_VENUE, command_id=command_id(), actor=ADMIN, now=START, booking_id="b-ada"
        ),
    )
    done = await complete_booking(
        store,
        CompleteBooking(
            venue_id=TEST_VENUE, command_id=command_id(), actor=ADMIN, now=START, booking_id="b-ada"
        ),
    )
    late = datetime(2026, 12, 24, 21, 30, tzinfo=UTC)
    gone = await mark_no_show(
        store,
        MarkNoShow(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=ADMIN,
            now=late,
            booking_id="b-grace",
        ),
    )

    assert (done.booking.status, gone.booking.status) == ("completed", "no_show")
    again = await book_table(store, book("b-alan", at=time(21), table_ids=("t-corner",)))
    assert again.booking.status == "confirmed"


async def test_auto_assign_reads_the_service_days_of_only_the_table_it_tries() -> None:
    store = Counting(await open_the_bistro())

    await book_table(store, book("b-ada", party_size=2))

    assert sorted(s for s in store.reads if "@" in s) == sorted(
        STREAMS.service_day("t-bar", day)
        for day in (date(2026, 12, 23), CHRISTMAS_EVE, date(2026, 12, 25))
    )
