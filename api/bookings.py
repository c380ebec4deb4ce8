"""Guests' routes: free tables and start times, and their own bookings.

Writes are commands decided against the event store; the response is built from the
state the command produced, so it never waits for a projection. Reads come from the read
models (Redis for availability, SQL for bookings) and honour `X-Consistency-Token`.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.accounts import User
from api.context import (
    CONSISTENCY_HEADER,
    Api,
    ApiDep,
    UserDep,
    WriteContext,
    Written,
    actor_of,
    bad_cursor,
    cursor_decode,
    cursor_encode,
    json_body,
)
from api.refused import Refused
from api.schemas import (
    BookingOut,
    BookingPage,
    BookingStatus,
    CursorParam,
    Email,
    GuestName,
    LimitParam,
    LocalTime,
    PartySize,
    Phone,
    Text,
    booking_from_row,
    booking_from_state,
    hhmm,
    parse_time,
)
from booking_core.domain.booking import NoBooking
from booking_core.domain.commands import UNSET, BookTable, CancelBooking, ChangeBooking
from booking_core.domain.errors import BookingNotFound
from booking_core.handlers import BookingResult, book_table, cancel_booking, change_booking
from read_models.as_of import booking_as_of, booking_history
from read_models.availability import (
    TableAvailability,
    TablesAt,
    holds_until,
    slots_in,
    tables_in,
)
from read_models.bookings import BookingFilter, booking, bookings_page

__all__ = [
    "AvailabilityController",
    "BookingsController",
    "HistoryEntryOut",
    "TablesAtOut",
    "booking_page",
    "check_date",
    "history_of",
    "tables_out",
    "tagged",
    "visible_booking",
    "written_booking",
]

AUTH: list[dict[str, list[str]]] = [{"BearerAuth": []}]
DateParam = Annotated[dt.date, QueryParameter(description="Venue-local date, YYYY-MM-DD")]
_MIN_DATE = dt.date(2000, 1, 1)
_MAX_DATE = dt.date(2199, 12, 31)


def check_date(value: dt.date, field: str = "date") -> dt.date:
    """A date the book can hold; anything else is well-formed but absurd: 422."""
    if not _MIN_DATE <= value <= _MAX_DATE:
        raise Refused(422, f"{field}: must be between 2000 and 2199", "date-out-of-range")
    return value


# --- availability -----------------------------------------------------------------------


class TablesAtOut(msgspec.Struct, frozen=True):
    date: dt.date
    time: str
    end_time: str
    party_size: int
    duration_minutes: int
    tables: list[TableAvailability]


_json = msgspec.json.Encoder().encode


class SlotOut(msgspec.Struct, frozen=True):
    time: str
    tables_available: Annotated[
        int, msgspec.Meta(description="Tables that fit the party and are free then (1 or more)")
    ]
    date: Annotated[
        dt.date,
        msgspec.Meta(
            description="The start's calendar date, the one to book it with: the asked date, "
            "or the next one for a start after midnight in a shift that runs past it"
        ),
    ]


@functools.lru_cache(maxsize=8192)
def _slot_out(day: dt.date, at: dt.time, tables_available: int) -> SlotOut:
    """Slots repeat from read to read (a day has at most 96 starts): made once each."""
    return SlotOut(time=hhmm(at), tables_available=tables_available, date=day)


class SlotsOut(msgspec.Struct, frozen=True):
    date: dt.date
    party_size: int
    slots: list[SlotOut]


AVAILABILITY_STALENESS = 0.02
"""Seconds an availability read without `X-Consistency-Token` may trail the model: the
model's version is then checked at most this often per process, not on every read. A
read with the token always checks, after waiting for it."""


def _staleness(request: Request[Any, Any, Any]) -> float:
    return 0.0 if CONSISTENCY_HEADER in request.headers else AVAILABILITY_STALENESS


def tables_out(found: TablesAt) -> TablesAtOut:
    return TablesAtOut(
        date=found.date,
        time=hhmm(found.time),
        end_time=hhmm(found.end_time),
        party_size=found.party_size,
        duration_minutes=found.duration_minutes,
        tables=found.tables,
    )


class AvailabilityController(Controller):
    tags = ["availability"]
    security = []

    @get(
        "/api/v1/bookings/tables",
        summary="Every table's status for one start time",
        description="A table is `available` exactly when a booking of it at this start, "
        "made now, would be accepted (and `fits_party` says whether the party fits it). "
        "A start the booking rules refuse for now or for that day (in the past, inside "
        "the lead time, beyond the booking window, a closed day, outside opening hours, "
        "a turn that would run past closing) is `closed` for every table. A time that "
        "can never be booked is refused with the same 422 problem a booking of it gets: "
        "a wall-clock time the clocks skip that day in the venue's time zone "
        "(`.../problems/nonexistent-local-time`), or one off the slot grid counted from "
        "the shift's opening (`.../problems/off-slot-grid`).",
    )
    async def tables(
        self,
        api: ApiDep,
        request: Request[Any, Any, Any],
        date: DateParam,
        time: Annotated[str, QueryParameter(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")],
        party_size: Annotated[int, QueryParameter(ge=1, le=100)] = 2,
        duration_minutes: Annotated[int | None, QueryParameter(ge=15, le=720)] = None,
    ) -> Response[TablesAtOut]:
        await api.consistent(request, redis=("availability",))
        day, at = check_date(date), parse_time(time)
        snapshot = await api.availability(day, _staleness(request))
        now = dt.datetime.now(dt.UTC)

        def work() -> tuple[bytes, dt.datetime]:
            found = tables_in(
                snapshot,
                day=day,
                at=at,
                party_size=party_size,
                duration_minutes=duration_minutes,
                now=now,
            )
            return _json(tables_out(found)), holds_until(snapshot, now, [found.starts_at])

        key = ("tables", day, at, party_size, duration_minutes)
        return json_body(snapshot.remember(key, now, work))

    @get(
        "/api/v1/availability",
        summary="Every bookable start time of a day",
        description="`date` is a service date: a shift that runs past midnight lists its "
        "late starts here, each slot with the calendar `date` to book it with. A start "
        "is listed exactly when a booking of it for this party, made now, would be "
        "accepted for some table; `tables_available` counts the tables that fit the "
        "party and are free then.",
    )
    async def slots(
        self,
        api: ApiDep,
        request: Request[Any, Any, Any],
        date: DateParam,
        party_size: Annotated[int, QueryParameter(ge=1, le=100)],
    ) -> Response[SlotsOut]:
        await api.consistent(request, redis=("availability",))
        day = check_date(date)
        snapshot = await api.availability(day, _staleness(request))
        now = dt.datetime.now(dt.UTC)

        def work() -> tuple[bytes, dt.datetime]:
            found = slots_in(snapshot, day=day, party_size=party_size, now=now)
            minutes = snapshot.settings.turn_minutes(party_size)
            starts = (s.starts_at for s in snapshot.index.slots(day, minutes))
            out = SlotsOut(
                date=day,
                party_size=party_size,
                slots=[_slot_out(s.date, s.time, s.tables_available) for s in found],
            )
            return _json(out), holds_until(snapshot, now, starts)

        return json_body(snapshot.remember(("slots", day, party_size), now, work))


# --- bookings ---------------------------------------------------------------------------


class BookingCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    date: dt.date
    time: LocalTime
    party_size: PartySize
    guest_name: GuestName
    guest_phone: Phone | None = None
    guest_email: Email | None = None
    special_requests: Text | None = None
    table_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    duration_minutes: Annotated[int, msgspec.Meta(ge=15, le=720)] | None = msgspec.field(
        default=None
    )
    source: Annotated[str, msgspec.Meta(pattern=r"^(online|phone|walk_in)$")] | None = None


class BookingUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    date: dt.date | msgspec.UnsetType = UNSET
    time: LocalTime | msgspec.UnsetType = UNSET
    party_size: PartySize | msgspec.UnsetType = UNSET
    table_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | msgspec.UnsetType = UNSET
    guest_name: GuestName | msgspec.UnsetType = UNSET
    guest_phone: Phone | msgspec.UnsetType | None = UNSET
    guest_email: Email | msgspec.UnsetType | None = UNSET
    special_requests: Text | msgspec.UnsetType | None = UNSET
    duration_minutes: Annotated[int, msgspec.Meta(ge=15, le=720)] | msgspec.UnsetType = UNSET


def written_booking(result: BookingResult, status: int = 200) -> Written[BookingOut]:
    if isinstance(result.booking, NoBooking):
        raise AssertionError("a booking command answered without a booking")
    body = booking_from_state(result.booking, result.version)
    return Written(body, result.token, status, {"ETag": f'"{result.version}"'})


def tagged(booking: BookingOut) -> Response[BookingOut]:
    """A booking with its version as `ETag`, the value `If-Match` takes."""
    return Response(booking, headers={"ETag": f'"{booking.version}"'})


def _if_match(request: Request[Any, Any, Any]) -> int | None:
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise HTTPException(
            status_code=400, detail='If-Match: expected the booking\'s version, e.g. "3"'
        )
    return int(text)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def visible_booking(api: Api, user: User, booking_id: str) -> BookingOut:
    row = await booking(api.services.pool, booking_id)
    if row is None or (not user.is_admin and row.user_id != user.id):
        raise BookingNotFound(booking_id)
    return booking_from_row(row)


class BookingsController(Controller):
    path = "/api/v1/bookings"
    tags = ["bookings"]
    security = AUTH

    @post("/", status_code=201, summary="Book a table")
    async def create(
        self,
        api: ApiDep,
        user: UserDep,
        request: Request[Any, Any, Any],
        data: JSONBody[BookingCreate],
    ) -> Response[BookingOut]:
        at = parse_time(data.time)
        check_date(data.date)

        async def run(ctx: WriteContext) -> Written[BookingOut]:
            command = BookTable(
                command_id=ctx.command_id,
                actor=ctx.actor,
                now=_now(),
                booking_id=ctx.new_id("bkg"),
                date=data.date,
                time=at,
                party_size=data.party_size,
                guest_name=data.guest_name.strip(),
                guest_phone=data.guest_phone,
                guest_email=data.guest_email,
                special_requests=data.special_requests,
                table_ids=(data.table_id,) if data.table_id else (),
                duration_minutes=data.duration_minutes,
                source=data.source or "online",
            )
            result = await book_table(api.store, command, idempotency=ctx.idempotency)
            written = written_booking(result, 201)
            return Written(
                written.body,
                written.token,
                201,
                {**written.headers, "Location": f"/api/v1/bookings/{command.booking_id}"},
            )

        return await api.write(request, actor_of(user), run)

    @get("/my-bookings", summary="The signed-in user's bookings")
    async def mine(
        self,
        api: ApiDep,
        user: UserDep,
        request: Request[Any, Any, Any],
        status: FromQuery[BookingStatus | None] = None,
        from_date: Annotated[dt.date | None, QueryParameter(name="from")] = None,
        to_date: Annotated[dt.date | None, QueryParameter(name="to")] = None,
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> BookingPage:
        await api.consistent(request, sql=("bookings",))
        where = BookingFilter(user_id=user.id, status=status, from_date=from_date, to_date=to_date)
        return await booking_page(api, where, limit, cursor)

    @get(
        "/{booking_id:str}",
        summary="One booking (its guest or an admin)",
        description="`ETag` is the booking's version: send it back as `If-Match` on a "
        "change so that it only applies to the booking as read.",
    )
    async def read(
        self, api: ApiDep, user: UserDep, request: Request[Any, Any, Any], booking_id: FromPath[str]
    ) -> Response[BookingOut]:
        await api.consistent(request, sql=("bookings",))
        return tagged(await visible_booking(api, user, booking_id))

    @get(
        "/{booking_id:str}/history",
        summary="Every event of a booking: what changed, when, and by whom",
        description="Read from the event store, so it is complete the moment a write "
        "returns. `by` is the id of the user whose request caused the event.",
    )
    async def history(
        self, api: ApiDep, user: UserDep, booking_id: FromPath[str]
    ) -> list[HistoryEntryOut]:
        return await history_of(api, user, booking_id)

    @put("/{booking_id:str}", summary="Change a booking; re-decided like a new one")
    async def change(
        self,
        api: ApiDep,
        user: UserDep,
        request: Request[Any, Any, Any],
        booking_id: FromPath[str],
        data: JSONBody[BookingUpdate],
    ) -> Response[BookingOut]:
        expected = _if_match(request)
        at = parse_time(data.time) if isinstance(data.time, str) else UNSET
        if isinstance(data.date, dt.date):
            check_date(data.date)

        async def run(ctx: WriteContext) -> Written[BookingOut]:
            command = ChangeBooking(
                command_id=ctx.command_id,
                actor=ctx.actor,
                now=_now(),
                booking_id=booking_id,
                date=data.date,
                time=at,
                party_size=data.party_size,
                table_ids=(data.table_id,) if isinstance(data.table_id, str) else UNSET,
                duration_minutes=data.duration_minutes,
                guest_name=data.guest_name,
                guest_phone=data.guest_phone,
                guest_email=data.guest_email,
                special_requests=data.special_requests,
                expected_version=expected,
            )
            result = await change_booking(api.store, command, idempotency=ctx.idempotency)
            return written_booking(result)

        return await api.write(request, actor_of(user), run)

    @delete(
        "/{booking_id:str}",
        status_code=200,
        summary="Cancel a booking",
        description="The booking stays readable, with status `cancelled`; cancelling it again"
        " answers the same.",
    )
    async def cancel(
        self, api: ApiDep, user: UserDep, request: Request[Any, Any, Any], booking_id: FromPath[str]
    ) -> Response[BookingOut]:
        async def run(ctx: WriteContext) -> Written[BookingOut]:
            command = CancelBooking(
                command_id=ctx.command_id, actor=ctx.actor, now=_now(), booking_id=booking_id
            )
            result = await cancel_booking(api.store, command, idempotency=ctx.idempotency)
            return written_booking(result)

        return await api.write(request, actor_of(user), run)


class HistoryEntryOut(msgspec.Struct, frozen=True):
    version: int
    type: str
    at: dt.datetime
    by: str | None
    data: dict[str, Any]


async def history_of(api: Api, user: User, booking_id: str) -> list[HistoryEntryOut]:
    """Every event of the booking, for its guest or an admin; 404 for anyone else."""
    entries = await booking_history(api.store, booking_id)
    current = await booking_as_of(api.store, booking_id, None)
    if isinstance(current.state, NoBooking) or not entries:
        raise BookingNotFound(booking_id)
    if not user.is_admin and current.state.details.user_id != user.id:
        raise BookingNotFound(booking_id)
    return [HistoryEntryOut(e.version, e.type, e.at, e.by, e.data) for e in entries]


async def booking_page(
    api: Api, where: BookingFilter, limit: int, cursor: str | None
) -> BookingPage:
    after = None
    if cursor:
        starts, booking_id = cursor_decode(cursor, 2)
        try:
            after = (dt.datetime.fromisoformat(str(starts)), str(booking_id))
        except ValueError:
            raise bad_cursor() from None
    rows, last = await bookings_page(api.services.pool, where, limit=limit, after=after)
    return BookingPage(
        items=[booking_from_row(row) for row in rows],
        next_cursor=cursor_encode(last[0].isoformat(), last[1]) if last else None,
    )
