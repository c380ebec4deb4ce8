"""A small venue opened through the real command handlers, for tests that follow a
booking from the command to what the outside world sees."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time

from api.accounts import PasswordHasher, UserStore
from booking_core.domain.commands import Actor, AddTable, ChangeSlotSettings, SetOpeningHours
from booking_core.domain.values import OpeningHours, PacingRule, Shift, TurnTime
from booking_core.handlers import add_table, change_venue
from booking_core.store import EventStore
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import open_pool
from tests.support.scope import TEST_VENUE, open_test_venue

__all__ = [
    "STAFF",
    "TABLES",
    "add_tables",
    "command_id",
    "days_ahead",
    "open_venue",
    "open_venue_with_admin",
    "set_hours_and_turns",
]

STAFF = Actor(user_id="u-maitre-d", role="admin")
TABLES = {"T1": "WINDOW-4", "T2": "GARDEN-4", "T3": "BOOTH-8"}
_ids = itertools.count()


def command_id() -> str:
    return f"c-support-{next(_ids)}"  # apart from the ids of the tests that use it


async def open_venue(store: EventStore, now: datetime, zone: str) -> None:
    """Open 08:00-23:45 every day in `zone`, two-hour turns, no lead time, three tables."""
    await open_test_venue(store, zone)
    await set_hours_and_turns(
        store,
        now=now,
        shift=Shift(opens=time(8, 0), closes=time(23, 45)),
        turn_minutes=120,
        time_zone=zone,
    )
    await add_tables(store, now, TABLES, capacity=8)


async def add_tables(
    store: EventStore, now: datetime, names: dict[str, str], *, capacity: int
) -> None:
    """Add the tables `names` (id to name) to the test venue, each seating `capacity`."""
    for table_id, name in names.items():
        await add_table(
            store,
            AddTable(
                venue_id=TEST_VENUE,
                command_id=command_id(),
                actor=STAFF,
                now=now,
                table_id=table_id,
                name=name,
                capacity=capacity,
            ),
        )


async def open_venue_with_admin(
    database_url: str, zone: str, *, email: str, password: str, full_name: str
) -> datetime:
    """`open_venue` in the database of `database_url`, and an admin who signs in with
    `email` and `password`; returns the `now` the venue was opened with."""
    pool = await open_pool(database_url, min_size=1, max_size=2)
    try:
        now = datetime.now(UTC)
        await open_venue(PostgresEventStore(pool, database_url), now, zone)
        hashed = await PasswordHasher(4).hash(password)
        await UserStore(pool).upsert_admin(email=email, password_hash=hashed, full_name=full_name)
    finally:
        await pool.close()
    return now


async def set_hours_and_turns(
    store: EventStore,
    *,
    now: datetime,
    shift: Shift,
    turn_minutes: int,
    time_zone: str,
    buffer_minutes: int = 0,
    pacing: tuple[PacingRule, ...] = (),
) -> None:
    """Open the test venue every day for `shift`, on a 15-minute grid, one turn for every
    party, no lead time, a year ahead."""
    await change_venue(
        store,
        SetOpeningHours(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=STAFF,
            now=now,
            hours=OpeningHours.every_day(shift),
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
            turn_times=(TurnTime(max_party_size=20, minutes=turn_minutes),),
            buffer_minutes=buffer_minutes,
            min_lead_minutes=0,
            max_days_ahead=365,
            time_zone=time_zone,
            pacing=pacing,
        ),
    )


def days_ahead(now: datetime, days: int) -> date:
    return date.fromordinal(now.date().toordinal() + days)
