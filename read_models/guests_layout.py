"""The layout of the guest profiles read model, shared by its projection and its queries.

Two tables, keyed by venue (a person is one venue's guest; no row is ever shared):

- `rm_guests`, one row per person the venue's events name: the latest name their
  bookings gave, every phone and email seen (normalised, distinct, sorted), the tags and
  notes staff set, `merged_into` (the kept profile, once merged: always a profile that is
  itself not merged), and `version`, the version of the profile's own stream
  (`person-{id}`) the row last applied (0 while the stream is empty: the `ETag`).
  `name_at` is when the name was given (a booking's `placed_at`/`changed_at`), to pick
  the latest of a merged group. After the person is erased: `name` reads `ERASED`
  (NULL stays NULL), phones and emails are empty, notes NULL — what their events read
  as once the key is gone.
- `rm_guest_bookings`, one row per booking that names a person: its service date,
  start, party size and status, from which visits, covers, no-shows, cancellations and
  the first and last visit are counted when read.

The rows are the columns in the tables' order (`GuestRow`, `GuestBookingRow`); the
migration keeps its literal SQL and a test compares the two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

__all__ = [
    "ALL_TABLES",
    "BOOKINGS",
    "BOOKING_COLUMNS",
    "COLUMNS",
    "GUESTS",
    "NAME",
    "GuestBookingRow",
    "GuestRow",
]

NAME = "guests"
GUESTS = "rm_guests"
BOOKINGS = "rm_guest_bookings"
ALL_TABLES = (GUESTS, BOOKINGS)


@dataclass(frozen=True, slots=True)
class GuestRow:
    venue_id: str
    id: str
    name: str | None
    name_at: dt.datetime | None
    phones: list[str]
    emails: list[str]
    tags: list[str]
    notes: str | None
    merged_into: str | None
    version: int


@dataclass(frozen=True, slots=True)
class GuestBookingRow:
    venue_id: str
    booking_id: str
    guest_id: str
    service_date: dt.date
    starts_at: dt.datetime
    party_size: int
    status: str


COLUMNS: tuple[str, ...] = tuple(field.name for field in fields(GuestRow))
BOOKING_COLUMNS: tuple[str, ...] = tuple(field.name for field in fields(GuestBookingRow))
