"""The event store in PostgreSQL.

An append is one call of the `tb_append` function (see the first migration): one round
trip, one transaction, which checks and bumps each stream's version, records the
idempotency key, inserts the events and sends `pg_notify`, so listeners wake as soon as
it commits.

Personal fields are sealed on the way in and opened on the way out
(`booking_core.store.sealing`): an append seals each personal event under its person's
key, which the append function creates or checks in the append's own transaction (see
`_persons`); every read fetches the keys in the same statement (a LEFT JOIN on the
payload's `person`) and opens, so what readers get looks exactly as it was written, or,
once the person's key is gone, shows their fields as erased. Keys are never kept for
reading.

Reading everything is gap-free: positions come from a sequence, so a transaction can
commit events with lower positions after a reader has already seen higher ones. Readers
therefore order by `(tx, position)` and only see transactions older than the oldest one
still running in this database (`tb_read_horizon()`), which can no longer be overtaken.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import msgspec
import psycopg
from psycopg.adapt import Loader
from psycopg_pool import AsyncConnectionPool

from booking_core.domain.identity import identity_digest
from booking_core.domain.personal import PERSONAL_FIELDS
from booking_core.domain.streams import streams_of
from booking_core.store._persons import Keyring, PersonSlot, Wanted, personal_events
from booking_core.store._validation import check_append
from booking_core.store.errors import ConcurrencyError, IdempotencyKeyReused, PersonsMoved
from booking_core.store.listener import Listener
from booking_core.store.records import (
    ANY,
    ORIGIN,
    AppendResult,
    ConsistencyToken,
    IdempotencyKey,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    StreamMark,
)
from booking_core.store.sealing import SEALED, open_sealed
from booking_core.store.venue_filter import in_venue

__all__ = [
    "CHANNEL",
    "RECORD_COLUMNS",
    "WITH_KEYS",
    "PostgresEventStore",
    "configure_connection",
    "opened_data",
    "opened_record",
]

CHANNEL = "tablebook_events"

RECORD_COLUMNS = """
events.position, events.tx::text::bigint, events.stream_id, events.version, events.type,
events.schema_version, events.data, events.metadata, events.recorded_at, person_keys.key
"""
"""What `opened_record` takes, from `events` joined `WITH_KEYS`."""

WITH_KEYS = """
LEFT JOIN person_keys ON events.data ? '_sealed' AND person_keys.person = events.data->>'person'
"""
"""The join that brings each sealed event's key (NULL once its person is erased)."""

_SELECT_STREAM = f"""
SELECT {RECORD_COLUMNS} FROM events {WITH_KEYS}
WHERE stream_id = %s AND version >= %s ORDER BY version
"""  # noqa: S608 - built from constants

_SELECT_STREAMS = "SELECT * FROM tb_read_streams(%s::text[], %s::int[])"
"""The same join as `_SELECT_STREAM` for several streams, in a function (migration 0023)
so that PostgreSQL plans it once per connection instead of at every call."""

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
SELECT {RECORD_COLUMNS}
FROM (
    SELECT * FROM events
    WHERE (tx, position) > (%(tx)s::text::xid8, %(position)s) AND {_VISIBLE}
    ORDER BY tx, position
    LIMIT %(limit)s
) AS events {WITH_KEYS}
ORDER BY events.tx, events.position
"""  # noqa: S608 - built from constants
"""The page is cut before the keys are joined: the planner cannot tell how many events lie
past a `(tx, position)`, and once guessed few it joined every one of them to the keys
and sorted, so each page of a rebuild read the rest of the log (3 s a page at 1,500,000
events to go)."""

_UTC = """to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
_SEALED_MARK = (
    "CASE WHEN data ? '_sealed' THEN 's' || coalesce(encode(person_keys.key, 'hex'), '') END"
)
"""Empty for an event with nothing sealed; for a sealed one, `s` and its key in hex (just
`s` once its person is erased): the export opens those rows on the way out."""
# One JSON object a line, put together by concatenation (twice as fast as
# json_build_object). CSV mode, with quote and delimiter characters JSON never holds raw,
# keeps COPY from escaping the JSON's backslashes. A row is `line \x02 \x02` with nothing
# sealed, or `line-up-to-data \x02 data \x02 mark` for a payload the export opens.
_COPY_JSONL = f"""
COPY (SELECT '{{"position":' || position || ',"tx":' || tx || ',"stream_id":'
             || to_json(stream_id) || ',"version":' || version || ',"type":' || to_json(type)
             || ',"schema_version":' || schema_version || ',"recorded_at":"' || {_UTC}
             || '","metadata":' || metadata || ',"data":'
             || CASE WHEN data ? '_sealed' THEN '' ELSE data::text || '}}' END,
             CASE WHEN data ? '_sealed' THEN data::text END,
             {_SEALED_MARK}
      FROM events {WITH_KEYS} WHERE {_VISIBLE} ORDER BY tx, position)
TO STDOUT (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')
"""  # noqa: S608 - built from constants
_COPY_CSV = f"""
COPY (SELECT position, tx::text::bigint AS tx, stream_id, version, type, schema_version,
             {_UTC} AS recorded_at, metadata, data, {_SEALED_MARK} AS sealed
      FROM events {WITH_KEYS} WHERE {_VISIBLE} ORDER BY tx, position)
TO STDOUT (FORMAT csv, HEADER)
"""  # noqa: S608 - built from constants
_EXPORT_BATCH = 1 << 16

_SELECT_HEAD = """
SELECT tx::text::bigint, position FROM events
WHERE tx < (SELECT tb_read_horizon())
ORDER BY events.tx DESC, events.position DESC LIMIT 1
"""

_APPEND = """
SELECT tb_append(%s::text[], %s::bigint[], %s::int[], %s::text[], %s::smallint[],
                 %s::jsonb[], %s::jsonb[], %s, %s, %s::jsonb,
                 %s::text[], %s::text[], %s::bytea[], %s::bytea[], %s::boolean[])
"""
_APPEND_CHECKING_LAST = _APPEND.replace(
    "%s::boolean[])", "%s::boolean[], %s::bigint[], %s::bigint[])"
)
"""The same, naming the last event of each stream decided on unread (migration 0020);
an append that names none keeps the form that any schema since 0013 takes."""

# A named person's key (none once erased), or an identity's person and key.
_LOOK_UP = """
SELECT person_keys.person, person_keys.venue_id, person_keys.key
FROM unnest(%s::text[], %s::text[], %s::bytea[]) WITH ORDINALITY AS w(person, venue_id, digest, n)
LEFT JOIN person_index ON person_index.venue_id = w.venue_id AND person_index.digest = w.digest
LEFT JOIN person_keys ON person_keys.person = coalesce(person_index.person, w.person)
ORDER BY w.n
"""

_ERASE = """
DELETE FROM person_keys USING unnest(%s::text[], %s::text[]) AS w(person, venue_id)
WHERE person_keys.person = w.person AND person_keys.venue_id = w.venue_id
RETURNING person_keys.person, person_keys.venue_id
"""

_PERSONS_OF = """
SELECT DISTINCT venue_id, person FROM person_index WHERE digest = ANY(%s::bytea[])
ORDER BY venue_id, person
"""

_STREAMS_OF_PERSONS = """
SELECT stream_id FROM events
WHERE data ? '_sealed' AND data->>'person' = ANY(%s::text[])
GROUP BY stream_id ORDER BY min(position)
"""

_SEAL_ATTEMPTS = 5
"""Appends sealed again after the persons moved under them (a concurrent append claimed
the same new identity, or a person was erased) before the append gives up."""


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
    marks: dict[str, int] = {}
    """Each stream given events: the position of its last new event."""
    recorded_at: datetime | None = None

    def stream_marks(self) -> dict[str, StreamMark]:
        if self.duplicate or self.recorded_at is None:
            return {}
        return {
            stream_id: StreamMark(self.versions[stream_id], position, self.tx, self.recorded_at)
            for stream_id, position in self.marks.items()
        }


_reply_decoder = msgspec.json.Decoder(_AppendReply)


def opened_data(event_type: str, data: bytes, key: bytes | None) -> bytes:
    """A stored payload as readers get it: its sealed fields opened with `key`, or, with
    none (the person was erased), shown as erased. Unsealed payloads pass as they are."""
    if event_type not in PERSONAL_FIELDS or _SEALED_BYTES not in data:
        return data
    payload = _decode_payload(data)
    if SEALED not in payload:
        return data
    return _encode_payload(open_sealed(event_type, payload, key))


def opened_record(row: Sequence[Any]) -> RecordedEvent:
    """A row of `RECORD_COLUMNS` as a record, opened."""
    return RecordedEvent(
        position=row[0],
        tx=row[1],
        stream_id=row[2],
        version=row[3],
        type=row[4],
        schema_version=row[5],
        data=opened_data(row[4], row[6], row[9]),
        metadata=row[7],
        recorded_at=row[8],
    )


_record = opened_record


def _mark_key(mark: bytes) -> bytes | None:
    """The key in an export row's mark (`s` and hex), None for an erased person."""
    return bytes.fromhex(mark[1:].decode()) if len(mark) > 1 else None


def _opened_jsonl(row: bytes) -> bytes:
    """An export row (`_COPY_JSONL`) as its JSON line, opened."""
    line, data, mark = row.rstrip(b"\n").split(b"\x02")
    if not mark:
        return line + b"\n"
    payload = _decode_payload(data)
    event_type = _decode_type(line + b"null}").type
    return line + _encode_payload(open_sealed(event_type, payload, _mark_key(mark))) + b"}\n"


def _opened_csv(row: bytes, *, header: bool) -> bytes:
    """An export row (`_COPY_CSV`) without its mark column, its data opened."""
    rest, _, mark = row.rstrip(b"\n").rpartition(b",")
    if header or not mark:
        return rest + b"\n"
    fields = next(csv.reader([rest.decode()]))
    payload = _decode_payload(fields[-1].encode())
    fields[-1] = _encode_payload(open_sealed(fields[4], payload, _mark_key(mark))).decode()
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    return out.getvalue().encode()


class _ExportedType(msgspec.Struct):
    type: str


_decode_type = msgspec.json.Decoder(_ExportedType).decode
_decode_payload = msgspec.json.Decoder(dict[str, Any]).decode
_encode_payload = msgspec.json.Encoder().encode
_SEALED_BYTES = f'"{SEALED}"'.encode()


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
        self._keyring = Keyring()

    async def append(
        self, streams: Sequence[StreamAppend], *, idempotency: IdempotencyKey | None = None
    ) -> AppendResult:
        check_append(streams)
        personal = personal_events(streams)
        for _ in range(_SEAL_ATTEMPTS):
            slots: list[PersonSlot] = []
            sealed: dict[int, bytes] = {}
            persons: dict[int, str] = {}
            if personal:
                plan = await self._keyring.plan(personal, self._look_up)
                slots, sealed, persons = plan.slots, plan.sealed, plan.persons
            try:
                row = await self._call_append(streams, idempotency, slots, sealed)
            except psycopg.Error as error:
                if error.sqlstate == "TB412":  # sealed on a stale view of the persons
                    self._keyring.forget(slots)
                    continue
                raise _translate(error) from error
            self._keyring.remember(slots)
            reply = _reply_decoder.decode(row)
            return AppendResult(
                versions=reply.versions,
                token=ConsistencyToken(reply.tx, reply.position),
                duplicate=reply.duplicate,
                payload=bytes(reply.payload),
                persons={} if reply.duplicate else persons,
                marks=reply.stream_marks(),
            )
        raise PersonsMoved(_SEAL_ATTEMPTS)

    async def _call_append(
        self,
        streams: Sequence[StreamAppend],
        idempotency: IdempotencyKey | None,
        slots: Sequence[PersonSlot],
        sealed: Mapping[int, bytes],
        connection: psycopg.AsyncConnection[Any] | None = None,
    ) -> Any:
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
                data.append(sealed.get(len(data), event.data).decode())
                metadata.append(event.metadata.decode())
        params: tuple[Any, ...] = (
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
            [slot.person for slot in slots] or None,
            [slot.venue_id for slot in slots] or None,
            [slot.digest for slot in slots] or None,
            [slot.key for slot in slots] or None,
            [slot.fresh for slot in slots] or None,
        )
        statement = _APPEND
        if any(stream.last is not None for stream in streams):
            statement = _APPEND_CHECKING_LAST
            params += (
                [s.last.position if s.last else None for s in streams],
                [s.last.tx if s.last else None for s in streams],
            )
        if connection is not None:
            cursor = await connection.execute(statement, params)
            row = await cursor.fetchone()
        else:
            async with self._pool.connection() as pooled:
                cursor = await pooled.execute(statement, params)
                row = await cursor.fetchone()
        assert row is not None
        return row[0]

    async def erase(
        self, persons: Mapping[str, Collection[str]], erased: Callable[[str, str], NewEvent]
    ) -> tuple[list[tuple[str, str]], ConsistencyToken | None]:
        """Erase persons (venue id → person ids) in one transaction: delete their keys (their
        identities go with them), so nothing sealed under them opens again, and append
        `erased(venue_id, person)` to each one's stream (`person-{id}` of their venue).

        Returns the `(venue_id, person)` erased now and the append's token. A person of
        another venue, unknown, or erased before is left out: erasing twice writes nothing
        the second time (None for the token when nothing was erased)."""
        wanted = [(v, p) for v, ids in persons.items() for p in dict.fromkeys(ids)]
        if not wanted:
            return [], None
        async with self._pool.connection() as connection, connection.transaction():
            cursor = await connection.execute(
                _ERASE, ([p for _, p in wanted], [v for v, _ in wanted])
            )
            deleted = {(row[1], row[0]) for row in await cursor.fetchall()}
            gone = [pair for pair in wanted if pair in deleted]
            self._keyring.forget([PersonSlot(p, v, None) for v, p in gone])
            if not gone:
                return [], None
            streams = [StreamAppend(streams_of(v).person(p), ANY, [erased(v, p)]) for v, p in gone]
            reply = _reply_decoder.decode(
                await self._call_append(streams, None, [], {}, connection)
            )
        return gone, ConsistencyToken(reply.tx, reply.position)

    async def persons_of(self, identities: Collection[str]) -> list[tuple[str, str]]:
        """The `(venue_id, person)` of each identity (`user:{id}`, `email:{address}`, …,
        `booking_core.domain.identity`) at every venue that knows it."""
        digests = [identity_digest(identity) for identity in dict.fromkeys(identities)]
        async with self._pool.connection() as connection:
            cursor = await connection.execute(_PERSONS_OF, (digests,))
            return [(row[0], row[1]) for row in await cursor.fetchall()]

    async def streams_of_persons(self, persons: Collection[str]) -> list[str]:
        """The streams holding an event with personal fields of one of `persons`."""
        async with self._pool.connection() as connection:
            cursor = await connection.execute(_STREAMS_OF_PERSONS, (list(persons),))
            return [row[0] for row in await cursor.fetchall()]

    async def _look_up(
        self, wanted: Sequence[Wanted]
    ) -> list[tuple[str | None, str | None, bytes | None]]:
        """Each wanted person's key (or identity's person and key), as committed now."""
        params = (
            [w.person for w in wanted],
            [w.venue_id for w in wanted],
            [w.digest for w in wanted],
        )
        async with self._pool.connection() as connection:
            cursor = await connection.execute(_LOOK_UP, params)
            rows = await cursor.fetchall()
        return [(row[0], row[1], row[2]) for row in rows]

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
        out = bytearray()
        header = format == "csv"
        async with (
            self._pool.connection() as connection,
            connection.cursor() as cursor,
            cursor.copy(statement, params) as copy,
        ):
            async for row in copy:  # one row at a time (a COPY TO sends a message a row)
                if format == "jsonl":
                    out += _opened_jsonl(bytes(row))
                else:
                    out += _opened_csv(bytes(row), header=header)
                    header = False
                if len(out) >= _EXPORT_BATCH:
                    yield bytes(out)
                    out.clear()
        if out:
            yield bytes(out)

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
