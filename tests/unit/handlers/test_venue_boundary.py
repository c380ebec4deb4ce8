"""A command of one venue is decided against that venue's streams only: another venue
with tables of the same ids and the same hours changes nothing of it, and a decision that
asked for another venue's stream would be refused as the bug it is."""

from __future__ import annotations

import msgspec
import pytest

from booking_core.codec import EventMetadata, codec
from booking_core.domain.booking import Confirmed
from booking_core.domain.errors import TableAlreadyBooked
from booking_core.domain.folding import VENUE_KIND
from booking_core.domain.streams import local_name, streams_of, venue_of
from booking_core.handlers import book_table
from booking_core.handlers._session import Session
from booking_core.store import ANY, StreamAppend
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import book
from tests.unit.handlers.bistro import open_the_bistro

ELSEWHERE = "ven_elsewhere"


async def test_the_same_table_at_the_same_time_in_two_venues_is_two_bookings() -> None:
    store = await open_the_bistro()
    other = streams_of(ELSEWHERE).venue.removesuffix("venue")
    for record in await store.read_all(limit=10_000):  # the same bistro, as another venue
        assert venue_of(record.stream_id) == TEST_VENUE
        event = codec.encode(codec.decode(record), EventMetadata(user_id="setup"))
        await store.append([StreamAppend(other + local_name(record.stream_id), ANY, [event])])
    here = book("b-ada", table_ids=("t-window",))
    there = msgspec.structs.replace(
        here, venue_id=ELSEWHERE, booking_id="b-ada-elsewhere", command_id="c-elsewhere"
    )

    booked_here = await book_table(store, here)
    booked_there = await book_table(store, there)

    assert isinstance(booked_here.booking, Confirmed)
    assert isinstance(booked_there.booking, Confirmed)
    assert {venue_of(s) for s in booked_here.events} == {TEST_VENUE}
    assert {venue_of(s) for s in booked_there.events} == {ELSEWHERE}
    # A second booking of that table then, at the first venue, is refused as ever.
    again = msgspec.structs.replace(here, booking_id="b-grace", command_id="c-grace")
    with pytest.raises(TableAlreadyBooked):
        await book_table(store, again)


async def test_a_session_refuses_to_read_another_venues_stream() -> None:
    session = Session(await open_the_bistro(), streams=STREAMS)
    with pytest.raises(ValueError, match=ELSEWHERE):
        await session.load(streams_of(ELSEWHERE).venue, VENUE_KIND)
