"""`/api/v1/admin/dashboard/stats` and `/api/v1/admin/reports/bookings`.

Both read the stats projection only. Dates are service dates in the venue's time zone;
without one, the dashboard shows the venue's today and the report the 30 days up to it.
The dashboard's `seated_now` is counted from the bookings read model at the request's
instant (the projections have no clock), and only for the venue's today (its parties and
those of the evening before still seated after midnight).
A report spans at most 366 days. `Accept: text/csv` turns the report into its daily rows
as a CSV attachment.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import QueryParameter

from api.context import Api, ApiDep
from api.refused import Refused
from api.requests import AUTH, check_date
from api.schemas import FromDateParam, ToDateParam
from api.venue_scope import StaffDep, venue_managers
from read_models import waitlist_layout
from read_models.bookings import seated_at_instant
from read_models.stats import (
    BreakdownRow,
    DayStats,
    breakdown,
    day_stats,
    days_stats,
    floor_summary,
    total,
)
from read_models.waitlist import quote_accuracy

__all__ = ["AdminReportsController"]

MAX_REPORT_DAYS = 366
DEFAULT_REPORT_DAYS = 30
CSV = "text/csv"
CSV_COLUMNS = ("date", "bookings", "covers", "cancellations", "no_shows", "occupancy_rate")

OccupancyRate = Annotated[
    float,
    msgspec.Meta(
        ge=0,
        le=1,
        description="Booked seat-minutes over open seat-minutes; 0 when the venue is closed",
    ),
]


class DashboardOut(msgspec.Struct, frozen=True):
    date: dt.date
    bookings: Annotated[int, msgspec.Meta(description="Bookings not cancelled")]
    covers: Annotated[
        int, msgspec.Meta(description="Guests of bookings neither cancelled nor no-show")
    ]
    cancellations: int
    no_shows: int
    occupancy_rate: OccupancyRate
    seated_now: Annotated[
        int,
        msgspec.Meta(
            description="Parties of the day at their tables at this moment: seated, not yet"
            " completed or a no-show. Only the venue's today has such a moment: for any other"
            " date it is 0."
        ),
    ]
    tables_total: Annotated[int, msgspec.Meta(description="Tables in service")]
    waitlist_quote_error_minutes: Annotated[
        float | None,
        msgspec.Meta(
            description="How far the waitlist's quotes were off: the median of |actual wait -"
            " quoted wait| in minutes over the parties seated from that day's list; null when"
            " none was"
        ),
    ] = None
    waitlist_quotes_measured: Annotated[
        int, msgspec.Meta(description="Parties seated from the list the median is taken over")
    ] = 0


class DayOut(msgspec.Struct, frozen=True):
    date: dt.date
    bookings: int
    covers: int
    cancellations: int
    no_shows: int
    occupancy_rate: OccupancyRate


class TotalsOut(msgspec.Struct, frozen=True):
    bookings: int
    covers: int
    cancellations: int
    no_shows: int
    occupancy_rate: OccupancyRate


class SourceOut(msgspec.Struct, frozen=True):
    source: str
    bookings: int
    covers: int


class PartySizeOut(msgspec.Struct, frozen=True):
    party_size: int
    bookings: int
    covers: int


class ReportOut(msgspec.Struct, frozen=True, rename={"from_date": "from", "to_date": "to"}):
    from_date: dt.date
    to_date: dt.date
    totals: TotalsOut
    by_day: list[DayOut]
    by_source: list[SourceOut]
    by_party_size: list[PartySizeOut]


def _day_out(day: DayStats) -> DayOut:
    return DayOut(
        date=day.service_date,
        bookings=day.bookings,
        covers=day.covers,
        cancellations=day.cancellations,
        no_shows=day.no_shows,
        occupancy_rate=day.occupancy_rate,
    )


def _party_sizes(rows: list[BreakdownRow]) -> list[PartySizeOut]:
    sizes = [
        PartySizeOut(int(r.key), r.bookings, r.covers)
        for r in rows
        if r.key.isascii() and r.key.isdigit()
    ]
    return sorted(sizes, key=lambda size: size.party_size)


@dataclass(frozen=True, slots=True)
class _Range:
    first: dt.date
    last: dt.date


async def _today(api: Api, venue_id: str) -> dt.date:
    floor = await floor_summary(api.services.pool, venue_id)
    return floor.today(dt.datetime.now(dt.UTC))


async def _report_range(
    api: Api, venue_id: str, first: dt.date | None, last: dt.date | None
) -> _Range:
    if last is None:
        last = (
            await _today(api, venue_id)
            if first is None
            else first + dt.timedelta(DEFAULT_REPORT_DAYS - 1)
        )
    if first is None:
        first = last - dt.timedelta(days=DEFAULT_REPORT_DAYS - 1)
    check_date(first, "from")
    check_date(last, "to")
    if first > last:
        raise Refused(422, "from: must not be after to", "invalid-period")
    if (last - first).days + 1 > MAX_REPORT_DAYS:
        raise Refused(
            422, f"from/to: a report spans at most {MAX_REPORT_DAYS} days", "invalid-period"
        )
    return _Range(first, last)


def _wants_csv(request: Request[Any, Any, Any]) -> bool:
    return request.accept.best_match(["application/json", CSV], "application/json") == CSV


def _csv_response(report: ReportOut) -> Response[Any]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for day in report.by_day:
        writer.writerow([day.date.isoformat(), *(getattr(day, c) for c in CSV_COLUMNS[1:])])
    name = f"bookings-{report.from_date.isoformat()}-to-{report.to_date.isoformat()}.csv"
    return Response(
        out.getvalue().encode(),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@dataclass
class _JsonOrCsv(Operation):
    """The report's operation: JSON as generated, plus the CSV form of its daily rows."""

    def __post_init__(self) -> None:
        ok = self.responses.get("200") if self.responses else None
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            content = ok.content
            headers = ok.headers if ok.headers is not None else {}
            headers["Content-Disposition"] = OpenAPIHeader(
                schema=Schema(type=OpenAPIType.STRING),
                description="CSV only: attachment; filename=bookings-FROM-to-TO.csv",
            )
            ok.headers = headers
            content[CSV] = OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.STRING,
                    description="The by_day rows; header " + ",".join(CSV_COLUMNS),
                ),
                example=",".join(CSV_COLUMNS) + "\r\n2026-05-01,42,118,3,1,0.3571\r\n",
            )


class AdminReportsController(Controller):
    tags = ["admin: reports"]
    security = AUTH
    guards = [venue_managers]

    @get("/admin/dashboard/stats", summary="One service day at a glance")
    async def dashboard(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        date: Annotated[
            dt.date | None,
            QueryParameter(description="Service date, YYYY-MM-DD; the venue's today if absent"),
        ] = None,
    ) -> DashboardOut:
        await api.consistent(request, sql=("stats", "bookings", waitlist_layout.NAME))
        floor = await floor_summary(api.services.pool, staff.venue_id)
        now = dt.datetime.now(dt.UTC)
        today = floor.today(now)
        day = check_date(date) if date else today
        stats = await day_stats(api.services.pool, staff.venue_id, day)
        seated = 0
        if day == today:  # seated "now" is a fact of this moment: no other day has one
            seated = await seated_at_instant(api.services.pool, staff.venue_id, day, now)
        accuracy = await quote_accuracy(api.services.pool, staff.venue_id, day)
        return DashboardOut(
            date=day,
            bookings=stats.bookings,
            covers=stats.covers,
            cancellations=stats.cancellations,
            no_shows=stats.no_shows,
            occupancy_rate=stats.occupancy_rate,
            seated_now=seated,
            tables_total=floor.tables_total,
            waitlist_quote_error_minutes=accuracy.median_absolute_error_minutes,
            waitlist_quotes_measured=accuracy.seated,
        )

    @get(
        "/admin/reports/bookings",
        summary="Bookings report over a range of service dates (JSON or CSV)",
        description="Send `Accept: text/csv` for the daily rows as a CSV attachment. Without "
        "`from`/`to` the report covers the 30 days up to the venue's today; a report spans "
        f"at most {MAX_REPORT_DAYS} days.",
        operation_class=_JsonOrCsv,
    )
    async def report(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        from_date: FromDateParam = None,
        to_date: ToDateParam = None,
    ) -> Response[ReportOut]:
        span = await _report_range(api, staff.venue_id, from_date, to_date)
        await api.consistent(request, sql=("stats",))
        pool = api.services.pool
        days = await days_stats(pool, staff.venue_id, span.first, span.last)
        totals = total(days, span.first)
        report = ReportOut(
            from_date=span.first,
            to_date=span.last,
            totals=TotalsOut(
                bookings=totals.bookings,
                covers=totals.covers,
                cancellations=totals.cancellations,
                no_shows=totals.no_shows,
                occupancy_rate=totals.occupancy_rate,
            ),
            by_day=[_day_out(day) for day in days],
            by_source=[
                SourceOut(r.key, r.bookings, r.covers)
                for r in await breakdown(pool, staff.venue_id, "source", span.first, span.last)
            ],
            by_party_size=_party_sizes(
                await breakdown(pool, staff.venue_id, "party_size", span.first, span.last)
            ),
        )
        if _wants_csv(request):
            return _csv_response(report)
        return Response(report)
