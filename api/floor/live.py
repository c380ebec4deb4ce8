"""The live floor: every table status change of one service date as Server-Sent Events.

Fed by the live-status Redis stream (`projectors.live_status`): one SSE event per stream
entry, its `id:` the entry id, its `data:` `{table_id, date, time, status}`. A client that
reconnects with `Last-Event-ID` (or `?last_event_id=`) resumes right after that entry and
misses nothing; `0` replays the day from its first retained entry. Without either, the
stream starts after the newest entry at connect time. A comment line every
`heartbeat_seconds` of silence keeps proxies from closing the connection.

Public: the events name tables and times, never guests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any, ClassVar

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from redis.asyncio import Redis

from api.problems import problem_response
from api.services import Services
from api.venue_scope import VenueDep
from read_models.live_status_keys import stream_key
from resilience.faults import SERVER_FAULTS, unavailable_server

__all__ = ["LiveStatusController", "LiveStatusEvent"]

log = logging.getLogger("tablebook.api")

_ENTRY_ID = re.compile(r"[0-9]{1,19}-[0-9]{1,19}")
"""A Redis stream entry id in ASCII digits. Anything else (`\\d` would take any script's
digits; a number past 2**64) Redis refuses half-way through the stream, after its 200 is
sent."""
_BATCH = 500

_RECONNECT_MS = 2000
_MAX_BLOCK_SECONDS = 2.0


class LiveStatusEvent(msgspec.Struct, frozen=True):
    table_id: str
    date: str
    time: str
    status: str


_encode = msgspec.json.Encoder().encode


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _message(entry_id: bytes | str, fields: dict[bytes, bytes]) -> ServerSentEventMessage:
    values = {_text(k): _text(v) for k, v in fields.items()}
    event = LiveStatusEvent(
        table_id=values.get("table_id", ""),
        date=values.get("date", ""),
        time=values.get("time", ""),
        status=values.get("status", ""),
    )
    return ServerSentEventMessage(id=_text(entry_id), data=_encode(event).decode())


async def _newest_id(redis: Redis, key: str) -> str:
    newest: Any = await redis.xrevrange(key, count=1)
    return _text(newest[0][0]) if newest else "0-0"


async def _changes(
    redis: Redis, key: str, last: str, heartbeat: float
) -> AsyncIterator[ServerSentEventMessage]:
    yield ServerSentEventMessage(retry=_RECONNECT_MS, comment="connected")
    # Each XREAD blocks for less than the client's socket timeout (5 s by default).
    block_ms = max(1, int(min(heartbeat, _MAX_BLOCK_SECONDS) * 1000))
    loop = asyncio.get_running_loop()
    quiet_since = loop.time()
    while True:
        try:
            reply: Any = await redis.xread({key: last}, count=_BATCH, block=block_ms)
        except SERVER_FAULTS as error:
            # The headers are out, so no 503 now: end the stream. The browser reconnects
            # after `retry` with Last-Event-ID, and gets the 503 or the rest of the day.
            log.warning(
                "server unavailable; live stream ended",
                extra={"server": unavailable_server(error), "error": type(error).__name__},
            )
            return
        if not reply:
            if loop.time() - quiet_since >= heartbeat:
                quiet_since = loop.time()
                yield ServerSentEventMessage(comment="heartbeat")
            continue
        quiet_since = loop.time()
        for _, entries in reply:
            for entry_id, fields in entries:
                last = _text(entry_id)
                yield _message(entry_id, fields)


def _parse_after(raw: str | None) -> str | None:
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    if text == "0":
        return "0-0"
    if not _ENTRY_ID.fullmatch(text):
        return ""
    return text if all(int(part) < 2**64 for part in text.split("-")) else ""


class LiveStatusController(Controller):
    path = "/tables/status"
    tags = ["live status"]
    heartbeat_seconds: ClassVar[float] = 15.0

    @get(
        "/stream",
        summary="Table status changes of one service date, as Server-Sent Events",
        description=__doc__,
        media_type="text/event-stream",
        response_description="An endless `text/event-stream`: one event per status change",
    )
    async def stream(
        self,
        services: NamedDependency[Services],
        venue: VenueDep,
        date: Annotated[dt.date, QueryParameter(description="Service date, YYYY-MM-DD")],
        last_event_id_query: Annotated[
            str | None,
            QueryParameter(name="last_event_id", description="Resume after this id, or 0"),
        ] = None,
        last_event_id_header: Annotated[
            str | None, HeaderParameter(name="Last-Event-ID", required=False)
        ] = None,
    ) -> Response[Any]:
        service_date = date
        after = _parse_after(last_event_id_header or last_event_id_query)
        if after == "":
            return problem_response(400, "Last-Event-ID must be an id this stream sent, or 0")
        key = stream_key(services.redis_prefix, venue.id, service_date)
        # Where a fresh stream starts is fixed before the response starts: a client that
        # sees the connection open misses no change made after that. A resuming client
        # asks Redis too, so that it gets a 503, not a stream that ends as it opens.
        newest = await _newest_id(services.redis, key)
        start = after if after is not None else newest
        return ServerSentEvent(
            _changes(services.redis, key, start, self.heartbeat_seconds),
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
