"""Stream ids: the consistency boundaries of the domain.

- `venue`: opening hours, slot settings, closures, layouts and the list of tables;
- `table-{id}`: one table's attributes, its blocks, its retirement;
- `table-{id}@{service_date}`: that table's reservations and blocks on one service day,
  where double bookings are prevented;
- `booking-{id}`: one booking's life and its guest's details.

Ids are 1 to 200 characters without `@` (so a service-day stream id can always be split
back); any other id is refused with `InvalidId`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from booking_core.domain.errors import InvalidId

__all__ = [
    "BOOKING_PREFIX",
    "TABLE_PREFIX",
    "VENUE",
    "booking_stream",
    "neighbouring_days",
    "parse_service_day_stream",
    "service_day_stream",
    "table_stream",
]

VENUE: Final = "venue"
_MAX_ID = 200
TABLE_PREFIX: Final = "table-"
BOOKING_PREFIX: Final = "booking-"


def _checked(entity_id: str) -> str:
    if not entity_id or len(entity_id) > _MAX_ID or "@" in entity_id:
        raise InvalidId(entity_id)
    return entity_id


def table_stream(table_id: str) -> str:
    return f"{TABLE_PREFIX}{_checked(table_id)}"


def service_day_stream(table_id: str, service_date: date) -> str:
    return f"{TABLE_PREFIX}{_checked(table_id)}@{service_date.isoformat()}"


def booking_stream(booking_id: str) -> str:
    return f"{BOOKING_PREFIX}{_checked(booking_id)}"


def parse_service_day_stream(stream_id: str) -> tuple[str, date] | None:
    """`(table_id, service_date)` of a service-day stream id; None for any other id."""
    if not stream_id.startswith(TABLE_PREFIX) or "@" not in stream_id:
        return None
    table_id, _, day = stream_id[len(TABLE_PREFIX) :].rpartition("@")
    try:
        return table_id, date.fromisoformat(day)
    except ValueError:
        return None


def neighbouring_days(service_date: date) -> tuple[date, date, date]:
    """The service dates whose bookings can overlap one of `service_date` in time."""
    one = timedelta(days=1)
    return service_date - one, service_date, service_date + one
