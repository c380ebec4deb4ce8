"""The public booking page's routes: book without an account, then view, change or cancel
that one booking with its manage token. No sign-in.

`POST /public/bookings` books like `POST /bookings`. Without an account the guest's
email is required, and the answer carries, once, a fresh `manage_token`
(`secrets.token_urlsafe(24)`: 192 random bits); the event keeps its SHA-256 (in the
clear) and the token itself (a personal field, sealed, read only by the confirmation
mail). With a bearer token the booking is the account's, as on `POST /bookings` (made as a
guest, whatever the account's role: staff set rules aside in the console), and has no
manage token: its guest manages it signed in.

`GET / PUT / DELETE /public/bookings/{id}` take `Authorization: Booking <token>`; its
`calendar.ics` also opens to the signed-in guest whose account made the booking. The
token is checked against the booking's own stream (not a projection: it works the moment
the booking is made) with `hmac.compare_digest`; a wrong, missing or old token, a booking
made with an account, and a booking whose end has passed all get the same 404 as a
booking that does not exist. A change is re-decided exactly like `PUT /bookings/{id}`.

Every write here counts towards the client address's limit (`AddressLimiter`): past it,
429 with `Retry-After`. The answers hold this booking's own fields only: no table, no
account, nothing of any other guest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from icalendar import Calendar
from icalendar import Event as CalendarEvent
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody

from api.accounts.limits import client_address
from api.accounts.security import authenticate
from api.context import Api, ApiDep, WriteContext, Written
from api.metrics import booking_outcome
from api.refused import Refused
from api.requests import check_date, if_match, now
from api.schemas import Email, GuestName, LocalTime, PartySize, Phone, Text, hhmm, parse_time
from api.venue_scope import VenueDep
from booking_core.domain.booking import ExistingBooking, NoBooking
from booking_core.domain.commands import (
    UNSET,
    Actor,
    BookTable,
    CancelBooking,
    ChangeBooking,
    public_guest,
)
from booking_core.domain.errors import BookingNotFound
from booking_core.domain.time_rules import to_local
from booking_core.handlers import BookingResult, book_table, cancel_booking, change_booking
from read_models.as_of import booking_as_of
from read_models.venue import venue as venue_settings
from read_models.venues import resolve

__all__ = [
    "MANAGE_SCHEME",
    "PublicBookingCreate",
    "PublicBookingOut",
    "PublicBookingUpdate",
    "PublicBookingsController",
    "PublicVenueController",
    "calendar_file",
    "manage_token_hash",
]

MANAGE_SCHEME = "Booking"
"""`Authorization: Booking <token>`: the scheme of a manage token."""
_TOKEN_BYTES = 24
_MAX_TOKEN = 200
_SCOPE = Actor(user_id="public")
"""Whose `Idempotency-Key`s an anonymous booking's keys are (`Api.write` scopes keys by
user): the booking itself gets `public_guest(booking_id)` as its actor."""


class PublicBookingCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    date: dt.date
    time: LocalTime
    party_size: PartySize
    guest_name: GuestName
    guest_email: Email | None = None
    """Required without an account (422 `email-required`)."""
    guest_phone: Phone | None = None
    special_requests: Text | None = None


class PublicBookingUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    date: dt.date | msgspec.UnsetType = UNSET
    time: LocalTime | msgspec.UnsetType = UNSET
    party_size: PartySize | msgspec.UnsetType = UNSET
    guest_name: GuestName | msgspec.UnsetType = UNSET
    guest_phone: Phone | msgspec.UnsetType | None = UNSET
    special_requests: Text | msgspec.UnsetType | None = UNSET


class PublicBookingOut(msgspec.Struct, frozen=True):
    """One booking as its guest sees it on the booking page: no tables, no account."""

    id: str
    venue_id: str
    status: str
    date: dt.date
    time: str
    end_time: str
    party_size: int
    guest_name: str
    guest_email: str | None
    guest_phone: str | None
    special_requests: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    manage_token: str | None = None
    """Only in the answer to the booking without an account: the token to manage it with
    (`Authorization: Booking <token>`). It is never shown again."""


def manage_token_hash(token: str) -> str:
    """What a booking's event keeps of its manage token: SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _booking_out(
    venue_id: str, result: BookingResult, token: str | None = None
) -> Written[PublicBookingOut]:
    state = result.booking
    if isinstance(state, NoBooking):
        raise AssertionError("a booking command answered without a booking")
    details = state.details
    slot = details.slot
    body = PublicBookingOut(
        id=details.booking_id,
        venue_id=venue_id,
        status=state.status,
        date=slot.date,
        time=hhmm(slot.time),
        end_time=hhmm(slot.end_time),
        party_size=details.party_size,
        guest_name=details.guest_name,
        guest_email=details.guest_email,
        guest_phone=details.guest_phone,
        special_requests=details.special_requests,
        version=result.version,
        created_at=details.placed_at,
        updated_at=details.updated_at,
        manage_token=token,
    )
    return Written(body, result.token, 200, {"ETag": f'"{result.version}"'})


def _given_token(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != MANAGE_SCHEME.lower() or not token or len(token) > _MAX_TOKEN:
        return None
    return token


async def managed(
    api: Api, request: Request[Any, Any, Any], venue_id: str, booking_id: str
) -> tuple[ExistingBooking, int]:
    """The booking the request's manage token opens, as it stands; the same 404 as for no
    booking when the token is missing, wrong or old, or the booking has ended."""
    token = _given_token(request)
    if token is None:
        raise BookingNotFound(booking_id)
    found = await booking_as_of(api.store, venue_id, booking_id, None)
    state = found.state
    if isinstance(state, NoBooking):
        raise BookingNotFound(booking_id)
    kept = state.details.manage_token_hash
    if (
        kept is None
        or not hmac.compare_digest(manage_token_hash(token), kept)
        or now() >= state.details.slot.ends_at
    ):
        raise BookingNotFound(booking_id)
    return state, found.version


async def _writer(
    api: Api, request: Request[Any, Any, Any], venue_id: str, booking_id: str
) -> Actor:
    """Who changes or cancels a booking with its token: the write is counted against the
    client address first, then the token must open the booking."""
    await api.public_writes.hit(client_address(request))
    await managed(api, request, venue_id, booking_id)
    return public_guest(booking_id)


class PublicBookingsController(Controller):
    path = "/public/bookings"
    tags = ["booking page"]
    security = []

    @post(
        "/",
        status_code=201,
        summary="Book from the public booking page, with an account or without",
        opt=booking_outcome("book"),
        description="Without `Authorization`, `guest_email` is required and the answer "
        "carries the booking's `manage_token`, this once: send it as `Authorization: "
        "Booking <token>` to view, change or cancel the booking. With a bearer token the "
        "booking is the account's (no manage token). Limited per client address (429).",
    )
    async def create(
        self,
        api: ApiDep,
        venue: VenueDep,
        request: Request[Any, Any, Any],
        data: JSONBody[PublicBookingCreate],
    ) -> Response[PublicBookingOut]:
        at = parse_time(data.time)
        check_date(data.date)
        await api.public_writes.hit(client_address(request))
        account = None
        if request.headers.get("authorization"):
            # Whoever signs in here books as a guest: staff use the console for more.
            user = await authenticate(request, api.tokens, api.users)
            request.state["user"] = user  # as the guards keep it: the access log names it
            account = Actor(user_id=user.id)
        elif data.guest_email is None:
            raise _email_required()

        async def run(ctx: WriteContext) -> Written[PublicBookingOut]:
            booking_id = ctx.new_id("bkg")
            token = None if account else secrets.token_urlsafe(_TOKEN_BYTES)
            command = BookTable(
                command_id=ctx.command_id,
                actor=account or public_guest(booking_id),
                venue_id=ctx.venue_id,
                now=now(),
                booking_id=booking_id,
                date=data.date,
                time=at,
                party_size=data.party_size,
                guest_name=data.guest_name.strip(),
                guest_phone=data.guest_phone,
                guest_email=data.guest_email,
                special_requests=data.special_requests,
                source="online",
                manage_token_hash=manage_token_hash(token) if token else None,
                manage_token=token,
            )
            result = await book_table(api.store, command, idempotency=ctx.idempotency)
            # A repeat of the request never gets the token: the email carries it.
            written = _booking_out(venue.id, result, None if result.duplicate else token)
            location = f"{request.url.path.rstrip('/')}/{booking_id}"
            headers = {**written.headers, "Location": location}
            untold = msgspec.structs.replace(written.body, manage_token=None)
            return Written(written.body, written.token, 201, headers, replayed=untold)

        return await api.write(request, account or _SCOPE, run, venue_id=venue.id)

    @get(
        "/{booking_id:str}",
        summary="The booking a manage token opens",
        description="`Authorization: Booking <token>`. A wrong or missing token, and a "
        "booking that has ended, get 404. `ETag` is the booking's version, for `If-Match`.",
    )
    async def read(
        self,
        api: ApiDep,
        venue: VenueDep,
        request: Request[Any, Any, Any],
        booking_id: FromPath[str],
    ) -> Response[PublicBookingOut]:
        state, version = await managed(api, request, venue.id, booking_id)
        written = _booking_out(venue.id, BookingResult(booking=state, version=version))
        return Response(written.body, headers=dict(written.headers))

    @put(
        "/{booking_id:str}",
        summary="Change the booking a manage token opens; re-decided like a new one",
        opt=booking_outcome("change"),
        description="`Authorization: Booking <token>`; `If-Match` as on `PUT /bookings/{id}`."
        " Limited per client address (429).",
    )
    async def change(
        self,
        api: ApiDep,
        venue: VenueDep,
        request: Request[Any, Any, Any],
        booking_id: FromPath[str],
        data: JSONBody[PublicBookingUpdate],
    ) -> Response[PublicBookingOut]:
        expected = if_match(request, "the booking's version")
        at = parse_time(data.time) if isinstance(data.time, str) else UNSET
        if isinstance(data.date, dt.date):
            check_date(data.date)
        guest = await _writer(api, request, venue.id, booking_id)

        async def run(ctx: WriteContext) -> Written[PublicBookingOut]:
            command = ChangeBooking(
                command_id=ctx.command_id,
                actor=guest,
                venue_id=ctx.venue_id,
                now=now(),
                booking_id=booking_id,
                date=data.date,
                time=at,
                party_size=data.party_size,
                guest_name=data.guest_name,
                guest_phone=data.guest_phone,
                special_requests=data.special_requests,
                expected_version=expected,
            )
            result = await change_booking(api.store, command, idempotency=ctx.idempotency)
            return _booking_out(venue.id, result)

        return await api.write(request, guest, run, venue_id=venue.id)

    @delete(
        "/{booking_id:str}",
        status_code=200,
        summary="Cancel the booking a manage token opens",
        opt=booking_outcome("cancel"),
        description="`Authorization: Booking <token>`. Cancelling again answers the same "
        "(until the booking's end). Limited per client address (429).",
    )
    async def cancel(
        self,
        api: ApiDep,
        venue: VenueDep,
        request: Request[Any, Any, Any],
        booking_id: FromPath[str],
    ) -> Response[PublicBookingOut]:
        guest = await _writer(api, request, venue.id, booking_id)

        async def run(ctx: WriteContext) -> Written[PublicBookingOut]:
            command = CancelBooking(
                command_id=ctx.command_id,
                actor=guest,
                venue_id=ctx.venue_id,
                now=now(),
                booking_id=booking_id,
            )
            result = await cancel_booking(api.store, command, idempotency=ctx.idempotency)
            return _booking_out(venue.id, result)

        return await api.write(request, guest, run, venue_id=venue.id)

    @get(
        "/{booking_id:str}/calendar.ics",
        media_type="text/calendar",
        summary="The booking a manage token opens, or the signed-in guest's own, as an"
        " iCalendar file",
        description="`Authorization: Booking <token>`, or `Bearer <access token>` of the"
        " account the booking was made with. One event in the venue's time zone, for the"
        " booking page's 'Add to calendar'.",
    )
    async def calendar(
        self,
        api: ApiDep,
        venue: VenueDep,
        request: Request[Any, Any, Any],
        booking_id: FromPath[str],
    ) -> Response[bytes]:
        booking = await _calendar_booking(api, request, venue.id, booking_id)
        zone = (await venue_settings(api.services.pool, venue.id)).settings.time_zone
        listed = await resolve(api.services.pool, venue.id)
        body = calendar_file(
            booking,
            listed.name if listed else venue.id,
            listed.address if listed else None,
            zone,
        )
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{booking_id}.ics"'},
        )


async def _calendar_booking(
    api: Api, request: Request[Any, Any, Any], venue_id: str, booking_id: str
) -> ExistingBooking:
    """The booking by its manage token, or by its own guest signed in: a booking made with
    an account has no token. Another account's booking is the same 404."""
    scheme = (request.headers.get("authorization") or "").partition(" ")[0]
    if scheme.lower() != "bearer":
        booking, _ = await managed(api, request, venue_id, booking_id)
        return booking
    user = await authenticate(request, api.tokens, api.users)
    state = (await booking_as_of(api.store, venue_id, booking_id, None)).state
    if isinstance(state, NoBooking) or state.details.user_id != user.id:
        raise BookingNotFound(booking_id)
    return state


def calendar_file(
    booking: ExistingBooking, venue_name: str, address: str | None, time_zone: str
) -> bytes:
    """One VEVENT for the booking, its times in the venue's zone (with its VTIMEZONE)."""
    details = booking.details
    slot = details.slot
    zone = ZoneInfo(time_zone)
    calendar = Calendar()
    calendar.add("prodid", "-//tablebook//booking page//EN")
    calendar.add("version", "2.0")
    event = CalendarEvent()
    event.add("uid", f"{details.booking_id}@tablebook")
    event.add("dtstamp", details.updated_at)
    event.add("dtstart", slot.starts_at.astimezone(zone))
    event.add("dtend", slot.ends_at.astimezone(zone))
    guests = "1 guest" if details.party_size == 1 else f"{details.party_size} guests"
    event.add("summary", f"Table for {guests} at {venue_name}")
    if address:
        event.add("location", address)
    event.add("status", "CANCELLED" if booking.status == "cancelled" else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    ical: bytes = calendar.to_ical()
    return ical


def _email_required() -> Refused:
    return Refused(422, "guest_email: required when booking without an account", "email-required")


class PublicVenueOut(msgspec.Struct, frozen=True):
    """What the booking page shows of a venue and needs to offer its times."""

    id: str
    slug: str
    name: str
    time_zone: str
    """The venue's IANA time zone: every date and time of its bookings is local to it."""
    address: str | None
    today: dt.date
    """The venue's calendar date now."""
    max_days_ahead: int
    """The last bookable date is `today` plus this many days."""
    min_party_size: int
    max_party_size: int
    """The largest party one of its tables or table combinations seats."""


class PublicVenueController(Controller):
    path = "/public/venue"
    tags = ["booking page"]
    security = []

    @get(
        "/",
        summary="The venue as the booking page shows it",
        description="Public: its name, time zone, today's date there, how far ahead it "
        "takes bookings and the party sizes it seats. No guest data.",
    )
    async def read(self, api: ApiDep, venue: VenueDep) -> PublicVenueOut:
        listed = await resolve(api.services.pool, venue.id)
        instant = now()
        snapshot = await api.availability(venue.id, instant.date())
        settings = snapshot.settings
        seats = [
            *((t.min_capacity, t.capacity) for t in snapshot.tables.values()),
            *((c.min_capacity, c.capacity) for c in snapshot.combinations.values()),
        ]
        return PublicVenueOut(
            id=venue.id,
            slug=listed.slug if listed else venue.id,
            name=listed.name if listed else venue.id,
            time_zone=settings.time_zone,
            address=listed.address if listed else None,
            today=to_local(instant, settings.time_zone).date(),
            max_days_ahead=settings.max_days_ahead,
            min_party_size=max(1, min((low for low, _ in seats), default=1)),
            max_party_size=max((high for _, high in seats), default=1),
        )
