"""The layout of the bookings read model, shared by its projection and its queries.

One table, `rm_bookings`, one row per booking in its current state, with the venue whose
streams it lives in (`venue_id`; booking ids are made unique across venues). `BookingRow` is the
row: its fields are the table's columns, in the table's order, and `COLUMNS` is read from
it, so the projection that writes a row and the queries that read one name the same
columns by construction. `person` names whose personal data the guest's fields are
(`PERSONAL_COLUMNS`), for erasure. The table also has `search`, a stored column PostgreSQL
generates from the guest's name, phone and email; nothing writes it.

The migration that made the table keeps its own literal SQL (migrations are history);
a test compares `COLUMNS` with the migrated table, so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

__all__ = [
    "COLUMNS",
    "COLUMN_TYPES",
    "GENERATED_COLUMNS",
    "NAME",
    "PERSONAL_COLUMNS",
    "STAGE",
    "TABLE",
    "BookingRow",
]

NAME = "bookings"
TABLE = "rm_bookings"
STAGE = "rm_bookings_stage"
"""The session-local table a batch is copied into before one upsert into `TABLE`."""


@dataclass(frozen=True, slots=True)
class BookingRow:
    id: str
    venue_id: str
    table_ids: list[str]
    service_date: dt.date
    date: dt.date
    time: dt.time
    end_time: dt.time
    starts_at: dt.datetime
    ends_at: dt.datetime
    party_size: int
    duration_minutes: int
    guest_name: str
    guest_phone: str | None
    guest_email: str | None
    special_requests: str | None
    status: str
    user_id: str | None
    source: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    person: str | None
    """The guest's person id (`gst_…`, `booking_core.domain.personal`): what a
    `PersonErased` finds the row by to scrub `PERSONAL_COLUMNS`."""

    @property
    def seated_at(self) -> dt.datetime | None:
        """When a seated party sat down: nothing changes a seated booking but its
        completion, so its `updated_at` is the instant of `BookingSeated`."""
        return self.updated_at if self.status == "seated" else None


COLUMNS: tuple[str, ...] = tuple(field.name for field in fields(BookingRow))
"""The columns a row is written and read with, `id` (the key) first."""
PERSONAL_COLUMNS = ("guest_name", "guest_phone", "guest_email", "special_requests")
"""The guest's personal data: on `PersonErased` they become what the store reads them as
once the person's key is gone (`projectors.erasure`); `search` follows by itself."""
GENERATED_COLUMNS = ("search",)
"""Columns PostgreSQL computes; read in filters, never written."""

_NOT_TEXT = {
    "table_ids": "text[]",
    "service_date": "date",
    "date": "date",
    "time": "time",
    "end_time": "time",
    "starts_at": "timestamptz",
    "ends_at": "timestamptz",
    "party_size": "int4",
    "duration_minutes": "int4",
    "version": "int4",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
}
COLUMN_TYPES: tuple[str, ...] = tuple(_NOT_TEXT.get(column, "text") for column in COLUMNS)
"""Each column's PostgreSQL type, in `COLUMNS` order (a binary COPY needs them)."""
