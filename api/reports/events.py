"""`/api/v1/admin/events`: the raw event log, in the order subscribers read it.

This route reads the event store itself (the one read that does): events in `(tx,
position)` order, gap-free, so a client that pages with `after=<next_cursor>` sees every
event exactly once, however writes interleave. `stream` keeps streams whose id starts
with it (`booking-`, `table-t1@`); `type` keeps the named event types.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import time
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.exceptions import HTTPException
from litestar.params import QueryParameter

from api.context import Api, ApiDep
from api.refused import Refused
from api.requests import AUTH
from api.schemas import LimitParam
from api.venue_scope import StaffDep, venue_managers
from booking_core.codec import codec
from booking_core.store import ORIGIN, ConsistencyToken, RecordedEvent
from read_models.consistency import NotCaughtUp

__all__ = ["AdminEventsController", "EventOut", "EventPage"]

_MAX_ID = 2**63 - 1
_KNOWN_TYPES = sorted(codec.type_names)
EventType = enum.StrEnum("EventType", {name: name for name in _KNOWN_TYPES})  # type: ignore[misc]
"""Every event type the codec knows, so the schema lists them and refuses others."""
TokenParam = Annotated[
    str | None,
    QueryParameter(
        max_length=50,
        pattern=r"^[0-9]{1,19}-[0-9]{1,19}$",
        description="Only events after this token (`tx-position`): a write's "
        "X-Consistency-Token or the previous page's `next_cursor`",
    ),
]


class EventOut(msgspec.Struct, frozen=True):
    position: int
    token: str
    stream_id: str
    version: int
    type: str
    schema_version: int
    recorded_at: dt.datetime
    data: dict[str, Any]
    metadata: dict[str, Any]


class EventPage(msgspec.Struct, frozen=True):
    items: list[EventOut]
    next_cursor: str | None = msgspec.field(default=None)


def _token(raw: str | None, field: str) -> ConsistencyToken:
    if raw is None:
        return ORIGIN
    try:
        token = ConsistencyToken.parse(raw)
    except ValueError:
        token = None
    if token is None:
        raise HTTPException(
            status_code=400, detail=f"{field}: expected a token 'tx-position' from this API"
        )
    if token.tx > _MAX_ID or token.position > _MAX_ID:
        # The documented shape, but past any position the log can reach.
        raise Refused(422, f"{field}: no such position in the log", "unknown-position")
    return token


async def _log_includes(api: Api, request: Request[Any, Any, Any]) -> None:
    """Wait, bounded, until the log can be read up to the request's consistency token
    (an older transaction still open holds newer events back for a moment)."""
    raw = request.headers.get("X-Consistency-Token")
    if not raw:
        return
    token = _token(raw.strip(), "X-Consistency-Token")
    began = time.monotonic()
    while await api.store.head() < token:
        waited = time.monotonic() - began
        if waited >= api.config.consistency_timeout:
            raise NotCaughtUp(token, waited)
        await asyncio.sleep(0.01)


def _types(names: list[EventType] | None) -> list[str] | None:
    return [str(name) for name in names] if names else None


def _event_out(record: RecordedEvent) -> EventOut:
    return EventOut(
        position=record.position,
        token=str(record.token),
        stream_id=record.stream_id,
        version=record.version,
        type=record.type,
        schema_version=record.schema_version,
        recorded_at=record.recorded_at,
        data=msgspec.json.decode(record.data),
        metadata=msgspec.json.decode(record.metadata),
    )


class AdminEventsController(Controller):
    tags = ["admin: events"]
    security = AUTH
    guards = [venue_managers]

    @get(
        "/admin/events",
        summary="The venue's raw event log, oldest first",
        description="Pass a page's `next_cursor` as `after` for the next page; `next_cursor` "
        "is null once the log is read to its end. With `X-Consistency-Token` the read first "
        "waits (up to 5 s) until the log can be read up to that write.",
    )
    async def events(
        self,
        api: ApiDep,
        staff: StaffDep,
        request: Request[Any, Any, Any],
        after: TokenParam = None,
        stream: Annotated[
            str | None,
            QueryParameter(
                min_length=1, max_length=300, description="Keep streams whose id starts with this"
            ),
        ] = None,
        types: Annotated[
            list[EventType] | None,
            QueryParameter(name="type", description="Keep these event types (repeat for several)"),
        ] = None,
        limit: LimitParam = 50,
    ) -> EventPage:
        await _log_includes(api, request)
        start = _token(after, "after")
        records = await api.store.read_all(
            start, limit + 1, stream_prefix=stream, types=_types(types), venue=staff.venue_id
        )
        page = records[:limit]
        return EventPage(
            items=[_event_out(record) for record in page],
            next_cursor=str(page[-1].token) if len(records) > limit else None,
        )
