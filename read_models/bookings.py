"""Queries on the bookings read model (layout in `bookings_layout`): one booking, and
pages of them.

Pages are keyset-paginated on `(starts_at, id)`: a page never skips or repeats a booking
while others are written, and every page costs one index range scan.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from read_models.bookings_layout import COLUMNS, TABLE, BookingRow

__all__ = ["BookingFilter", "BookingRow", "booking", "bookings_page", "seated_at_instant"]

_COLUMNS = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))


@dataclass(frozen=True, slots=True)
class BookingFilter:
    """Every field narrows the page; `service_date`, `from_date` and `to_date` are
    service dates (a booking after midnight belongs to the evening it started in)."""

    venue_id: str
    user_id: str | None = None
    service_date: dt.date | None = None
    from_date: dt.date | None = None
    to_date: dt.date | None = None
    status: str | None = None
    table_id: str | None = None
    q: str | None = None
    """Part of the guest's name, phone or email, any case; a phone's digits match however
    the phone was written."""


async def booking(
    pool: AsyncConnectionPool[Any], venue_id: str, booking_id: str
) -> BookingRow | None:
    """The booking, if it is one of `venue_id`'s."""
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            sql.SQL("SELECT {} FROM {} WHERE id = %s AND venue_id = %s").format(
                _COLUMNS, sql.Identifier(TABLE)
            ),
            (booking_id, venue_id),
        )
        row = await cur.fetchone()
    return BookingRow(**row) if row else None


async def seated_at_instant(
    pool: AsyncConnectionPool[Any], venue_id: str, service_date: dt.date, now: dt.datetime
) -> int:
    """The parties sitting at their tables at the instant `now`, on the venue's date
    `service_date`: seated by then (a seated row's `updated_at` is its seating, see
    `BookingRow.seated_at`) and not yet completed or a no-show, of that service date or
    of the evening before (a shift past midnight: at 00:30 the 22:00 table is still
    tonight's). A party seated early for a later date is not counted. `now` is the
    caller's: the projection has no clock."""
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute(
            sql.SQL(
                "SELECT count(*)::int FROM {} WHERE venue_id = %s"
                " AND service_date BETWEEN %s AND %s"
                " AND status = 'seated' AND updated_at <= %s"
            ).format(sql.Identifier(TABLE)),
            (venue_id, service_date - dt.timedelta(days=1), service_date, now),
        )
        row = await cur.fetchone()
    return int(row[0]) if row else 0


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_PHONE_LIKE = re.compile(r"^[0-9 ()./+-]+$")
_FEWEST_DIGITS = 3


def _phone_digits(q: str) -> str | None:
    """The digits of a search that reads as (part of) a phone number, so that "79460303"
    finds "+44 20 7946 0303": phones are kept as the guest wrote them."""
    if not _PHONE_LIKE.match(q):
        return None
    digits = re.sub(r"[^0-9]", "", q)
    return digits if len(digits) >= _FEWEST_DIGITS else None


def _where(
    where: BookingFilter, after: tuple[dt.datetime, str] | None
) -> tuple[sql.Composable, list[Any]]:
    clauses: list[sql.Composable] = []
    params: list[Any] = []

    def add(clause: str, *values: Any) -> None:
        clauses.append(sql.SQL(clause))
        params.extend(values)

    add("venue_id = %s", where.venue_id)
    if where.user_id is not None:
        add("user_id = %s", where.user_id)
    if where.service_date is not None:
        add("service_date = %s", where.service_date)
    if where.from_date is not None:
        add("service_date >= %s", where.from_date)
    if where.to_date is not None:
        add("service_date <= %s", where.to_date)
    if where.status is not None:
        add("status = %s", where.status)
    if where.table_id is not None:
        add("table_ids @> ARRAY[%s]::text[]", where.table_id)
    if where.q:
        digits = _phone_digits(where.q)
        if digits is None:
            add("search LIKE %s", _like(where.q))
        else:
            add(
                "(search LIKE %s OR regexp_replace(coalesce(guest_phone, ''), '[^0-9]', '', 'g')"
                " LIKE %s)",
                _like(where.q),
                f"%{digits}%",
            )
    if after is not None:
        add("(starts_at, id) > (%s, %s)", *after)
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses), params


async def bookings_page(
    pool: AsyncConnectionPool[Any],
    where: BookingFilter,
    *,
    limit: int,
    after: tuple[dt.datetime, str] | None = None,
) -> tuple[list[BookingRow], tuple[dt.datetime, str] | None]:
    """Up to `limit` bookings in start order after the cursor, and the next cursor."""
    clause, params = _where(where, after)
    query = sql.SQL("SELECT {} FROM {} {} ORDER BY starts_at, id LIMIT %s").format(
        _COLUMNS, sql.Identifier(TABLE), clause
    )
    async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, [*params, limit + 1])
        rows = [BookingRow(**row) for row in await cur.fetchall()]
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], (last.starts_at, last.id)
