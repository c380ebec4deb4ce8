"""Venue directory (SQL): one row per venue, for the public list and for
finding a venue by id or slug.

A venue's row comes from its `VenueOpened`; `VenueDetailsChanged` rewrites its name, slug
and address, and a `SlotSettingsChanged` its time zone (the venue's zone is its
settings'). `version` follows every event of the venue stream, so it is the version a
write on the venue answers with; `updated_at` moves only when the row's details do.

The default venue of a deployment older than the registry never opened: its row is made
by the first event of its venue stream, as "Main" with the slug `main`
(`registry.LEGACY_ENTRY`). Every value comes from the events
and their records, never from the clock, so a rebuild writes the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from psycopg import AsyncConnection, sql

from booking_core.domain.events import SlotSettingsChanged, VenueDetailsChanged, VenueOpened
from booking_core.domain.registry import LEGACY_ENTRY
from booking_core.domain.streams import DEFAULT_VENUE_ID, VENUE, local_name, venue_of
from booking_core.domain.values import SlotSettings
from projectors.base import Decoded, TableNames
from read_models import venues_layout

__all__ = ["VenuesProjection"]

_OPENED = """
INSERT INTO {t} (id, slug, name, time_zone, address, version, created_at, updated_at)
VALUES (%(id)s, %(slug)s, %(name)s, %(time_zone)s, %(address)s, %(version)s, %(at)s, %(at)s)
ON CONFLICT (id) DO UPDATE SET
    slug = excluded.slug, name = excluded.name, time_zone = excluded.time_zone,
    address = excluded.address, version = excluded.version, updated_at = excluded.updated_at
"""

_LEGACY = """
INSERT INTO {t} (id, slug, name, time_zone, address, version, created_at, updated_at)
VALUES (%(id)s, %(slug)s, %(name)s, %(time_zone)s, NULL, %(version)s, %(at)s, %(at)s)
ON CONFLICT (id) DO NOTHING
"""

_DETAILS = """
UPDATE {t} SET slug = %(slug)s, name = %(name)s, address = %(address)s,
    version = %(version)s, updated_at = %(at)s
WHERE id = %(id)s
"""

_ZONE = """
UPDATE {t} SET time_zone = %(time_zone)s, version = %(version)s,
    updated_at = CASE WHEN time_zone = %(time_zone)s THEN updated_at ELSE %(at)s END
WHERE id = %(id)s
"""

_VERSION = "UPDATE {t} SET version = %(version)s WHERE id = %(id)s"


class VenuesProjection:
    name: ClassVar[str] = venues_layout.NAME
    tables: ClassVar[tuple[str, ...]] = venues_layout.ALL_TABLES

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        table = tables[venues_layout.VENUES]
        async with connection.cursor() as cursor:
            for record, event in batch:
                if local_name(record.stream_id) != VENUE:
                    continue
                venue_id = venue_of(record.stream_id)
                base = {"id": venue_id, "version": record.version, "at": record.recorded_at}
                if venue_id == DEFAULT_VENUE_ID and not isinstance(event, VenueOpened):
                    zone = SlotSettings().time_zone
                    if isinstance(event, SlotSettingsChanged):
                        zone = event.time_zone
                    legacy = {**base, "slug": LEGACY_ENTRY.slug, "name": LEGACY_ENTRY.name}
                    await cursor.execute(
                        sql.SQL(_LEGACY).format(t=table), {**legacy, "time_zone": zone}
                    )
                match event:
                    case VenueOpened():
                        opened = {
                            **base,
                            "slug": event.slug,
                            "name": event.name,
                            "time_zone": event.time_zone,
                            "address": event.address,
                            "at": event.opened_at or record.recorded_at,
                        }
                        await cursor.execute(sql.SQL(_OPENED).format(t=table), opened)
                    case VenueDetailsChanged():
                        details = {
                            **base,
                            "slug": event.slug,
                            "name": event.name,
                            "address": event.address,
                            "at": event.changed_at or record.recorded_at,
                        }
                        await cursor.execute(sql.SQL(_DETAILS).format(t=table), details)
                    case SlotSettingsChanged():
                        zone_change = {**base, "time_zone": event.time_zone}
                        await cursor.execute(sql.SQL(_ZONE).format(t=table), zone_change)
                    case _:
                        await cursor.execute(sql.SQL(_VERSION).format(t=table), base)
