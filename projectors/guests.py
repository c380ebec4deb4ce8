"""Guest profiles (SQL): a row per person a venue's events name, and their bookings
(`guests_layout`).

- A booking that names its `person` (`BookingPlaced`, `BookingChanged`) makes or updates
  the person's row: the name it gives becomes the name unless the row's was given later
  (`name_at`, the booking's `placed_at`/`changed_at`; of two at one instant, the later in
  the log wins), its phone and email join the lists, normalised
  (`booking_core.domain.personal`); a booking without `person` counts towards no
  profile. The booking's own row follows its life: date, start and party size from the
  placement and each change, the status from each step (seated, completed, no-show,
  cancelled); later events find the person through that row.
- `GuestProfileNoted` sets tags and notes; `GuestProfilesMerged`, applied from the kept
  profile's stream (its copy in the merged one's stream changes nothing), points the
  merged profile, and any profile merged into it before, at the kept one.
- `PersonErased` scrubs the person's row to what a rebuild makes of their events once
  the key is gone: a name reads `ERASED` (a row without a name keeps none), phones and
  emails empty (those fields read as None), notes NULL. Counts and tags are kept.

Every value comes from the events and their records, never from the clock, so a rebuild
writes the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from psycopg import AsyncConnection, AsyncCursor, sql

from booking_core.domain.events import (
    BookingCancelled,
    BookingChanged,
    BookingCompleted,
    BookingMarkedNoShow,
    BookingPlaced,
    BookingSeated,
    GuestProfileNoted,
    GuestProfilesMerged,
    PersonErased,
)
from booking_core.domain.personal import ERASED, normalise_email, normalise_phone
from booking_core.domain.streams import local_name, streams_of, venue_of
from projectors.base import Decoded, TableNames
from read_models import guests_layout

__all__ = ["GuestsProjection"]

_SEEN = """
INSERT INTO {g} (venue_id, id, name, name_at, phones, emails)
VALUES (%(venue)s, %(person)s, %(name)s, %(at)s, %(phones)s, %(emails)s)
ON CONFLICT (venue_id, id) DO UPDATE SET
    name = CASE WHEN {g}.name_at > excluded.name_at THEN {g}.name ELSE excluded.name END,
    name_at = greatest({g}.name_at, excluded.name_at),
    phones = ARRAY(SELECT DISTINCT p FROM unnest({g}.phones || excluded.phones) p ORDER BY p),
    emails = ARRAY(SELECT DISTINCT e FROM unnest({g}.emails || excluded.emails) e ORDER BY e)
"""

_PLACED = """
INSERT INTO {b} (venue_id, booking_id, guest_id, service_date, starts_at, party_size, status)
VALUES (%(venue)s, %(booking)s, %(person)s, %(service_date)s, %(starts_at)s, %(party_size)s,
        'confirmed')
ON CONFLICT (venue_id, booking_id) DO NOTHING
"""

_CHANGED = """
UPDATE {b} SET service_date = %(service_date)s, starts_at = %(starts_at)s,
    party_size = %(party_size)s
WHERE venue_id = %(venue)s AND booking_id = %(booking)s
RETURNING guest_id
"""

_STATUS = """
UPDATE {b} SET status = %(status)s WHERE venue_id = %(venue)s AND booking_id = %(booking)s
"""

_NOTED = """
INSERT INTO {g} (venue_id, id, tags, notes, version)
VALUES (%(venue)s, %(person)s, %(tags)s, %(notes)s, %(version)s)
ON CONFLICT (venue_id, id) DO UPDATE SET
    tags = excluded.tags, notes = excluded.notes, version = excluded.version
"""

_KEPT = """
INSERT INTO {g} (venue_id, id, version) VALUES (%(venue)s, %(person)s, %(version)s)
ON CONFLICT (venue_id, id) DO UPDATE SET version = excluded.version
"""

_MERGED = """
INSERT INTO {g} (venue_id, id, merged_into) VALUES (%(venue)s, %(merged)s, %(person)s)
ON CONFLICT (venue_id, id) DO UPDATE SET merged_into = excluded.merged_into
"""

_REPOINTED = """
UPDATE {g} SET merged_into = %(person)s WHERE venue_id = %(venue)s AND merged_into = %(merged)s
"""

_ERASED = """
UPDATE {g} SET name = CASE WHEN name IS NULL THEN NULL ELSE %(erased)s END,
    phones = '{{}}', emails = '{{}}', notes = NULL, version = %(version)s
WHERE venue_id = %(venue)s AND id = %(person)s
"""

_STATUSES: dict[type, str] = {
    BookingCancelled: "cancelled",
    BookingSeated: "seated",
    BookingCompleted: "completed",
    BookingMarkedNoShow: "no_show",
}


def _contacts(event: BookingPlaced | BookingChanged) -> dict[str, Any]:
    return {
        "name": event.guest_name,
        "phones": [normalise_phone(event.guest_phone)] if event.guest_phone else [],
        "emails": [normalise_email(event.guest_email)] if event.guest_email else [],
    }


class GuestsProjection:
    name: ClassVar[str] = guests_layout.NAME
    tables: ClassVar[tuple[str, ...]] = guests_layout.ALL_TABLES

    async def apply(
        self, connection: AsyncConnection[Any], tables: TableNames, batch: Sequence[Decoded]
    ) -> None:
        names = {"g": tables[guests_layout.GUESTS], "b": tables[guests_layout.BOOKINGS]}
        # One event's statements after another's, in order, but sent without waiting for
        # each answer (a pipeline): the batch costs about one round trip, not two an event.
        async with connection.pipeline(), connection.cursor() as cursor:
            for decoded in batch:
                await self._one(cursor, names, decoded)

    async def _one(
        self, cursor: AsyncCursor[Any], names: dict[str, sql.Identifier], decoded: Decoded
    ) -> None:
        record, event = decoded
        venue = venue_of(record.stream_id)

        async def run(query: str, **params: Any) -> None:
            await cursor.execute(sql.SQL(query).format(**names), {"venue": venue, **params})

        match event:
            case BookingPlaced(person=str(person)):
                await run(
                    _PLACED,
                    booking=event.booking_id,
                    person=person,
                    service_date=event.service_date,
                    starts_at=event.starts_at,
                    party_size=event.party_size,
                )
                await run(_SEEN, person=person, at=event.placed_at, **_contacts(event))
            case BookingChanged():
                await run(
                    _CHANGED,
                    booking=event.booking_id,
                    service_date=event.service_date,
                    starts_at=event.starts_at,
                    party_size=event.party_size,
                )
                found = await cursor.fetchone()
                if found is not None:
                    await run(_SEEN, person=found[0], at=event.changed_at, **_contacts(event))
            case BookingCancelled() | BookingSeated() | BookingCompleted() | BookingMarkedNoShow():
                await run(_STATUS, booking=event.booking_id, status=_STATUSES[type(event)])
            case GuestProfileNoted():
                await run(
                    _NOTED,
                    person=event.person,
                    tags=list(event.tags),
                    notes=event.notes,
                    version=record.version,
                )
            case GuestProfilesMerged() if _in_own_stream(record.stream_id, event.person):
                await run(_KEPT, person=event.person, version=record.version)
                await run(_MERGED, person=event.person, merged=event.merged)
                await run(_REPOINTED, person=event.person, merged=event.merged)
            case PersonErased():
                await run(_ERASED, person=event.person, erased=ERASED, version=record.version)
            case _:
                pass


def _in_own_stream(stream_id: str, person: str) -> bool:
    """Whether the event is in `person`'s own stream (of its venue)."""
    return local_name(streams_of(venue_of(stream_id)).person(person)) == local_name(stream_id)
