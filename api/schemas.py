"""Shapes shared by several routes: local times, bookings, pages, paging parameters.

Request bodies refuse unknown fields; strings and numbers carry bounds, so absurd input
is a 4xx before any command is built. Times on the wire are venue-local `HH:MM`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from litestar.exceptions import HTTPException
from litestar.params import QueryParameter

from booking_core.domain.booking import ExistingBooking, Seated
from booking_core.domain.errors import InvalidBooking
from read_models.bookings import BookingRow

__all__ = [
    "BookingOut",
    "BookingPage",
    "BookingStatus",
    "CursorParam",
    "Email",
    "FromDateParam",
    "GuestName",
    "LimitParam",
    "LocalTime",
    "OverrideIn",
    "PartySize",
    "Phone",
    "TableRef",
    "TableRefs",
    "Text",
    "ToDateParam",
    "booking_from_row",
    "booking_from_state",
    "hhmm",
    "named_tables",
    "override_reason",
    "parse_time",
]

LocalTime = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Venue-local time, HH:MM",
        examples=["19:30"],
    ),
]
GuestName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Phone = Annotated[str, msgspec.Meta(min_length=3, max_length=32, pattern=r"^\+?[0-9 ()./-]+$")]
Email = Annotated[
    str, msgspec.Meta(max_length=320, pattern=r"^[^@ \t\r\n]+@[^@ \t\r\n]+\.[^@ \t\r\n]+$")
]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
PartySize = Annotated[int, msgspec.Meta(ge=1, le=100, description="Guests in the party")]
TableRef = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
TableRefs = Annotated[
    list[str],
    msgspec.Meta(
        max_length=20,
        description="The tables the party sits at together (a table combination, or tables"
        " staff join), each id 1 to 200 characters; `table_id`, when also given, must be"
        " the first of them",
    ),
]
# Items are checked in `named_tables`: the schema would not show a bound on them.


def named_tables(
    table_id: str | msgspec.UnsetType | None, table_ids: list[str] | msgspec.UnsetType | None
) -> tuple[str, ...]:
    """The tables a booking names, by `table_id` or `table_ids`; () for none."""
    listed = tuple(table_ids) if isinstance(table_ids, list) else ()
    if any(not 1 <= len(named) <= 200 for named in listed):
        raise InvalidBooking("table_ids", "each table id is 1 to 200 characters")
    if not isinstance(table_id, str):
        return listed
    if listed and listed[0] != table_id:
        raise InvalidBooking("table_ids", "must start with table_id when both are given")
    return listed or (table_id,)


BookingStatus = Literal["confirmed", "cancelled", "seated", "completed", "no_show"]

LimitParam = Annotated[int, QueryParameter(ge=1, le=500, description="Items per page (1-500)")]
CursorParam = Annotated[
    str | None,
    QueryParameter(
        max_length=500,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="`next_cursor` of the previous page",
    ),
]
FromDateParam = Annotated[
    dt.date | None, QueryParameter(name="from", description="First service date, YYYY-MM-DD")
]
ToDateParam = Annotated[
    dt.date | None, QueryParameter(name="to", description="Last service date, YYYY-MM-DD")
]


class OverrideIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Staff setting a venue rule aside for this one request, and why. The booking's
    history keeps the reason and who gave it. A blank reason is refused (422)."""

    reason: Annotated[
        str,
        msgspec.Meta(
            max_length=500,
            description="Why the rule is set aside, in a few words",
            examples=["Regulars; the chef agreed to a late table"],
        ),
    ] = ""


def override_reason(override: OverrideIn | None) -> str | None:
    """The reason a command carries: None when no override was asked for."""
    return None if override is None else override.reason


def parse_time(value: str, field: str = "time") -> dt.time:
    try:
        parsed = dt.time.fromisoformat(value)
    except ValueError:
        raise HTTPException(status_code=400, detail=f"{field}: expected HH:MM") from None
    if len(value) != 5:
        raise HTTPException(status_code=400, detail=f"{field}: expected HH:MM")
    return parsed


def hhmm(value: dt.time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


class BookingOut(msgspec.Struct, frozen=True):
    id: str
    venue_id: str
    table_id: str | None
    table_ids: list[str]
    date: dt.date
    time: str
    end_time: str
    duration_minutes: int
    party_size: int
    guest_name: str
    guest_phone: str | None
    guest_email: str | None
    special_requests: str | None
    status: BookingStatus
    source: str
    user_id: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    seated_at: dt.datetime | None = None
    """While the party is seated: when it sat down."""


class BookingPage(msgspec.Struct, frozen=True):
    items: list[BookingOut]
    next_cursor: str | None = msgspec.field(default=None)


def booking_from_state(venue_id: str, state: ExistingBooking, version: int) -> BookingOut:
    details = state.details
    slot = details.slot
    status: Any = state.status
    return BookingOut(
        id=details.booking_id,
        venue_id=venue_id,
        table_id=details.table_ids[0] if details.table_ids else None,
        table_ids=list(details.table_ids),
        date=slot.date,
        time=hhmm(slot.time),
        end_time=hhmm(slot.end_time),
        duration_minutes=slot.duration_minutes,
        party_size=details.party_size,
        guest_name=details.guest_name,
        guest_phone=details.guest_phone,
        guest_email=details.guest_email,
        special_requests=details.special_requests,
        status=status,
        source=details.source,
        user_id=details.user_id,
        version=version,
        created_at=details.placed_at,
        updated_at=details.updated_at,
        seated_at=state.seated_at if isinstance(state, Seated) else None,
    )


def booking_from_row(row: BookingRow) -> BookingOut:
    status: Any = row.status
    return BookingOut(
        id=row.id,
        venue_id=row.venue_id,
        table_id=row.table_ids[0] if row.table_ids else None,
        table_ids=list(row.table_ids),
        date=row.date,
        time=hhmm(row.time),
        end_time=hhmm(row.end_time),
        duration_minutes=row.duration_minutes,
        party_size=row.party_size,
        guest_name=row.guest_name,
        guest_phone=row.guest_phone,
        guest_email=row.guest_email,
        special_requests=row.special_requests,
        status=status,
        source=row.source,
        user_id=row.user_id,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        seated_at=row.seated_at,
    )
