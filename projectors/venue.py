"""Venue (SQL): tables, layouts, opening hours and slot settings, closures and blocks, as
staff read them. Venue events are rare, so each is one statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import msgspec
from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb

from booking_core.domain.events import (
    BlockLifted,
    BlockPlaced,
    ClosureAdded,
    ClosureRemoved,
    LayoutActivated,
    LayoutChanged,
    LayoutCreated,
    LayoutDeleted,
    OpeningHoursChanged,
    SlotSettingsChanged,
    TableAdded,
    TableChanged,
    TableRetired,
)
from booking_core.domain.streams import venue_of
from booking_core.domain.values import OpeningHours, SlotSettings
from projectors.base import Decoded, TableNames
from read_models import venue_layout

__all__ = ["VenueProjection"]


def _json(value: object) -> Jsonb:
    return Jsonb(msgspec.to_builtins(value))


_UPSERT_TABLE = """
INSERT INTO {t} (venue_id, id, name, capacity, min_capacity, area, x, y, width, height,
                 rotation, shape, retired, version, created_at, updated_at)
VALUES (%(venue)s, %(id)s, %(name)s, %(capacity)s, %(min_capacity)s, %(area)s, %(x)s, %(y)s,
        %(width)s, %(height)s, %(rotation)s, %(shape)s, false, %(version)s, %(at)s, %(at)s)
ON CONFLICT (venue_id, id) DO UPDATE SET
    name = excluded.name, capacity = excluded.capacity, min_capacity = excluded.min_capacity,
    area = excluded.area, x = excluded.x, y = excluded.y, width = excluded.width,
    height = excluded.height, rotation = excluded.rotation, shape = excluded.shape,
    version = excluded.version, updated_at = excluded.updated_at
"""

_UPSERT_LAYOUT = """
INSERT INTO {t} (venue_id, id, name, tables, areas, canvas, active, version, created_at,
                 updated_at)
VALUES (%(venue)s, %(id)s, %(name)s, %(tables)s, %(areas)s, %(canvas)s, false, %(version)s,
        %(at)s, %(at)s)
ON CONFLICT (venue_id, id) DO UPDATE SET
    name = excluded.name, tables = excluded.tables, areas = excluded.areas,
    canvas = excluded.canvas, version = excluded.version, updated_at = excluded.updated_at
"""

_UPSERT_VENUE = """
INSERT INTO {t} (venue_id, opening_hours, time_slots, version, updated_at)
VALUES (%(venue)s, %(hours)s, %(slots)s, %(version)s, %(at)s)
ON CONFLICT (venue_id) DO UPDATE SET
    opening_hours = coalesce(%(new_hours)s, {t}.opening_hours),
    time_slots = coalesce(%(new_slots)s, {t}.time_slots),
    version = excluded.version, updated_at = excluded.updated_at
"""


class VenueProjection:
    name: ClassVar[str] = venue_layout.NAME
    tables: ClassVar[tuple[str, ...]] = venue_layout.ALL_TABLES

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        async with connection.cursor() as cursor:
            for record, event in batch:
                query, params = self._statement(tables, record.version, record.recorded_at, event)
                if query is not None:
                    params["venue"] = venue_of(record.stream_id)
                    await cursor.execute(query, params)

    def _statement(
        self, tables: TableNames, version: int, at: Any, event: object
    ) -> tuple[sql.Composed | None, dict[str, Any]]:
        def q(text: str, table: str) -> sql.Composed:
            return sql.SQL(text).format(t=tables[table])

        match event:
            case TableAdded() | TableChanged():
                params = {
                    "id": event.table_id,
                    "name": event.name,
                    "capacity": event.capacity,
                    "min_capacity": event.min_capacity,
                    "area": event.area,
                    "x": event.x,
                    "y": event.y,
                    "width": event.width,
                    "height": event.height,
                    "rotation": event.rotation,
                    "shape": event.shape,
                    "version": version,
                    "at": event.added_at if isinstance(event, TableAdded) else event.changed_at,
                }
                return q(_UPSERT_TABLE, venue_layout.TABLES), params
            case TableRetired():
                return q(
                    "UPDATE {t} SET retired = true, version = %(version)s, updated_at = %(at)s"
                    " WHERE venue_id = %(venue)s AND id = %(id)s",
                    venue_layout.TABLES,
                ), {"id": event.table_id, "version": version, "at": event.retired_at}
            case LayoutCreated() | LayoutChanged():
                return q(_UPSERT_LAYOUT, venue_layout.LAYOUTS), {
                    "id": event.layout_id,
                    "name": event.name,
                    "tables": _json(event.tables),
                    "areas": _json(event.areas),
                    "canvas": _json(event.canvas) if event.canvas is not None else None,
                    "version": version,
                    "at": at,
                }
            case LayoutDeleted():
                return q(
                    "DELETE FROM {t} WHERE venue_id = %(venue)s AND id = %(id)s",
                    venue_layout.LAYOUTS,
                ), {"id": event.layout_id}
            case LayoutActivated():
                return q(
                    "UPDATE {t} SET active = (id = %(id)s), updated_at = %(at)s"
                    " WHERE venue_id = %(venue)s AND (active OR id = %(id)s)",
                    venue_layout.LAYOUTS,
                ), {"id": event.layout_id, "at": at}
            case OpeningHoursChanged():
                hours = _json(event.hours)
                return q(_UPSERT_VENUE, venue_layout.VENUE), {
                    "hours": hours,
                    "slots": _json(SlotSettings()),
                    "new_hours": hours,
                    "new_slots": None,
                    "version": version,
                    "at": at,
                }
            case SlotSettingsChanged():
                slots = _json(
                    SlotSettings(
                        interval_minutes=event.interval_minutes,
                        turn_times=event.turn_times,
                        buffer_minutes=event.buffer_minutes,
                        min_lead_minutes=event.min_lead_minutes,
                        max_days_ahead=event.max_days_ahead,
                        time_zone=event.time_zone,
                    )
                )
                return q(_UPSERT_VENUE, venue_layout.VENUE), {
                    "hours": _json(OpeningHours()),
                    "slots": slots,
                    "new_hours": None,
                    "new_slots": slots,
                    "version": version,
                    "at": at,
                }
            case ClosureAdded():
                return q(
                    "INSERT INTO {t} (venue_id, date, reason, created_at)"
                    " VALUES (%(venue)s, %(date)s, %(reason)s, %(at)s) ON CONFLICT (venue_id, date)"
                    " DO UPDATE SET reason = excluded.reason",
                    venue_layout.CLOSURES,
                ), {"date": event.date, "reason": event.reason, "at": at}
            case ClosureRemoved():
                return q(
                    "DELETE FROM {t} WHERE venue_id = %(venue)s AND date = %(date)s",
                    venue_layout.CLOSURES,
                ), {"date": event.date}
            case BlockPlaced():
                return q(
                    "INSERT INTO {t} (venue_id, id, table_id, service_date, starts_at, ends_at,"
                    " reason, created_at) VALUES (%(venue)s, %(id)s, %(table_id)s,"
                    " %(service_date)s, %(starts_at)s, %(ends_at)s, %(reason)s, %(at)s)"
                    " ON CONFLICT (venue_id, id) DO NOTHING",
                    venue_layout.BLOCKS,
                ), {
                    "id": event.block_id,
                    "table_id": event.table_id,
                    "service_date": min(event.service_dates, default=event.starts_at.date()),
                    "starts_at": event.starts_at,
                    "ends_at": event.ends_at,
                    "reason": event.reason,
                    "at": at,
                }
            case BlockLifted():
                return q(
                    "DELETE FROM {t} WHERE venue_id = %(venue)s AND id = %(id)s",
                    venue_layout.BLOCKS,
                ), {"id": event.block_id}
            case _:
                return None, {}
