"""Availability (Redis): each table's reserved and blocked intervals per service date,
the tables' facts, the table combinations and the venue's hours, so the question "which
tables are free" is answered from Redis alone, in one round trip (see
`read_models.availability`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import msgspec

from booking_core.domain.events import (
    ClosureAdded,
    ClosureRemoved,
    OpeningHoursChanged,
    SlotSettingsChanged,
    TableAdded,
    TableBlocked,
    TableChanged,
    TableCombinationDefined,
    TableCombinationRemoved,
    TableReleased,
    TableReserved,
    TableRetired,
    TableUnblocked,
)
from booking_core.domain.streams import venue_of
from booking_core.domain.values import SlotSettings
from projectors.base import Decoded, KeySpace, RedisCommand
from read_models.availability_keys import (
    BLOCK,
    BOOKING,
    CLOSURES,
    COMBINATIONS,
    HOURS,
    NAME,
    RETIRED,
    SLOTS,
    TABLES,
    VENUE,
    VERSION,
    CombinationFacts,
    TableFacts,
    day_key_part,
    interval_field,
    span_value,
    venue_part,
)

__all__ = ["AvailabilityProjection"]

_encode = msgspec.json.encode


class AvailabilityProjection:
    name: ClassVar[str] = NAME

    def commands(self, keys: KeySpace, batch: Sequence[Decoded]) -> list[RedisCommand]:
        commands: list[RedisCommand] = []
        for record, event in batch:
            at = venue_part(venue_of(record.stream_id))
            written = len(commands)
            match event:
                case TableReserved():
                    commands.append(
                        (
                            "HSET",
                            keys.key(at + day_key_part(event.service_date)),
                            interval_field(event.table_id, BOOKING, event.booking_id),
                            span_value(event.starts_at, event.ends_at),
                        )
                    )
                case TableReleased():
                    commands.append(
                        (
                            "HDEL",
                            keys.key(at + day_key_part(event.service_date)),
                            interval_field(event.table_id, BOOKING, event.booking_id),
                        )
                    )
                case TableBlocked():
                    commands.append(
                        (
                            "HSET",
                            keys.key(at + day_key_part(event.service_date)),
                            interval_field(event.table_id, BLOCK, event.block_id),
                            span_value(event.starts_at, event.ends_at),
                        )
                    )
                case TableUnblocked():
                    commands.append(
                        (
                            "HDEL",
                            keys.key(at + day_key_part(event.service_date)),
                            interval_field(event.table_id, BLOCK, event.block_id),
                        )
                    )
                case TableAdded() | TableChanged():
                    facts = TableFacts(
                        name=event.name,
                        capacity=event.capacity,
                        min_capacity=event.min_capacity,
                        area=event.area,
                    )
                    commands.append(
                        ("HSET", keys.key(at + TABLES), event.table_id, _encode(facts).decode())
                    )
                case TableRetired():
                    commands.append(("HSET", keys.key(at + RETIRED), event.table_id, "1"))
                case OpeningHoursChanged():
                    commands.append(
                        ("HSET", keys.key(at + VENUE), HOURS, _encode(event.hours).decode())
                    )
                case SlotSettingsChanged():
                    settings = SlotSettings(
                        interval_minutes=event.interval_minutes,
                        turn_times=event.turn_times,
                        buffer_minutes=event.buffer_minutes,
                        min_lead_minutes=event.min_lead_minutes,
                        max_days_ahead=event.max_days_ahead,
                        time_zone=event.time_zone,
                    )
                    commands.append(
                        ("HSET", keys.key(at + VENUE), SLOTS, _encode(settings).decode())
                    )
                case ClosureAdded():
                    commands.append(
                        ("HSET", keys.key(at + CLOSURES), event.date.isoformat(), event.reason)
                    )
                case ClosureRemoved():
                    commands.append(("HDEL", keys.key(at + CLOSURES), event.date.isoformat()))
                case TableCombinationDefined():
                    combination = CombinationFacts(
                        table_ids=event.table_ids,
                        min_capacity=event.min_capacity,
                        capacity=event.capacity,
                        name=event.name,
                    )
                    commands.append(
                        (
                            "HSET",
                            keys.key(at + COMBINATIONS),
                            event.combination_id,
                            _encode(combination).decode(),
                        )
                    )
                case TableCombinationRemoved():
                    commands.append(("HDEL", keys.key(at + COMBINATIONS), event.combination_id))
                case _:
                    pass
            if len(commands) > written:
                commands.append(("SET", keys.key(at + VERSION), str(record.token)))
        return commands
