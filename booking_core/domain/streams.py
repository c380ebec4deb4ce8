"""Stream ids: the consistency boundaries of the domain, each inside one venue.

A venue's streams:

- `venue`: opening hours, slot settings, closures, layouts and the list of tables;
- `table-{id}`: one table's attributes, its blocks, its retirement;
- `table-{id}@{service_date}`: that table's reservations and blocks on one service day,
  where double bookings are prevented;
- `booking-{id}`: one booking's life and its guest's details;
- `pacing@{service_date}`: the starts that count towards the venue's pacing on one
  service day, where two bookings on different tables cannot both take the last covers.
- `waitlist@{service_date}`: the walk-ins waiting for a table on one service day.
- `person-{gst_id}`: one guest profile's tags, notes and merges, and its erasure.

The naming rule that puts every stream in one venue: the default venue's streams carry
those bare names (so a log written before there were several venues is the default
venue's, with no event rewritten), and every other venue's carry its id in front,
`{venue_id}/venue`, `{venue_id}/table-{id}@{date}`. `venue_of` reads the venue back from
any stream id. Venue ids are made by `venue_id_for` and never contain `/` or `@`.

Ids are 1 to 200 characters without `@` or `/` (so a stream id can always be split
back); any other id is refused with `InvalidId`.

The venue registry is not a venue: its streams, `registry/slug-{slug}`, one per slug ever
claimed, belong to `REGISTRY_VENUE`, an id no venue is given. A venue's decision may read
and append them (`registry_streams`) beside its own, so that claiming a slug and opening
the venue are one atomic append.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Final

from booking_core.domain.errors import InvalidId

__all__ = [
    "BOOKING_PREFIX",
    "DEFAULT_STREAMS",
    "DEFAULT_VENUE_ID",
    "PACING_PREFIX",
    "PERSON_PREFIX",
    "REGISTRY_VENUE",
    "SLUG_PREFIX",
    "TABLE_PREFIX",
    "VENUE",
    "WAITLIST_PREFIX",
    "VenueStreams",
    "is_registry_stream",
    "local_name",
    "neighbouring_days",
    "parse_service_day_stream",
    "slug_stream",
    "streams_of",
    "venue_of",
]

DEFAULT_VENUE_ID: Final = "default"
"""The venue a deployment's first streams belong to; the unscoped routes address it."""

REGISTRY_VENUE: Final = "registry"
"""Whose streams the venue registry's are (slug claims); refused as a venue id."""

VENUE: Final = "venue"
SLUG_PREFIX: Final = "slug-"
_MAX_ID = 200
TABLE_PREFIX: Final = "table-"
BOOKING_PREFIX: Final = "booking-"
PACING_PREFIX: Final = "pacing@"
WAITLIST_PREFIX: Final = "waitlist@"
PERSON_PREFIX: Final = "person-"
_SEPARATOR: Final = "/"


def _checked(entity_id: str) -> str:
    if not entity_id or len(entity_id) > _MAX_ID or "@" in entity_id or _SEPARATOR in entity_id:
        raise InvalidId(entity_id)
    return entity_id


def venue_of(stream_id: str) -> str:
    """The venue a stream belongs to."""
    venue_id, separator, _ = stream_id.partition(_SEPARATOR)
    return venue_id if separator else DEFAULT_VENUE_ID


def local_name(stream_id: str) -> str:
    """A stream id without its venue: `venue`, `table-{id}`, `booking-{id}`…"""
    _, separator, rest = stream_id.partition(_SEPARATOR)
    return rest if separator else stream_id


@dataclass(frozen=True, slots=True)
class VenueStreams:
    """The names of one venue's streams."""

    venue_id: str
    _prefix: str

    @property
    def venue(self) -> str:
        return f"{self._prefix}{VENUE}"

    def table(self, table_id: str) -> str:
        return f"{self._prefix}{TABLE_PREFIX}{_checked(table_id)}"

    def service_day(self, table_id: str, service_date: date) -> str:
        return f"{self._prefix}{TABLE_PREFIX}{_checked(table_id)}@{service_date.isoformat()}"

    def booking(self, booking_id: str) -> str:
        return f"{self._prefix}{BOOKING_PREFIX}{_checked(booking_id)}"

    def pacing(self, service_date: date) -> str:
        return f"{self._prefix}{PACING_PREFIX}{service_date.isoformat()}"

    def waitlist(self, service_date: date) -> str:
        return f"{self._prefix}{WAITLIST_PREFIX}{service_date.isoformat()}"

    def person(self, person: str) -> str:
        """The guest profile's stream: tags, notes, merges and the erasure of `person`."""
        return f"{self._prefix}{PERSON_PREFIX}{_checked(person)}"

    def owns(self, stream_id: str) -> bool:
        return venue_of(stream_id) == self.venue_id


@lru_cache(maxsize=4096)
def streams_of(venue_id: str) -> VenueStreams:
    """The stream names of `venue_id` (refused with `InvalidId` if it cannot be one)."""
    if venue_id == DEFAULT_VENUE_ID:
        return VenueStreams(venue_id, "")
    if venue_id == REGISTRY_VENUE:
        raise InvalidId(venue_id)
    return VenueStreams(_checked(venue_id), f"{venue_id}{_SEPARATOR}")


def slug_stream(slug: str) -> str:
    """The stream that records who holds `slug`: `registry/slug-{slug}`."""
    return f"{REGISTRY_VENUE}{_SEPARATOR}{SLUG_PREFIX}{_checked(slug)}"


def is_registry_stream(stream_id: str) -> bool:
    return venue_of(stream_id) == REGISTRY_VENUE


DEFAULT_STREAMS: Final = streams_of(DEFAULT_VENUE_ID)


def parse_service_day_stream(stream_id: str) -> tuple[str, date] | None:
    """`(table_id, service_date)` of a service-day stream id (of any venue); None for any
    other id."""
    name = local_name(stream_id)
    if not name.startswith(TABLE_PREFIX) or "@" not in name:
        return None
    table_id, _, day = name[len(TABLE_PREFIX) :].rpartition("@")
    try:
        return table_id, date.fromisoformat(day)
    except ValueError:
        return None


def neighbouring_days(service_date: date) -> tuple[date, date, date]:
    """The service dates whose bookings can overlap one of `service_date` in time."""
    one = timedelta(days=1)
    return service_date - one, service_date, service_date + one
