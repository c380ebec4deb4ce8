"""The benchmarks' venue: open round the clock in UTC, an hour per booking, no buffer and
no lead time, tables of four; written through the command handlers like any admin's."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime
from datetime import time as clock

from booking_core.domain.commands import Actor, AddTable, ChangeSlotSettings, SetOpeningHours
from booking_core.domain.streams import DEFAULT_VENUE_ID
from booking_core.domain.values import OpeningHours, Shift, TurnTime
from booking_core.handlers import add_table, change_venue
from booking_core.store import EventStore

__all__ = ["STAFF", "command_id", "open_round_the_clock"]

STAFF = Actor(user_id="u-bench", role="admin")
_ids = itertools.count()


def command_id() -> str:
    return f"bench-{next(_ids)}"


async def open_round_the_clock(
    store: EventStore,
    table_ids: Iterable[str],
    *,
    now: datetime,
    interval_minutes: int,
    max_days_ahead: int,
    venue_id: str = DEFAULT_VENUE_ID,
) -> None:
    hours = OpeningHours.every_day(Shift(opens=clock(0, 0), closes=clock(0, 0)))
    await change_venue(
        store,
        SetOpeningHours(
            command_id=command_id(), actor=STAFF, now=now, hours=hours, venue_id=venue_id
        ),
    )
    await change_venue(
        store,
        ChangeSlotSettings(
            command_id=command_id(),
            actor=STAFF,
            now=now,
            venue_id=venue_id,
            interval_minutes=interval_minutes,
            turn_times=(TurnTime(max_party_size=20, minutes=60),),
            buffer_minutes=0,
            min_lead_minutes=0,
            max_days_ahead=max_days_ahead,
            time_zone="UTC",
        ),
    )
    for table_id in table_ids:
        await add_table(
            store,
            AddTable(
                command_id=command_id(),
                actor=STAFF,
                now=now,
                venue_id=venue_id,
                table_id=table_id,
                name=table_id,
                capacity=4,
            ),
        )
