"""Tables joining, changing and leaving the floor, and blocks on them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from booking_core.domain import floor, table
from booking_core.domain.commands import (
    AddTable,
    BlockTable,
    ChangeTable,
    LiftBlock,
    RetireTable,
    SeatBooking,
)
from booking_core.domain.errors import (
    BlockAlreadyExists,
    BlockNotFound,
    BlockOverlapsBookings,
    DuplicateTableName,
    Forbidden,
    InvalidPeriod,
    InvalidTable,
    TableAlreadyExists,
    TableHasBookings,
    TableIsBlocked,
    TableIsRetired,
    TableNotFound,
)
from booking_core.domain.events import (
    BookingCancelled,
    TableAdded,
    TableChanged,
    TableDeregistered,
    TableRegistered,
    TableReleased,
)
from booking_core.domain.streams import local_name
from booking_core.domain.table import ActiveTable, RetiredTable
from booking_core.domain.venue import Seats
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import (
    ADA,
    ADMIN,
    CHRISTMAS_EVE,
    GRACE,
    NOW,
    World,
    bistro,
    book,
)

BOXING_DAY = date(2026, 12, 26)


def add(table_id: str = "t-snug", name: str = "SNUG-2", capacity: int = 2) -> AddTable:
    return AddTable(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        table_id=table_id,
        name=name,
        capacity=capacity,
    )


def retire(table_id: str = "t-window", *, cancel_bookings: bool = False) -> RetireTable:
    return RetireTable(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        table_id=table_id,
        cancel_bookings=cancel_bookings,
    )


def decide_retire(world: World, command: RetireTable) -> None:
    world.apply(
        floor.decide_retire(
            command,
            venue=world.venue,
            table_state=world.tables.get(command.table_id, table.initial_state),
            days=world.days,
            bookings={
                local_name(stream_id)[len("booking-") :]: world.state(stream_id)
                for stream_id in world.streams
                if local_name(stream_id).startswith("booking-")
            },
        )
    )


def block(
    start: datetime, end: datetime, *, block_id: str = "k-1", table_id: str = "t-window"
) -> BlockTable:
    return BlockTable(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        table_id=table_id,
        block_id=block_id,
        start=start,
        end=end,
        reason="a leaking radiator",
    )


def decide_block(world: World, command: BlockTable) -> None:
    state = world.tables.get(command.table_id, table.initial_state)
    world.apply(floor.decide_block(command, venue=world.venue, table_state=state, days=world.days))


def test_a_new_table_joins_the_venues_list_with_its_seats() -> None:
    world = bistro()

    decision = floor.decide_add(add(), venue=world.venue, table_state=table.initial_state)

    assert decision.events == {
        STREAMS.table("t-snug"): (
            TableAdded(table_id="t-snug", name="SNUG-2", capacity=2, added_at=NOW),
        ),
        STREAMS.venue: (
            TableRegistered(table_id="t-snug", name="SNUG-2", capacity=2, min_capacity=1),
        ),
    }


@pytest.mark.parametrize(
    ("command", "error"),
    [
        pytest.param(
            add(name="window-4 "), DuplicateTableName, id="two tables cannot share a name"
        ),
        pytest.param(add(table_id="t-window"), TableAlreadyExists, id="a table is added once"),
        pytest.param(add(capacity=0), InvalidTable, id="a table seats somebody"),
        pytest.param(add(name=""), InvalidTable, id="a table has a name"),
        pytest.param(
            AddTable(
                venue_id=TEST_VENUE,
                command_id="c",
                actor=ADA,
                now=NOW,
                table_id="t-snug",
                name="SNUG-2",
                capacity=2,
            ),
            Forbidden,
            id="a guest cannot add tables",
        ),
        pytest.param(
            AddTable(
                venue_id=TEST_VENUE,
                command_id="c",
                actor=ADMIN,
                now=NOW,
                table_id="t-snug",
                name="SNUG-2",
                capacity=2,
                min_capacity=3,
            ),
            InvalidTable,
            id="a minimum party cannot exceed the capacity",
        ),
    ],
)
def test_a_table_that_breaks_a_rule_is_not_added(command: AddTable, error: type[Exception]) -> None:
    world = bistro()

    with pytest.raises(error):
        floor.decide_add(
            command,
            venue=world.venue,
            table_state=world.tables.get(command.table_id, table.initial_state),
        )


def test_renaming_a_table_updates_the_venues_list() -> None:
    world = bistro()
    rename = ChangeTable(
        venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, table_id="t-window", name="BAY-4"
    )

    world.apply(
        floor.decide_change(rename, venue=world.venue, table_state=world.tables["t-window"])
    )

    assert world.venue.tables["t-window"] == "BAY-4"


def test_resizing_a_table_updates_its_seats_in_the_venues_list() -> None:
    world = bistro()
    resize = ChangeTable(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        table_id="t-window",
        capacity=6,
        min_capacity=3,
    )

    world.apply(
        floor.decide_change(resize, venue=world.venue, table_state=world.tables["t-window"])
    )

    assert world.venue.seats["t-window"] == Seats(capacity=6, min_capacity=3)
    assert world.venue.tables["t-window"] == "WINDOW-4"


def test_a_retired_table_leaves_the_venues_seats() -> None:
    world = bistro()
    world.given(
        STREAMS.venue,
        TableRegistered(table_id="t-window", name="WINDOW-4", capacity=4, min_capacity=2),
    )
    world.given(STREAMS.venue, TableDeregistered(table_id="t-window"))

    assert "t-window" not in world.venue.seats


def test_moving_a_table_on_the_plan_changes_only_the_table() -> None:
    world = bistro()
    move = ChangeTable(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        table_id="t-window",
        x=3.5,
        area=None,
    )

    decision = floor.decide_change(move, venue=world.venue, table_state=world.tables["t-window"])

    (changed,) = decision.events[STREAMS.table("t-window")]
    assert isinstance(changed, TableChanged)
    assert (changed.x, changed.capacity, changed.name) == (3.5, 4, "WINDOW-4")
    assert STREAMS.venue not in decision.events


def test_a_change_that_changes_nothing_decides_nothing() -> None:
    state = bistro().tables["t-window"]
    same = ChangeTable(
        venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, table_id="t-window", capacity=4
    )

    assert table.decide(same, state) == []


def test_a_table_without_bookings_is_retired_and_leaves_the_list() -> None:
    world = bistro()

    decide_retire(world, retire())

    assert isinstance(world.tables["t-window"], RetiredTable)
    assert "t-window" not in world.venue.tables
    assert world.streams[STREAMS.venue][-1] == TableDeregistered(table_id="t-window")


def test_a_retired_table_cannot_change() -> None:
    world = bistro()
    decide_retire(world, retire())
    rename = ChangeTable(
        venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=NOW, table_id="t-window", name="X"
    )

    with pytest.raises(TableIsRetired):
        floor.decide_change(rename, venue=world.venue, table_state=world.tables["t-window"])


def test_a_table_with_bookings_to_come_is_not_retired() -> None:
    world = bistro()
    world.book(book("b-ada", table_ids=("t-window",)))

    with pytest.raises(TableHasBookings) as raised:
        decide_retire(world, retire())

    assert raised.value.booking_ids == ("b-ada",)


def test_retiring_with_cancel_bookings_cancels_and_releases_them_at_once() -> None:
    world = bistro()
    world.book(book("b-ada", table_ids=("t-window",)))
    world.book(
        book(
            "b-grace",
            actor=GRACE,
            party_size=10,
            day=BOXING_DAY,
            at=time(21),
            table_ids=("t-booth", "t-window"),
        )
    )

    decide_retire(world, retire(cancel_bookings=True))

    assert world.booking("b-ada").status == "cancelled"
    assert world.booking("b-grace").status == "cancelled"
    cancelled = world.streams[STREAMS.booking("b-ada")][-1]
    assert isinstance(cancelled, BookingCancelled)
    assert cancelled.reason == "table retired"
    for day in (
        STREAMS.service_day("t-window", CHRISTMAS_EVE),
        STREAMS.service_day("t-window", BOXING_DAY),
        STREAMS.service_day("t-booth", BOXING_DAY),
    ):
        assert world.days[day].reservations == {}
        released = world.streams[day][-1]
        assert isinstance(released, TableReleased)
        assert released.reason == "table_retired"


def test_a_seated_party_is_never_cancelled_by_a_retirement() -> None:
    world = bistro()
    world.book(book("b-ada", table_ids=("t-window",)))
    start = datetime(2026, 12, 24, 19, tzinfo=UTC)
    world.step(
        SeatBooking(venue_id=TEST_VENUE, command_id="c", actor=ADMIN, now=start, booking_id="b-ada")
    )

    with pytest.raises(TableHasBookings):
        decide_retire(world, retire(cancel_bookings=True))


def test_a_block_is_written_to_every_service_day_it_touches() -> None:
    world = bistro()
    start = datetime(2026, 12, 24, 22, tzinfo=UTC)

    decide_block(world, block(start, start + timedelta(hours=28)))

    state = world.tables["t-window"]
    assert isinstance(state, ActiveTable)
    assert state.blocks["k-1"].service_dates == (CHRISTMAS_EVE, date(2026, 12, 25), BOXING_DAY)
    for day in state.blocks["k-1"].service_dates:
        assert set(world.days[STREAMS.service_day("t-window", day)].blocks) == {"k-1"}


def test_a_block_in_wall_clock_time_is_read_in_the_venues_zone() -> None:
    world = bistro()

    decide_block(world, block(datetime(2026, 12, 24, 12), datetime(2026, 12, 24, 18)))

    state = world.tables["t-window"]
    assert isinstance(state, ActiveTable)
    assert state.blocks["k-1"].starts_at == datetime(2026, 12, 24, 12, tzinfo=UTC)


def test_a_booked_table_is_not_blocked_over_its_booking() -> None:
    world = bistro()
    world.book(book("b-ada", table_ids=("t-window",)))
    start = datetime(2026, 12, 24, 20, tzinfo=UTC)

    with pytest.raises(BlockOverlapsBookings):
        decide_block(world, block(start, start + timedelta(hours=1)))


def test_a_late_booking_from_the_night_before_is_seen_by_a_block() -> None:
    world = bistro()
    world.book(book("b-ada", day=date(2026, 12, 4), at=time(23), table_ids=("t-window",)))

    with pytest.raises(BlockOverlapsBookings):
        decide_block(
            world,
            block(datetime(2026, 12, 5, 0, 0, tzinfo=UTC), datetime(2026, 12, 5, 2, 0, tzinfo=UTC)),
        )


@pytest.mark.parametrize(
    ("command", "error"),
    [
        pytest.param(
            block(datetime(2026, 12, 24, 20, tzinfo=UTC), datetime(2026, 12, 24, 20, tzinfo=UTC)),
            InvalidPeriod,
            id="a block ends after it starts",
        ),
        pytest.param(
            block(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC)),
            InvalidPeriod,
            id="a block lasts at most a year",
        ),
        pytest.param(
            block(
                datetime(2026, 12, 24, 20, tzinfo=UTC),
                datetime(2026, 12, 24, 21, tzinfo=UTC),
                table_id="t-ghost",
            ),
            TableNotFound,
            id="a table that does not exist cannot be blocked",
        ),
    ],
)
def test_a_block_that_breaks_a_rule_is_refused(command: BlockTable, error: type[Exception]) -> None:
    with pytest.raises(error):
        decide_block(bistro(), command)


def test_a_block_id_is_used_once_per_table() -> None:
    world = bistro()
    start = datetime(2026, 12, 24, 12, tzinfo=UTC)
    decide_block(world, block(start, start + timedelta(hours=2)))

    with pytest.raises(BlockAlreadyExists):
        decide_block(world, block(start + timedelta(hours=3), start + timedelta(hours=4)))


def test_a_blocked_table_is_bookable_again_once_the_block_is_lifted() -> None:
    world = bistro()
    start = datetime(2026, 12, 24, 18, tzinfo=UTC)
    decide_block(world, block(start, start + timedelta(hours=2)))
    with pytest.raises(TableIsBlocked):
        world.book(book(table_ids=("t-window",)))
    lift = LiftBlock(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        table_id="t-window",
        block_id="k-1",
    )

    world.apply(floor.decide_lift(lift, table_state=world.tables["t-window"], days=world.days))

    world.book(book(table_ids=("t-window",)))
    assert world.booking("b-ada").status == "confirmed"


def test_lifting_a_block_that_is_not_there_is_not_found() -> None:
    lift = LiftBlock(
        venue_id=TEST_VENUE,
        command_id="c",
        actor=ADMIN,
        now=NOW,
        table_id="t-window",
        block_id="k-0",
    )

    with pytest.raises(BlockNotFound):
        floor.decide_lift(lift, table_state=bistro().tables["t-window"], days={})


def test_the_venue_keeps_its_seated_tables_smallest_first_then_by_name() -> None:
    world = bistro()
    for table_id, name, capacity in (("t-b", "bay", 4), ("t-a", "Arch", 4), ("t-s", "snug", 2)):
        registered = TableRegistered(
            table_id=table_id, name=name, capacity=capacity, min_capacity=1
        )
        world.given(STREAMS.venue, registered)
    assert [entry.table_id for entry in world.venue.ranked] == ["t-s", "t-a", "t-b"]

    world.given(
        STREAMS.venue,
        TableRegistered(table_id="t-a", name="Zinc", capacity=4, min_capacity=1),
    )
    world.given(STREAMS.venue, TableDeregistered(table_id="t-s"))
    assert [entry.table_id for entry in world.venue.ranked] == ["t-b", "t-a"]
