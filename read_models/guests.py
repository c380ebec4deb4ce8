"""Queries on a venue's guest profiles (the `guests` projection writes them,
`read_models.guests_layout` names them).

A profile is read as its group: the profile itself and every profile merged into it.
The group's name is the latest one its members' bookings gave that is not erased
(`ERASED` when there is none left), its phones and emails every member's, its counts
every member's bookings':

- `visits`: bookings seated or completed (a party at the table now is visiting);
- `covers`: the party sizes of those visits;
- `no_shows`, `cancellations`: bookings marked so;
- `first_visit`, `last_visit`: the service dates of the first and last visit.

Tags, notes and the version (`ETag`) are the kept profile's own. A merged profile's id
reads as the profile it was merged into (`resolve`). Every query names the venue: a
profile of another venue is not found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from psycopg import AsyncCursor, sql
from psycopg_pool import AsyncConnectionPool

from booking_core.domain.personal import ERASED
from read_models import guests_layout

__all__ = [
    "BOOKINGS_SHOWN",
    "GuestBooking",
    "GuestProfile",
    "bookings_of",
    "group_of",
    "of_booking",
    "profiles",
    "resolve",
    "search",
]

BOOKINGS_SHOWN: Final = 50
"""How many of a guest's bookings a profile lists, newest first."""

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class GuestProfile:
    id: str
    name: str
    phones: list[str]
    emails: list[str]
    visits: int
    covers: int
    no_shows: int
    cancellations: int
    first_visit: dt.date | None
    last_visit: dt.date | None
    tags: list[str]
    notes: str | None
    merged: list[str]
    """The profiles merged into this one."""
    version: int


@dataclass(frozen=True, slots=True)
class GuestBooking:
    booking_id: str
    service_date: dt.date
    starts_at: dt.datetime
    party_size: int
    status: str


def _tables() -> dict[str, sql.Identifier]:
    return {
        "g": sql.Identifier(guests_layout.GUESTS),
        "b": sql.Identifier(guests_layout.BOOKINGS),
    }


async def _fetch(
    cursor: AsyncCursor[Any], query: str, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    await cursor.execute(sql.SQL(query).format(**_tables()), params)
    return await cursor.fetchall()


async def resolve(pool: AsyncConnectionPool[Any], venue_id: str, guest_id: str) -> str | None:
    """The profile `guest_id` reads as at the venue: itself, or the one it was merged
    into; None when the venue has no such profile."""
    async with pool.connection() as connection, connection.cursor() as cursor:
        rows = await _fetch(
            cursor,
            "SELECT coalesce(merged_into, id) FROM {g} WHERE venue_id = %(venue)s AND id = %(id)s",
            {"venue": venue_id, "id": guest_id},
        )
    return str(rows[0][0]) if rows else None


async def group_of(pool: AsyncConnectionPool[Any], venue_id: str, guest_id: str) -> list[str]:
    """Every profile id of `guest_id`'s group (the kept one first, then those merged into
    it): all of them are the one guest, to erase together."""
    root = await resolve(pool, venue_id, guest_id)
    if root is None:
        return []
    async with pool.connection() as connection, connection.cursor() as cursor:
        rows = await _fetch(
            cursor,
            "SELECT id FROM {g} WHERE venue_id = %(venue)s AND merged_into = %(root)s ORDER BY id",
            {"venue": venue_id, "root": root},
        )
    return [root, *(str(row[0]) for row in rows)]


async def of_booking(pool: AsyncConnectionPool[Any], venue_id: str, booking_id: str) -> str | None:
    """The profile a booking of the venue counts towards (None for a booking that names
    no person, or none of the venue's)."""
    async with pool.connection() as connection, connection.cursor() as cursor:
        rows = await _fetch(
            cursor,
            "SELECT coalesce(g.merged_into, g.id) FROM {b} b"
            " JOIN {g} g ON g.venue_id = b.venue_id AND g.id = b.guest_id"
            " WHERE b.venue_id = %(venue)s AND b.booking_id = %(booking)s",
            {"venue": venue_id, "booking": booking_id},
        )
    return str(rows[0][0]) if rows else None


_MEMBERS = """
SELECT coalesce(merged_into, id), id, name, name_at, phones, emails, tags, notes, version
FROM {g} WHERE venue_id = %(venue)s AND coalesce(merged_into, id) = ANY(%(roots)s)
"""

_COUNTS = """
SELECT coalesce(g.merged_into, g.id),
    count(*) FILTER (WHERE b.status IN ('seated', 'completed')),
    coalesce(sum(b.party_size) FILTER (WHERE b.status IN ('seated', 'completed')), 0),
    count(*) FILTER (WHERE b.status = 'no_show'),
    count(*) FILTER (WHERE b.status = 'cancelled'),
    min(b.service_date) FILTER (WHERE b.status IN ('seated', 'completed')),
    max(b.service_date) FILTER (WHERE b.status IN ('seated', 'completed'))
FROM {b} b JOIN {g} g ON g.venue_id = b.venue_id AND g.id = b.guest_id
WHERE b.venue_id = %(venue)s AND coalesce(g.merged_into, g.id) = ANY(%(roots)s)
GROUP BY 1
"""


async def profiles(
    pool: AsyncConnectionPool[Any], venue_id: str, roots: Sequence[str]
) -> dict[str, GuestProfile]:
    """The profiles (kept ones' ids) found at the venue, with their groups folded in."""
    params = {"venue": venue_id, "roots": list(roots)}
    async with pool.connection() as connection, connection.cursor() as cursor:
        members = await _fetch(cursor, _MEMBERS, params)
        counts = {row[0]: row[1:] for row in await _fetch(cursor, _COUNTS, params)}
    groups: dict[str, list[tuple[Any, ...]]] = {}
    for row in members:
        groups.setdefault(row[0], []).append(row)
    return {
        root: _profile(root, rows, counts.get(root, (0, 0, 0, 0, None, None)))
        for root, rows in groups.items()
        if any(row[1] == root for row in rows)
    }


def _profile(root: str, rows: list[tuple[Any, ...]], counts: Sequence[Any]) -> GuestProfile:
    own = next(row for row in rows if row[1] == root)
    named = sorted(
        (row for row in rows if row[2] is not None and row[2] != ERASED),
        key=lambda row: (row[3] or _EPOCH, row[1]),
    )
    anyone_named = any(row[2] is not None for row in rows)
    visits, covers, no_shows, cancellations, first_visit, last_visit = counts
    return GuestProfile(
        id=root,
        name=named[-1][2] if named else (ERASED if anyone_named else ""),
        phones=sorted({phone for row in rows for phone in row[4]}),
        emails=sorted({email for row in rows for email in row[5]}),
        visits=int(visits),
        covers=int(covers),
        no_shows=int(no_shows),
        cancellations=int(cancellations),
        first_visit=first_visit,
        last_visit=last_visit,
        tags=list(own[6]),
        notes=own[7],
        merged=sorted(row[1] for row in rows if row[1] != root),
        version=int(own[8]),
    )


_BOOKINGS = """
SELECT b.booking_id, b.service_date, b.starts_at, b.party_size, b.status
FROM {b} b JOIN {g} g ON g.venue_id = b.venue_id AND g.id = b.guest_id
WHERE b.venue_id = %(venue)s AND coalesce(g.merged_into, g.id) = %(root)s
ORDER BY b.starts_at DESC, b.booking_id DESC
LIMIT %(limit)s
"""


async def bookings_of(
    pool: AsyncConnectionPool[Any], venue_id: str, root: str, limit: int = BOOKINGS_SHOWN
) -> list[GuestBooking]:
    """The group's bookings, newest start first, at most `limit`."""
    async with pool.connection() as connection, connection.cursor() as cursor:
        rows = await _fetch(cursor, _BOOKINGS, {"venue": venue_id, "root": root, "limit": limit})
    return [GuestBooking(*row) for row in rows]


_SEARCH = r"""
WITH members AS (
    SELECT coalesce(merged_into, id) AS root, name, name_at, phones, emails
    FROM {g} WHERE venue_id = %(venue)s
), hits AS (
    SELECT DISTINCT root FROM members
    WHERE %(everyone)s
       OR name ILIKE %(like)s ESCAPE '\'
       OR array_to_string(emails, ' ') ILIKE %(like)s ESCAPE '\'
       OR (%(digits)s <> '' AND array_to_string(phones, ' ') LIKE %(digits_like)s)
), found AS (
    SELECT m.root, coalesce(max(m.name_at), %(epoch)s) AS seen_at
    FROM members m JOIN hits h ON h.root = m.root
    GROUP BY m.root
)
SELECT root, seen_at FROM found
WHERE %(after_at)s::timestamptz IS NULL OR (seen_at, root) < (%(after_at)s, %(after_id)s::text)
ORDER BY seen_at DESC, root DESC
LIMIT %(limit)s
"""

_MIN_DIGITS: Final = 3


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search(
    pool: AsyncConnectionPool[Any],
    venue_id: str,
    q: str,
    *,
    limit: int,
    after: tuple[dt.datetime, str] | None = None,
) -> tuple[list[GuestProfile], tuple[dt.datetime, str] | None]:
    """The venue's profiles whose group matches `q` (any part of a name or an email, in
    any case; or, with 3 digits or more, any run of a phone number's digits; everyone for
    a blank `q`), the most recently seen first, and where the next page starts."""
    text = q.strip()
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    params = {
        "venue": venue_id,
        "everyone": not text,
        "like": _like(text),
        "digits": digits if len(digits) >= _MIN_DIGITS else "",
        "digits_like": f"%{digits}%",
        "epoch": _EPOCH,
        "after_at": after[0] if after else None,
        "after_id": after[1] if after else None,
        "limit": limit + 1,
    }
    async with pool.connection() as connection, connection.cursor() as cursor:
        rows = await _fetch(cursor, _SEARCH, params)
    page = rows[:limit]
    found = await profiles(pool, venue_id, [row[0] for row in page])
    items = [found[row[0]] for row in page if row[0] in found]
    last = (page[-1][1], str(page[-1][0])) if len(rows) > limit else None
    return items, last
