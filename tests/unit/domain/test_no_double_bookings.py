"""For any sequence of commands from several guests and staff, whatever is accepted or
refused: no two confirmed or seated bookings overlap on a table, no booking sits in a
block, the service days hold exactly the live bookings, and replaying the stored events
rebuilds the same state.

Opening hours change along the way, so a booking made under one set of hours must keep
its table under the next.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking_core.codec import codec
from booking_core.domain import floor
from booking_core.domain.booking import Confirmed, NoBooking, Seated
from booking_core.domain.commands import (
    Actor,
    BlockTable,
    CancelBooking,
    ChangeBooking,
    CompleteBooking,
    MarkNoShow,
    SeatBooking,
)
from booking_core.domain.errors import DomainError
from booking_core.domain.events import OpeningHoursChanged
from booking_core.domain.folding import kind_of
from booking_core.domain.streams import local_name, parse_service_day_stream
from booking_core.domain.values import OpeningHours, Shift
from booking_core.store import RecordedEvent
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import (
    ADA,
    ADMIN,
    ALAN,
    FRIDAY,
    GRACE,
    HOURS,
    NOW,
    SATURDAY,
    SUNDAY,
    World,
    bistro,
    book,
    command_id,
)

LATE_NIGHTS = OpeningHours(
    friday=(Shift(opens=time(17), closes=time(23, 30)),),
    saturday=(Shift(opens=time(0), closes=time(3)), Shift(opens=time(17), closes=time(1))),
    sunday=(Shift(opens=time(12), closes=time(15)), Shift(opens=time(17), closes=time(22))),
)

# Few choices, so that bookings collide: the likely ones first, as Hypothesis starts there.
actors = st.sampled_from((ADA, GRACE, ADMIN, ALAN))
booking_ids = st.sampled_from(("b1", "b2", "b3", "b4", "b5", "b6"))
parties = st.sampled_from((2, 2, 2, 4, 3, 1, 6, 10))
# Who changes or cancels: mostly the guest who booked, sometimes staff, sometimes a stranger.
editors = st.sampled_from(("owner", ADMIN, GRACE))
tables = st.sampled_from(((), ("t-window",), ("t-window",), ("t-bar",), ("t-booth", "t-window")))
nows = st.sampled_from(
    (NOW, datetime(2026, 12, 4, 21, tzinfo=UTC), datetime(2026, 12, 5, 21, tzinfo=UTC))
)


def evening(
    days: tuple[date, ...], times: tuple[time, ...], *, staff: bool = True
) -> st.SearchStrategy[Any]:
    """Operations on those days at those times; most of an evening is people booking,
    changing and cancelling. Without `staff`, nobody seats, blocks or marks no-shows."""
    on_days, at_times = st.sampled_from(days), st.sampled_from(times)
    bookings = st.tuples(st.just("book"), booking_ids, actors, on_days, at_times, parties, tables)
    changes = st.tuples(
        st.just("change"),
        booking_ids,
        editors,
        st.none() | on_days,
        st.none() | at_times,
        st.none() | parties,
        st.none() | tables,
    )
    cancels = st.tuples(st.just("cancel"), booking_ids, editors)
    others: list[st.SearchStrategy[tuple[Any, ...]]] = [
        st.tuples(st.just("hours"), st.sampled_from((HOURS, LATE_NIGHTS))),
        st.tuples(st.just("hours"), st.sampled_from((LATE_NIGHTS, HOURS))),
    ]
    if staff:
        others += [
            st.tuples(st.just("seat"), booking_ids, nows),
            st.tuples(st.just("complete"), booking_ids, nows),
            st.tuples(st.just("no_show"), booking_ids, nows),
            st.tuples(st.just("block"), st.sampled_from(("t-window", "t-bar")), on_days, at_times),
        ]
    operations = [bookings] * 5 + [changes] * 2 + [cancels] * 2 + others
    return st.sampled_from(operations).flatmap(lambda operation: operation)


A_BUSY_WEEKEND = evening(
    (SATURDAY, FRIDAY, SUNDAY),
    (time(19), time(19, 30), time(20), time(23, 15), time(0, 15), time(17), time(13), time(22)),
)
THE_SMALL_HOURS = evening(
    (FRIDAY, SATURDAY), (time(23, 15), time(0, 15), time(0, 0), time(23, 30)), staff=False
)


def run(world: World, operation: tuple[Any, ...]) -> None:
    kind, *args = operation
    if kind == "book":
        booking_id, actor, day, at, party, table_ids = args
        world.book(
            book(booking_id, actor=actor, day=day, at=at, party_size=party, table_ids=table_ids)
        )
    elif kind == "change":
        booking_id, editor, day, at, party, table_ids = args
        actor = owner_or(world, booking_id, editor)
        fields = {"date": day, "time": at, "party_size": party, "table_ids": table_ids}
        world.change(
            ChangeBooking(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=actor,
                now=NOW,
                booking_id=booking_id,
                **{name: value for name, value in fields.items() if value is not None},
            )
        )
    elif kind == "cancel":
        booking_id, editor = args
        actor = owner_or(world, booking_id, editor)
        world.step(
            CancelBooking(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=actor,
                now=NOW,
                booking_id=booking_id,
            )
        )
    elif kind in ("seat", "complete", "no_show"):
        booking_id, now = args
        steps: dict[str, type[SeatBooking | CompleteBooking | MarkNoShow]] = {
            "seat": SeatBooking,
            "complete": CompleteBooking,
            "no_show": MarkNoShow,
        }
        world.step(
            steps[kind](command_id=command_id(), actor=ADMIN, now=now, booking_id=booking_id)
        )
    elif kind == "hours":
        world.given(STREAMS.venue, OpeningHoursChanged(hours=args[0]))
    elif kind == "block":
        table_id, day, at = args
        start = datetime.combine(day, at)
        command = BlockTable(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=ADMIN,
            now=NOW,
            table_id=table_id,
            block_id=f"k-{day}-{at}",
            start=start,
            end=start + timedelta(minutes=45),
        )
        state = world.tables[table_id]
        world.apply(
            floor.decide_block(command, venue=world.venue, table_state=state, days=world.days)
        )


def owner_or(world: World, booking_id: str, editor: Actor | str) -> Actor:
    if isinstance(editor, Actor):
        return editor
    state = world.booking(booking_id)
    return ADA if isinstance(state, NoBooking) else Actor(user_id=state.details.user_id)


def live_bookings(world: World) -> dict[str, Confirmed | Seated]:
    found = {}
    for stream_id in world.streams:
        if local_name(stream_id).startswith("booking-"):
            state = world.state(stream_id)
            if isinstance(state, Confirmed | Seated):
                found[state.details.booking_id] = state
    return found


def check_invariants(world: World) -> None:
    live = live_bookings(world)
    by_table: dict[str, list[Confirmed | Seated]] = {}
    for booking in live.values():
        for table_id in booking.details.table_ids:
            by_table.setdefault(table_id, []).append(booking)
    for table_id, sharing in by_table.items():
        for one, other in combinations(sharing, 2):
            a, b = one.details.slot, other.details.slot
            assert not (a.starts_at < b.ends_at and b.starts_at < a.ends_at), (table_id, a, b)

    reserved: set[tuple[str, str]] = set()
    for stream_id, day in world.days.items():
        parsed = parse_service_day_stream(stream_id)
        assert parsed is not None
        table_id, service_date = parsed
        for held in day.reservations.values():
            booking = live[held.booking_id]
            assert table_id in booking.details.table_ids
            assert booking.details.slot.service_date == service_date
            assert (held.starts_at, held.ends_at) == (
                booking.details.slot.starts_at,
                booking.details.slot.ends_at,
            )
            reserved.add((held.booking_id, table_id))
            for block in day.blocks.values():
                assert not (block.starts_at < held.ends_at and held.starts_at < block.ends_at)
    assert reserved == {(b, t) for b, booking in live.items() for t in booking.details.table_ids}


def check_replay(world: World) -> None:
    for stream_id, events in world.streams.items():
        records = [
            RecordedEvent(
                position=version,
                tx=version,
                stream_id=stream_id,
                version=version,
                type=new.type,
                schema_version=new.schema_version,
                data=new.data,
                metadata=new.metadata,
                recorded_at=NOW,
            )
            for version, new in enumerate((codec.encode(event) for event in events), start=1)
        ]
        replayed = kind_of(stream_id).fold(codec.decode(record) for record in records)
        assert replayed == world.state(stream_id)


@pytest.mark.parametrize(
    "operations",
    [
        pytest.param(A_BUSY_WEEKEND, id="through a busy weekend"),
        pytest.param(THE_SMALL_HOURS, id="through the small hours as opening hours change"),
    ],
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_two_live_bookings_ever_overlap_on_a_table(
    operations: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    ops = data.draw(st.lists(operations, min_size=8, max_size=30))
    world = bistro()
    for operation in ops:
        with contextlib.suppress(DomainError):
            run(world, operation)
        check_invariants(world)
    check_replay(world)


def test_the_generator_reaches_a_busy_evening() -> None:
    world = bistro()
    for guest in ("b1", "b2", "b3"):
        run(world, ("book", guest, ADA, SATURDAY, time(19), 2, ()))
    run(world, ("hours", LATE_NIGHTS))
    run(world, ("book", "b4", GRACE, SATURDAY, time(0, 30), 2, ("t-bar",)))

    assert set(live_bookings(world)) == {"b1", "b2", "b3", "b4"}
    check_invariants(world)
    check_replay(world)
