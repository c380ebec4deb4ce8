"""A small venue opened through the real command handlers, for tests that follow a
booking from the command to what the outside world sees."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time

from booking_core.domain.commands import Actor, AddTable, ChangeSlotSettings, SetOpeningHours
from booking_core.domain.values import OpeningHours, Shift, TurnTime
from booking_core.handlers import add_table, change_venue
from booking_core.store import EventStore
from tests.support.scope import TEST_VENUE, open_test_venue

__all__ = ["STAFF", "TABLES", "command_id", "days_ahead", "open_venue"]

STAFF = Actor(user_id="u-maitre-d", role="admin")
TABLES = {"T1": "WINDOW-4", "T2": "GARDEN-4", "T3": "BOOTH-8"}
_ids = itertools.count()


def command_id() -> str:
    return f"c-{next(_ids)}"


async def open_venue(store: EventStore, now: datetime, zone: str) -> None:
    """Open 08:00-23:45 every day in `zone`, two-hour turns, no lead time, three tables."""
    await open_test_venue(store, zone)
    await change_venue(
        store,
        SetOpeningHours(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=STAFF,
            now=now,
            hours=OpeningHours.every_day(Shift(opens=time(8, 0), closes=time(23, 45))),
        ),
    )
    await change_venue(
        store,
        ChangeSlotSettings(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=STAFF,
            now=now,
            interval_minutes=15,
            turn_times=(TurnTime(max_party_size=20, minutes=120),),
            buffer_minutes=0,
            min_lead_minutes=0,
            max_days_ahead=365,
            time_zone=zone,
        ),
    )
    for table_id, name in TABLES.items():
        await add_table(
            store,
            AddTable(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=STAFF,
                now=now,
                table_id=table_id,
                name=name,
                capacity=8,
            ),
        )


def days_ahead(now: datetime, days: int) -> date:
    return date.fromordinal(now.date().toordinal() + days)
