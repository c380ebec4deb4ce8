"""The layout of the waitlist read model, shared by its projection and its queries.

One table, `rm_waitlist`, one row per waitlist entry ever added, keyed by its venue and
id: the party, the guest's name, phone and notes (staff only: no public route reads
them), the quote it was given, the SHA-256 of its follow-along token, and where it
stands: `waiting` (notified or not), `seated` (with the booking, tables and actual
wait) or `removed` (with the reason). `added_version` is the version of the day's
waitlist stream the entry was added at (the line's order); `version` the one the row
last changed at; `person` the guest's person id, by which an erasure scrubs
`PERSONAL_COLUMNS`.

`WaitlistRow` is the row: its fields are the columns in the table's order, and `COLUMNS`
is read from it. The migration keeps its literal SQL; a test compares the two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

__all__ = ["ALL_TABLES", "COLUMNS", "NAME", "PERSONAL_COLUMNS", "TABLE", "WaitlistRow"]

NAME = "waitlist"
TABLE = "rm_waitlist"
ALL_TABLES = (TABLE,)


@dataclass(frozen=True, slots=True)
class WaitlistRow:
    id: str
    venue_id: str
    service_date: dt.date
    party_size: int
    guest_name: str
    guest_phone: str | None
    notes: str | None
    quoted_wait_minutes: int | None
    token_hash: str
    status: str
    added_at: dt.datetime
    added_version: int
    notified_at: dt.datetime | None
    times_notified: int
    seated_at: dt.datetime | None
    booking_id: str | None
    table_ids: list[str] | None
    waited_minutes: int | None
    removed_at: dt.datetime | None
    removed_reason: str | None
    version: int
    updated_at: dt.datetime
    person: str | None
    """The guest's person id (`gst_…`): what a `PersonErased` finds the row by."""


COLUMNS: tuple[str, ...] = tuple(field.name for field in fields(WaitlistRow))
"""The columns a row is read with, `id` first."""
PERSONAL_COLUMNS = ("guest_name", "guest_phone", "notes")
"""The guest's personal data, scrubbed to its erased values on `PersonErased`."""
