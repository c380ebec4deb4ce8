"""Live status (Redis): every table status change, appended to a capped Redis stream per
service date, for the live floor view and its Server-Sent Events.

Entry ids are `tx-(position x 1000 + n)`, the n-th change an event makes (a seated party
of several tables makes several): they grow in the order the projection reads events, and
a rebuild gives every entry the same id again, so a client resuming after an id misses
nothing and sees nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from booking_core.domain.events import (
    BookingSeated,
    TableBlocked,
    TableReleased,
    TableReserved,
    TableUnblocked,
)
from booking_core.domain.streams import venue_of
from booking_core.store import RecordedEvent
from projectors.base import Decoded, KeySpace, RedisCommand
from read_models.live_status_keys import NAME, stream_key_part

__all__ = ["MAX_ENTRIES_PER_DAY", "NAME", "LiveStatusProjection", "stream_key_part"]

MAX_ENTRIES_PER_DAY = 10_000
ENTRIES_PER_EVENT = 1000


def _entry(
    keys: KeySpace,
    record: RecordedEvent,
    *,
    table_id: str,
    service_date: str,
    time: str,
    status: str,
    ref: str,
    index: int = 0,
) -> RedisCommand:
    return (
        "XADD",
        keys.key(stream_key_part(venue_of(record.stream_id), service_date)),
        "MAXLEN",
        "~",
        MAX_ENTRIES_PER_DAY,
        f"{record.tx}-{record.position * ENTRIES_PER_EVENT + index}",
        "table_id",
        table_id,
        "date",
        service_date,
        "time",
        time,
        "status",
        status,
        "ref",
        ref,
        "at",
        record.recorded_at.isoformat(),
    )


class LiveStatusProjection:
    name: ClassVar[str] = NAME

    def commands(self, keys: KeySpace, batch: Sequence[Decoded]) -> list[RedisCommand]:
        commands: list[RedisCommand] = []
        for record, event in batch:
            match event:
                case TableReserved() | TableReleased():
                    commands.append(
                        _entry(
                            keys,
                            record,
                            table_id=event.table_id,
                            service_date=event.service_date.isoformat(),
                            time=event.time.strftime("%H:%M"),
                            status="booked" if isinstance(event, TableReserved) else "available",
                            ref=event.booking_id,
                        )
                    )
                case TableBlocked():
                    commands.append(
                        _entry(
                            keys,
                            record,
                            table_id=event.table_id,
                            service_date=event.service_date.isoformat(),
                            time=event.start_time.strftime("%H:%M"),
                            status="blocked",
                            ref=event.block_id,
                        )
                    )
                case TableUnblocked():
                    commands.append(
                        _entry(
                            keys,
                            record,
                            table_id=event.table_id,
                            service_date=event.service_date.isoformat(),
                            time="",
                            status="available",
                            ref=event.block_id,
                        )
                    )
                case BookingSeated():
                    commands.extend(
                        _entry(
                            keys,
                            record,
                            table_id=table_id,
                            service_date=event.service_date.isoformat(),
                            time="",
                            status="seated",
                            ref=event.booking_id,
                            index=index,
                        )
                        for index, table_id in enumerate(event.table_ids[:ENTRIES_PER_EVENT])
                    )
                case _:
                    pass
        return commands
