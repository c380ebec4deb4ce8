"""Admin routes for when the venue takes bookings: opening hours, slot settings, closures.
The venue's staff (hosts too) read them; its admins and managers change them.

- Opening hours are a list of `{open, close}` shifts per weekday; a `close` at or before
  its `open` is on the next day (18:00-01:30). `PUT` replaces the week: a weekday left
  out is closed. Overlapping shifts are a 422.
- Slot settings are replaced whole; values out of range and unknown time zones are a 422.
  Their `pacing` rules cap the covers and bookings starting in any window of
  `per_minutes`; a rule no venue could mean is a 422 that says which and why.
- A closure closes one whole service day. Closing a day again for the same reason
  answers 200 and changes nothing; for another reason, 409.

Setting what is already set writes nothing, so repeating a `PUT` is harmless.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from api.context import (
    ApiDep,
    WriteContext,
    Written,
    bad_cursor,
    cursor_decode,
    cursor_encode,
)
from api.requests import AUTH, check_date, now
from api.schemas import CursorParam, LimitParam, LocalTime, hhmm, parse_time
from api.venue_scope import StaffDep, api_path, floor_plan
from booking_core.domain.commands import (
    AddClosure,
    ChangeSlotSettings,
    RemoveClosure,
    SetOpeningHours,
)
from booking_core.domain.errors import ClosureNotFound, InvalidSlotSettings
from booking_core.domain.time_rules import local_today
from booking_core.domain.values import (
    OpeningHours,
    PacingRule,
    Shift,
    SlotSettings,
    TurnTime,
)
from booking_core.handlers import change_venue
from read_models.floor_history import venue_history
from read_models.venue import closure, closures_page, venue

__all__ = ["AdminVenueController"]

_BIG = 1_000_000


class ShiftIO(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    open: LocalTime
    close: LocalTime


Shifts = Annotated[list[ShiftIO], msgspec.Meta(max_length=12)]


class OpeningHoursIO(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Each weekday's shifts; an empty list (or a weekday left out of a `PUT`) is closed."""

    monday: Shifts = msgspec.field(default_factory=list)
    tuesday: Shifts = msgspec.field(default_factory=list)
    wednesday: Shifts = msgspec.field(default_factory=list)
    thursday: Shifts = msgspec.field(default_factory=list)
    friday: Shifts = msgspec.field(default_factory=list)
    saturday: Shifts = msgspec.field(default_factory=list)
    sunday: Shifts = msgspec.field(default_factory=list)


class TurnTimeIO(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    max_party_size: Annotated[int, msgspec.Meta(ge=0, le=_BIG)]
    minutes: Annotated[int, msgspec.Meta(ge=0, le=_BIG)]


class PacingRuleIO(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """At most `max_covers` guests and/or `max_bookings` parties may start in any window of
    `per_minutes` (5 to 1440), among the starts of `weekday` (`monday`..`sunday` or 0..6,
    Monday 0; every day when left out) from `from` (inclusive) to `to` (exclusive),
    venue-local (the whole service day when left out)."""

    per_minutes: Annotated[int, msgspec.Meta(ge=0, le=_BIG)]
    weekday: int | str | None = None
    from_time: LocalTime | None = msgspec.field(default=None, name="from")
    to_time: LocalTime | None = msgspec.field(default=None, name="to")
    max_covers: int | None = None
    max_bookings: int | None = None


class TimeSlotsIO(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Start times are `interval_minutes` apart from each shift's opening; a party keeps
    its table for the turn time of the smallest `max_party_size` that holds it;
    `buffer_minutes` stay free between two bookings of a table; bookings start at least
    `min_lead_minutes` from now and at most `max_days_ahead` days ahead; `pacing` caps
    the covers and bookings that start together (a refusal is a 422 `.../pacing`)."""

    interval_minutes: Annotated[int, msgspec.Meta(ge=0, le=_BIG)]
    turn_times: Annotated[list[TurnTimeIO], msgspec.Meta(max_length=50)]
    buffer_minutes: Annotated[int, msgspec.Meta(ge=0, le=_BIG)]
    min_lead_minutes: Annotated[int, msgspec.Meta(ge=0, le=_BIG)]
    max_days_ahead: Annotated[int, msgspec.Meta(ge=0, le=_BIG)]
    time_zone: Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["Europe/London"])]
    pacing: Annotated[list[PacingRuleIO], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list
    )


class ClosureIO(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    date: dt.date
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class ClosurePage(msgspec.Struct, frozen=True):
    items: list[ClosureIO]
    next_cursor: str | None = None


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _hours_out(hours: OpeningHours) -> OpeningHoursIO:
    week = {
        day: [ShiftIO(open=hhmm(s.opens), close=hhmm(s.closes)) for s in shifts]
        for day, shifts in zip(_WEEKDAYS, hours.by_weekday(), strict=True)
    }
    return OpeningHoursIO(**week)


def _hours_in(data: OpeningHoursIO) -> OpeningHours:
    week = {
        day: tuple(
            Shift(
                opens=parse_time(s.open, f"{day}.open"), closes=parse_time(s.close, f"{day}.close")
            )
            for s in getattr(data, day)
        )
        for day in _WEEKDAYS
    }
    return OpeningHours(**week)


def _slots_out(settings: SlotSettings) -> TimeSlotsIO:
    return TimeSlotsIO(
        interval_minutes=settings.interval_minutes,
        turn_times=[
            TurnTimeIO(max_party_size=t.max_party_size, minutes=t.minutes)
            for t in settings.turn_times
        ],
        buffer_minutes=settings.buffer_minutes,
        min_lead_minutes=settings.min_lead_minutes,
        max_days_ahead=settings.max_days_ahead,
        time_zone=settings.time_zone,
        pacing=[_pacing_out(rule) for rule in settings.pacing],
    )


def _pacing_out(rule: PacingRule) -> PacingRuleIO:
    return PacingRuleIO(
        per_minutes=rule.per_minutes,
        weekday=None if rule.weekday is None else _WEEKDAYS[rule.weekday],
        from_time=None if rule.from_time is None else hhmm(rule.from_time),
        to_time=None if rule.to_time is None else hhmm(rule.to_time),
        max_covers=rule.max_covers,
        max_bookings=rule.max_bookings,
    )


def _pacing_in(rules: list[PacingRuleIO]) -> tuple[PacingRule, ...]:
    return tuple(
        PacingRule(
            per_minutes=rule.per_minutes,
            weekday=_weekday(rule.weekday, number),
            from_time=None if rule.from_time is None else parse_time(rule.from_time, "from"),
            to_time=None if rule.to_time is None else parse_time(rule.to_time, "to"),
            max_covers=rule.max_covers,
            max_bookings=rule.max_bookings,
        )
        for number, rule in enumerate(rules, start=1)
    )


def _weekday(value: int | str | None, number: int) -> int | None:
    """A weekday as opening hours name it (`friday`), or its number (Monday 0)."""
    if value is None or isinstance(value, int):
        return value
    name = value.strip().casefold()
    if name not in _WEEKDAYS:
        raise InvalidSlotSettings(
            f"pacing[{number - 1}].weekday",
            f"must be monday to sunday (0 to 6), not {value[:40]!r}",
        )
    return _WEEKDAYS.index(name)


class AdminVenueController(Controller):
    path = "/admin"
    tags = ["admin: venue"]
    security = AUTH
    # The venue's staff read them (the timeline's hours); its managers change them.
    guards = [floor_plan]

    # --- opening hours ------------------------------------------------------------------

    @get("/operating-hours", summary="The shifts of each weekday")
    async def hours(
        self, api: ApiDep, staff: StaffDep, request: Request[Any, Any, Any]
    ) -> OpeningHoursIO:
        await api.consistent(request, sql=("venue",))
        return _hours_out((await venue(api.services.pool, staff.venue_id)).hours)

    @put("/operating-hours", summary="Replace the week's shifts")
    async def set_hours(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        data: JSONBody[OpeningHoursIO],
    ) -> Response[OpeningHoursIO]:
        hours = _hours_in(data)

        async def run(ctx: WriteContext) -> Written[OpeningHoursIO]:
            command = SetOpeningHours(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                hours=hours,
            )
            result = await change_venue(api.store, command, idempotency=ctx.idempotency)
            return Written(_hours_out(result.venue.hours), result.token)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    # --- slot settings ------------------------------------------------------------------

    @get("/time-slots", summary="How start times and table turns are laid out")
    async def slots(
        self, api: ApiDep, staff: StaffDep, request: Request[Any, Any, Any]
    ) -> TimeSlotsIO:
        await api.consistent(request, sql=("venue",))
        return _slots_out((await venue(api.services.pool, staff.venue_id)).settings)

    @put("/time-slots", summary="Replace the slot settings")
    async def set_slots(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        data: JSONBody[TimeSlotsIO],
    ) -> Response[TimeSlotsIO]:
        async def run(ctx: WriteContext) -> Written[TimeSlotsIO]:
            command = ChangeSlotSettings(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                interval_minutes=data.interval_minutes,
                turn_times=tuple(
                    TurnTime(max_party_size=t.max_party_size, minutes=t.minutes)
                    for t in data.turn_times
                ),
                buffer_minutes=data.buffer_minutes,
                min_lead_minutes=data.min_lead_minutes,
                max_days_ahead=data.max_days_ahead,
                time_zone=data.time_zone,
                pacing=_pacing_in(data.pacing),
            )
            result = await change_venue(api.store, command, idempotency=ctx.idempotency)
            return Written(_slots_out(result.venue.settings), result.token)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    # --- closures -----------------------------------------------------------------------

    @post(
        "/closures",
        status_code=201,
        summary="Close the venue for a whole day",
        description="201 when the day is closed now; 200 when it already was, for the same"
        " reason; 409 when it already was, for another reason.",
        responses={
            200: ResponseSpec(
                ClosureIO, description="The day was already closed", generate_examples=False
            )
        },
    )
    async def close(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        data: JSONBody[ClosureIO],
    ) -> Response[ClosureIO]:
        check_date(data.date)

        async def run(ctx: WriteContext) -> Written[ClosureIO]:
            command = AddClosure(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                date=data.date,
                reason=data.reason,
            )
            result = await change_venue(api.store, command, idempotency=ctx.idempotency)
            location = {"Location": api_path(ctx.venue_id, f"/admin/closures/{data.date}")}
            status = 201 if result.events or result.duplicate else 200
            return Written(data, result.token, status, location)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)

    @get(
        "/closures",
        summary="Closed days, in date order",
        description="From today (the venue's) unless `from` says otherwise.",
    )
    async def closures(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        from_date: Annotated[dt.date | None, QueryParameter(name="from")] = None,
        to_date: Annotated[dt.date | None, QueryParameter(name="to")] = None,
        limit: LimitParam = 50,
        cursor: CursorParam = None,
    ) -> ClosurePage:
        await api.consistent(request, sql=("venue",))
        if from_date is None:
            zone = (await venue(api.services.pool, staff.venue_id)).settings.time_zone
            from_date = local_today(now(), zone)
        after = None
        if cursor:
            (last_date,) = cursor_decode(cursor, 1)
            after = check_date(_cursor_date(last_date), "cursor")
        rows, last = await closures_page(
            api.services.pool,
            staff.venue_id,
            from_date=check_date(from_date, "from"),
            to_date=check_date(to_date, "to") if to_date else None,
            limit=limit,
            after=after,
        )
        return ClosurePage(
            items=[ClosureIO(date=row.date, reason=row.reason) for row in rows],
            next_cursor=cursor_encode(last.isoformat()) if last else None,
        )

    @get("/closures/{day:date}", summary="One closed day")
    async def read_closure(
        self, api: ApiDep, staff: StaffDep, request: Request[Any, Any, Any], day: FromPath[dt.date]
    ) -> ClosureIO:
        await api.consistent(request, sql=("venue",))
        row = await closure(api.services.pool, staff.venue_id, day)
        if row is None:
            raise ClosureNotFound(day)
        return ClosureIO(date=row.date, reason=row.reason)

    @delete(
        "/closures/{day:date}",
        status_code=200,
        summary="Reopen a closed day",
        description="Answers with the closure that was lifted.",
    )
    async def reopen(
        self, api: ApiDep, staff: StaffDep, request: Request[Any, Any, Any], day: FromPath[dt.date]
    ) -> Response[ClosureIO]:
        async def run(ctx: WriteContext) -> Written[ClosureIO]:
            command = RemoveClosure(
                command_id=ctx.command_id,
                actor=ctx.actor,
                venue_id=ctx.venue_id,
                now=now(),
                date=day,
            )
            result = await change_venue(api.store, command, idempotency=ctx.idempotency)
            reason = (await venue_history(api.store, ctx.venue_id)).closure_reasons.get(day, "")
            return Written(ClosureIO(date=day, reason=reason), result.token)

        return await api.write(request, staff.actor, run, venue_id=staff.venue_id)


def _cursor_date(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise bad_cursor() from None
