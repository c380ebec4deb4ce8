"""Table and venue handlers: tables join the venue's list in the same append, retirement
sees every booking to come, blocks reach every service day they touch."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from booking_core.domain.commands import (
    AddClosure,
    AddTable,
    BlockTable,
    ChangeLayout,
    CreateLayout,
    DeleteLayout,
    LiftBlock,
    RetireTable,
    SetOpeningHours,
)
from booking_core.domain.errors import (
    DuplicateTableName,
    Forbidden,
    StaleVersion,
    TableHasBookings,
    TableIsBlocked,
)
from booking_core.domain.table import ActiveTable, RetiredTable
from booking_core.handlers import (
    add_table,
    block_table,
    book_table,
    change_venue,
    lift_block,
    load_venue,
    retire_table,
)
from booking_core.store import InMemoryEventStore
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import ADA, ADMIN, CHRISTMAS_EVE, GRACE, HOURS, NOW, book, command_id
from tests.unit.handlers.bistro import open_the_bistro
from tests.unit.handlers.fakes import Racing

LAST_DAY_OF_THE_WINDOW = date(2027, 1, 30)


def retire(*, cancel_bookings: bool = False) -> RetireTable:
    return RetireTable(
        venue_id=TEST_VENUE,
        command_id=command_id(),
        actor=ADMIN,
        now=NOW,
        table_id="t-window",
        cancel_bookings=cancel_bookings,
    )


async def test_a_new_table_and_its_place_on_the_venues_list_are_one_append() -> None:
    store = await open_the_bistro()

    result = await add_table(
        store,
        AddTable(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=ADMIN,
            now=NOW,
            table_id="t-snug",
            name="SNUG-2",
            capacity=2,
        ),
    )

    assert set(result.events) == {STREAMS.table("t-snug"), STREAMS.venue}
    assert isinstance(result.table, ActiveTable)
    assert result.version == 1
    venue, _ = await load_venue(store, TEST_VENUE)
    assert venue.tables["t-snug"] == "SNUG-2"


async def test_a_second_table_called_window_4_is_refused() -> None:
    store = await open_the_bistro()

    with pytest.raises(DuplicateTableName):
        await add_table(
            store,
            AddTable(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=ADMIN,
                now=NOW,
                table_id="t-window-2",
                name="WINDOW-4",
                capacity=4,
            ),
        )


async def test_retirement_sees_a_booking_on_the_last_day_of_the_window() -> None:
    store = await open_the_bistro()
    await book_table(store, book("b-ada", day=LAST_DAY_OF_THE_WINDOW, table_ids=("t-window",)))

    with pytest.raises(TableHasBookings):
        await retire_table(store, retire())


async def test_retiring_with_its_bookings_cancels_them_in_the_same_append() -> None:
    store = await open_the_bistro()
    await book_table(store, book("b-ada", table_ids=("t-window",)))
    await book_table(store, book("b-grace", actor=GRACE, at=time(21), table_ids=("t-window",)))

    result = await retire_table(store, retire(cancel_bookings=True))

    assert isinstance(result.table, RetiredTable)
    assert set(result.events) == {
        STREAMS.table("t-window"),
        STREAMS.venue,
        STREAMS.booking("b-ada"),
        STREAMS.booking("b-grace"),
        STREAMS.service_day("t-window", CHRISTMAS_EVE),
    }
    assert result.token is not None
    records = [record for record in await store.read_all() if record.tx == result.token.tx]
    assert len(records) == 6


async def test_a_booking_made_while_a_retirement_is_decided_makes_it_decided_again() -> None:
    inner = await open_the_bistro()

    async def ada_books_the_window(store: InMemoryEventStore) -> None:
        await book_table(store, book("b-ada", table_ids=("t-window",)))

    with pytest.raises(TableHasBookings):
        await retire_table(Racing(inner, ada_books_the_window), retire())


async def test_a_block_reaches_every_service_day_and_lifts_from_all_of_them() -> None:
    store = await open_the_bistro()
    start = datetime(2026, 12, 24, 18, tzinfo=UTC)
    end = datetime(2026, 12, 26, 3, tzinfo=UTC)
    command = BlockTable(
        venue_id=TEST_VENUE,
        command_id=command_id(),
        actor=ADMIN,
        now=NOW,
        table_id="t-window",
        block_id="k-plumber",
        start=start,
        end=end,
        reason="the plumber",
    )

    blocked = await block_table(store, command)
    with pytest.raises(TableIsBlocked):
        await book_table(store, book(day=date(2026, 12, 25), table_ids=("t-window",)))
    lifted = await lift_block(
        store,
        LiftBlock(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=ADMIN,
            now=NOW,
            table_id="t-window",
            block_id="k-plumber",
        ),
    )

    expected = {STREAMS.table("t-window")} | {
        STREAMS.service_day("t-window", date(2026, 12, day)) for day in (24, 25, 26)
    }
    assert set(blocked.events) == expected
    assert set(lifted.events) == expected
    assert isinstance(lifted.table, ActiveTable)
    assert lifted.table.blocks == {}


async def test_the_venue_handler_returns_the_venue_and_writes_nothing_for_a_repeat() -> None:
    store = await open_the_bistro()
    closure = AddClosure(
        venue_id=TEST_VENUE,
        command_id=command_id(),
        actor=ADMIN,
        now=NOW,
        date=date(2027, 1, 1),
        reason="recovery",
    )

    first = await change_venue(store, closure)
    repeat = await change_venue(
        store,
        AddClosure(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=ADMIN,
            now=NOW,
            date=date(2027, 1, 1),
            reason="recovery",
        ),
    )

    assert first.venue.closures == {date(2027, 1, 1): "recovery"}
    assert (repeat.token, repeat.version) == (None, first.version)


async def test_a_guest_cannot_change_the_venue() -> None:
    store = await open_the_bistro()

    with pytest.raises(Forbidden):
        await change_venue(
            store,
            SetOpeningHours(
                venue_id=TEST_VENUE, command_id=command_id(), actor=ADA, now=NOW, hours=HOURS
            ),
        )


async def test_a_layout_saved_by_someone_else_first_is_not_overwritten() -> None:
    """Two editors read the layout at one version; the one who saves second is refused,
    even when the first commits between the second's read and its append."""
    store = await open_the_bistro()
    created = await change_venue(
        store,
        CreateLayout(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=ADMIN,
            now=NOW,
            layout_id="floor",
            name="Floor",
        ),
    )
    read_at = created.venue.layouts["floor"].version
    assert read_at == created.versions[STREAMS.venue]

    def save(name: str) -> ChangeLayout:
        return ChangeLayout(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=ADMIN,
            now=NOW,
            layout_id="floor",
            name=name,
            expected_version=read_at,
        )

    async def first_editor(inner: InMemoryEventStore) -> object:
        return await change_venue(inner, save("First editor's floor"))

    with pytest.raises(StaleVersion):
        await change_venue(Racing(store, first_editor), save("Second editor's floor"))
    venue, _ = await load_venue(store, TEST_VENUE)
    assert venue.layouts["floor"].name == "First editor's floor"
    assert venue.layouts["floor"].version > read_at
    with pytest.raises(StaleVersion):
        await change_venue(
            store,
            DeleteLayout(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=ADMIN,
                now=NOW,
                layout_id="floor",
                expected_version=read_at,
            ),
        )
