"""The event store in PostgreSQL.

An append is one call of the `tb_append` function (see the first migration): one round
trip, one transaction, which checks and bumps each stream's version, records the
idempotency key, inserts the events and sends `pg_notify`, so listeners wake as soon as
it commits.

Reading everything is gap-free: positions come from a sequence, so a transaction can
commit events with lower positions after a reader has already seen higher ones. Readers
therefore order by `(tx, position)` and only see transactions older than the oldest one
still running in this database (`tb_read_horizon()`), which can no longer be overtaken.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import msgspec
import psycopg
from psycopg.adapt import Loader
from psycopg_pool import AsyncConnectionPool

from booking_core.store._validation import check_append
from booking_core.store.errors import ConcurrencyError, IdempotencyKeyReused
from booking_core.store.listener import Listener
from booking_core.store.records import (
    ANY,
    ORIGIN,
    AppendResult,
    ConsistencyToken,
    IdempotencyKey,
    RecordedEvent,
    StreamAppend,
)
from booking_core.store.venue_filter import in_venue

__all__ = ["CHANNEL", "PostgresEventStore", "configure_connection"]

CHANNEL = "tablebook_events"

_SELECT_STREAM = """
SELECT position, tx::text::bigint, stream_id, version, type, schema_version, data, metadata,
       recorded_at
FROM events WHERE stream_id = %s AND version >= %s ORDER BY version
"""

_SELECT_STREAMS = """
SELECT position, tx::text::bigint, stream_id, version, type, schema_version, data, metadata,
       recorded_at
FROM events JOIN unnest(%s::text[], %s::int[]) AS wanted(stream_id, from_version)
  USING (stream_id)
WHERE version >= wanted.from_version ORDER BY stream_id, version
"""

# Only transactions older than every one still running in this database are read: none
# of those can still commit an event that sorts before what is returned (`tb_read_horizon`
# in migration 0006; each read is a statement in a transaction of its own).
_VISIBLE = f"""
tx < (SELECT tb_read_horizon())
  AND (%(prefix)s::text IS NULL OR starts_with(stream_id, %(prefix)s))
  AND {in_venue("venue")}
  AND (%(types)s::text[] IS NULL OR type = ANY(%(types)s))
  AND (%(from)s::timestamptz IS NULL OR recorded_at >= %(from)s)
  AND (%(before)s::timestamptz IS NULL OR recorded_at < %(before)s)
"""

_SELECT_ALL = f"""
SELECT position, tx::text::bigint, stream_id, version, type, schema_version, data, metadata,
       recorded_at
FROM events
WHERE (tx, position) > (%(tx)s::text::xid8, %(position)s) AND {_VISIBLE}
ORDER BY events.tx, events.position
LIMIT %(limit)s
"""  # noqa: S608 - built from constants

_UTC = """to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
# One JSON object a line, put together by concatenation (twice as fast as
# json_build_object). CSV mode, with quote and delimiter characters JSON never holds raw,
# keeps COPY from escaping the JSON's backslashes.
_COPY_JSONL = f"""
COPY (SELECT '{{"position":' || position || ',"tx":' || tx || ',"stream_id":'
             || to_json(stream_id) || ',"version":' || version || ',"type":' || to_json(type)
             || ',"schema_version":' || schema_version || ',"recorded_at":"' || {_UTC}
             || '","metadata":' || metadata || ',"data":' || data || '}}'
      FROM events WHERE {_VISIBLE} ORDER BY tx, position)
TO STDOUT (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')
"""  # noqa: S608 - built from constants
_COPY_CSV = f"""
COPY (SELECT position, tx::text::bigint AS tx, stream_id, version, type, schema_version,
             {_UTC} AS recorded_at, metadata, data
      FROM events WHERE {_VISIBLE} ORDER BY tx, position)
TO STDOUT (FORMAT csv, HEADER)
"""  # noqa: S608 - built from constants

_SELECT_HEAD = """
SELECT tx::text::bigint, position FROM events
WHERE tx < (SELECT tb_read_horizon())
ORDER BY events.tx DESC, events.position DESC LIMIT 1
"""

_APPEND = """
SELECT tb_append(%s::text[], %s::bigint[], %s::int[], %s::text[], %s::smallint[],
                 %s::jsonb[], %s::jsonb[], %s, %s, %s::jsonb)
"""


class _RawJsonLoader(Loader):
    """Hands jsonb over as its JSON bytes: the codec decodes them straight into Structs."""

    def load(self, data: Any) -> bytes:
        return bytes(data)


def configure_connection(connection: psycopg.AsyncConnection[Any]) -> None:
    """Adapt a connection for the store: jsonb columns arrive as raw JSON bytes."""
    connection.adapters.register_loader("jsonb", _RawJsonLoader)


class _AppendReply(msgspec.Struct):
    versions: dict[str, int]
    tx: int
    position: int
    payload: msgspec.Raw
    duplicate: bool = False


_reply_decoder = msgspec.json.Decoder(_AppendReply)


def _record(row: tuple[Any, ...]) -> RecordedEvent:
    return RecordedEvent(
        position=row[0],
        tx=row[1],
        stream_id=row[2],
        version=row[3],
        type=row[4],
        schema_version=row[5],
        data=row[6],
        metadata=row[7],
        recorded_at=row[8],
    )


class _PostgresWakeups:
    """Wakes the log's readers on each append: a `Listener` that outlives restarts and
    remembers the newest token announced."""

    def __init__(self, conninfo: str) -> None:
        self._listener = Listener(conninfo, CHANNEL, self._announce)
        self.announced: ConsistencyToken | None = None

    def _announce(self, payload: str) -> None:
        # The payload is the append's token; an unreadable one still wakes readers.
        with contextlib.suppress(ValueError):
            token = ConsistencyToken.parse(payload)
            if self.announced is None or token > self.announced:
                self.announced = token

    async def start(self) -> None:
        await self._listener.start()

    async def wait(self, timeout: float) -> bool:
        return await self._listener.wait(timeout)

    async def stop(self) -> None:
        await self._listener.stop()


class PostgresEventStore:
    def __init__(self, pool: AsyncConnectionPool[Any], conninfo: str) -> None:
        """`pool` connections must be set up with `configure_connection`; `conninfo`
        opens the dedicated LISTEN connections."""
        self._pool = pool
        self._conninfo = conninfo

    async def append(
        self, streams: Sequence[StreamAppend], *, idempotency: IdempotencyKey | None = None
    ) -> AppendResult:
        check_append(streams)
        event_streams: list[int] = []
        types: list[str] = []
        schema_versions: list[int] = []
        data: list[str] = []
        metadata: list[str] = []
        for index, stream in enumerate(streams, start=1):
            for event in stream.events:
                event_streams.append(index)
                types.append(event.type)
                schema_versions.append(event.schema_version)
                data.append(event.data.decode())
                metadata.append(event.metadata.decode())
        params = (
            [s.stream_id for s in streams],
            [-1 if s.expected is ANY else s.expected for s in streams],
            event_streams,
            types,
            schema_versions,
            data,
            metadata,
            idempotency.key if idempotency else None,
            idempotency.fingerprint if idempotency else None,
            idempotency.payload.decode() if idempotency else None,
        )
        try:
            async with self._pool.connection() as connection:
                cursor = await connection.execute(_APPEND, params)
                row = await cursor.fetchone()
        except psycopg.Error as error:
            raise _translate(error) from error
        assert row is not None
        reply = _reply_decoder.decode(row[0])
        return AppendResult(
            versions=reply.versions,
            token=ConsistencyToken(reply.tx, reply.position),
            duplicate=reply.duplicate,
            payload=bytes(reply.payload),
        )

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(_SELECT_STREAM, (stream_id, from_version))
            return [_record(row) for row in await cursor.fetchall()]

    async def read_streams(
        self, stream_ids: Collection[str], from_versions: Mapping[str, int] | None = None
    ) -> dict[str, list[RecordedEvent]]:
        found: dict[str, list[RecordedEvent]] = {stream_id: [] for stream_id in stream_ids}
        if not found:
            return found
        starts = from_versions or {}
        params = (list(found), [starts.get(stream_id, 1) for stream_id in found])
        async with self._pool.connection() as connection:
            cursor = await connection.execute(_SELECT_STREAMS, params)
            for row in await cursor.fetchall():
                record = _record(row)
                found[record.stream_id].append(record)
        return found

    async def stream_version(self, stream_id: str) -> int:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(
                "SELECT version FROM streams WHERE stream_id = %s", (stream_id,)
            )
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def read_all(
        self,
        after: ConsistencyToken = ORIGIN,
        limit: int = 1000,
        *,
        stream_prefix: str | None = None,
        venue: str | None = None,
        types: Collection[str] | None = None,
        recorded_from: datetime | None = None,
        recorded_before: datetime | None = None,
    ) -> list[RecordedEvent]:
        params = {
            "tx": str(after.tx),
            "position": after.position,
            "prefix": stream_prefix,
            "venue": venue,
            "types": list(types) if types is not None else None,
            "from": recorded_from,
            "before": recorded_before,
            "limit": limit,
        }
        async with self._pool.connection() as connection:
            cursor = await connection.execute(_SELECT_ALL, params)
            return [_record(row) for row in await cursor.fetchall()]

    async def export(
        self,
        format: Literal["jsonl", "csv"],
        *,
        stream_prefix: str | None = None,
        venue: str | None = None,
        types: Collection[str] | None = None,
        recorded_from: datetime | None = None,
        recorded_before: datetime | None = None,
    ) -> AsyncIterator[bytes]:
        """What `read_all` would return, filtered alike, as JSON lines or CSV (with a
        header) made by PostgreSQL in one statement and one snapshot, streamed in chunks:
        the bulk path for analysts, in log order, `recorded_at` in UTC."""
        params = {
            "prefix": stream_prefix,
            "venue": venue,
            "types": list(types) if types is not None else None,
            "from": recorded_from,
            "before": recorded_before,
        }
        statement = _COPY_JSONL if format == "jsonl" else _COPY_CSV
        async with (
            self._pool.connection() as connection,
            connection.cursor() as cursor,
            cursor.copy(statement, params) as copy,
        ):
            async for chunk in copy:
                yield bytes(chunk)

    async def head(self) -> ConsistencyToken:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(_SELECT_HEAD)
            row = await cursor.fetchone()
        return ConsistencyToken(row[0], row[1]) if row else ORIGIN

    @contextlib.asynccontextmanager
    async def wakeups(self) -> AsyncIterator[_PostgresWakeups]:
        listener = _PostgresWakeups(self._conninfo)
        await listener.start()
        try:
            yield listener
        finally:
            await listener.stop()


def _translate(error: psycopg.Error) -> Exception:
    if error.sqlstate == "TB409" and error.diag.message_detail:
        detail = json.loads(error.diag.message_detail)
        expected = detail["expected"]
        return ConcurrencyError(
            detail["stream_id"], "any" if expected == -1 else expected, detail["actual"]
        )
    if error.sqlstate == "TB422":
        return IdempotencyKeyReused(error.diag.message_detail or "")
    return error
