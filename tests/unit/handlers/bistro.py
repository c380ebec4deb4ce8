"""The Harbour Bistro opened through the handlers, as an admin would on day one."""

from __future__ import annotations

from booking_core.domain.commands import AddTable, ChangeSlotSettings, SetOpeningHours
from booking_core.handlers import add_table, change_venue
from booking_core.store import EventStore, InMemoryEventStore
from tests.support.scope import TEST_VENUE
from tests.unit.domain.world import ADMIN, HOURS, NOW, SETTINGS, TABLES, command_id


async def open_the_bistro(store: EventStore | None = None) -> InMemoryEventStore:
    store = store or InMemoryEventStore()
    assert isinstance(store, InMemoryEventStore)
    await open_venue(store)
    return store


async def open_venue(store: EventStore) -> None:
    """Hours, slot settings and tables, through the handlers, in any store."""
    await change_venue(
        store,
        SetOpeningHours(
            venue_id=TEST_VENUE, command_id=command_id(), actor=ADMIN, now=NOW, hours=HOURS
        ),
    )
    await change_venue(
        store,
        ChangeSlotSettings(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=ADMIN,
            now=NOW,
            interval_minutes=SETTINGS.interval_minutes,
            turn_times=SETTINGS.turn_times,
            buffer_minutes=SETTINGS.buffer_minutes,
            min_lead_minutes=SETTINGS.min_lead_minutes,
            max_days_ahead=SETTINGS.max_days_ahead,
            time_zone=SETTINGS.time_zone,
        ),
    )
    for table_id, name, capacity, min_capacity in TABLES:
        await add_table(
            store,
            AddTable(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=ADMIN,
                now=NOW,
                table_id=table_id,
                name=name,
                capacity=capacity,
                min_capacity=min_capacity,
            ),
        )
