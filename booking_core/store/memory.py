"""An event store in a process's memory, with the same contract as the PostgreSQL one.

For fast unit tests of handlers and projections. Every append commits at once, so
`read_all` has no in-flight transactions to wait for.

Personal fields stay in the clear here (nothing is sealed), but persons behave as in
PostgreSQL: an event with personal fields and no `person` is resolved to the venue's
person of its identity, or a fresh one (`booking_core.domain.identity`); `erase` forgets
persons; every read shows an erased person's fields as erased, and events written for
them afterwards are stored that way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import msgspec

from booking_core.domain.identity import identity_digest, payload_identity
from booking_core.domain.personal import PERSONAL_FIELDS, erased_value, new_person_id
from booking_core.domain.streams import streams_of, venue_of
from booking_core.store._validation import check_append, expected_label
from booking_core.store.errors import ConcurrencyError, IdempotencyKeyReused
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

__all__ = ["InMemoryEventStore"]

_decode = msgspec.json.Decoder(dict[str, Any]).decode
_encode = msgspec.json.Encoder().encode


def _erased(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, **{name: erased_value(name) for name in PERSONAL_FIELDS[event_type]}}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _MemoryWakeups:
    def __init__(self) -> None:
        self.signal = asyncio.Event()
        self.announced: ConsistencyToken | None = None

    def announce(self, token: ConsistencyToken) -> None:
        self.announced = token if self.announced is None else max(self.announced, token)
        self.signal.set()

    async def wait(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.signal.wait(), timeout)
        except TimeoutError:
            return False
        self.signal.clear()
        return True


class InMemoryEventStore:
    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock
        self._log: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._keys: dict[str, tuple[str, AppendResult]] = {}
        self._listeners: set[_MemoryWakeups] = set()
        self._tx = 0
        self._persons: dict[str, str] = {}
        """Each person with a key → its venue."""
        self._identities: dict[tuple[str, bytes], str] = {}
        self._erased: set[str] = set()

    async def append(
        self, streams: Sequence[StreamAppend], *, idempotency: IdempotencyKey | None = None
    ) -> AppendResult:
        check_append(streams)
        if idempotency is not None and idempotency.key in self._keys:
            fingerprint, first = self._keys[idempotency.key]
            if fingerprint != idempotency.fingerprint:
                raise IdempotencyKeyReused(idempotency.key)
            return AppendResult(
                versions=first.versions, token=first.token, duplicate=True, payload=first.payload
            )
        for stream in streams:
            history = self._streams.get(stream.stream_id, [])
            actual = len(history)
            if stream.expected is not ANY and stream.expected != actual:
                raise ConcurrencyError(stream.stream_id, expected_label(stream.expected), actual)
            if stream.last is not None and not (history and stream.last.marks(history[-1])):
                raise ConcurrencyError(stream.stream_id, expected_label(stream.expected), actual)

        streams = list(streams)
        persons = self._with_persons(streams)
        self._tx += 1
        now = self._clock()
        versions: dict[str, int] = {}
        marks: dict[str, StreamMark] = {}
        for stream in streams:
            history = self._streams.get(stream.stream_id, [])
            if stream.events:
                self._streams[stream.stream_id] = history
            for event in stream.events:
                recorded = RecordedEvent(
                    position=len(self._log) + 1,
                    tx=self._tx,
                    stream_id=stream.stream_id,
                    version=len(history) + 1,
                    type=event.type,
                    schema_version=event.schema_version,
                    data=event.data,
                    metadata=event.metadata,
                    recorded_at=now,
                )
                history.append(recorded)
                self._log.append(recorded)
                marks[stream.stream_id] = StreamMark.of(recorded)
            versions[stream.stream_id] = len(history)
        payload = idempotency.payload if idempotency is not None else b"null"
        result = AppendResult(
            versions=versions,
            token=self._log[-1].token,
            payload=payload,
            persons=persons,
            marks=marks,
        )
        if idempotency is not None:
            self._keys[idempotency.key] = (idempotency.fingerprint, result)
        for listener in self._listeners:
            listener.announce(result.token)
        return result

    def _with_persons(self, streams: list[StreamAppend]) -> dict[int, str]:
        """Resolve each personal event's person, in place in `streams`; return the person
        of each by its index in the append."""
        persons: dict[int, str] = {}
        index = 0
        for number, stream in enumerate(streams):
            venue_id = venue_of(stream.stream_id)
            events = list(stream.events)
            for position, event in enumerate(events):
                if event.type in PERSONAL_FIELDS:
                    payload = _decode(event.data)
                    person = payload.get("person")
                    if not isinstance(person, str):
                        person = self._resolve(venue_id, payload_identity(payload, event.account))
                    elif self._persons.get(person, venue_id) != venue_id:
                        raise ValueError(f"person {person!r} belongs to another venue")
                    payload["person"] = persons[index] = person
                    if person not in self._persons:  # erased (or never made): stored so
                        payload = _erased(event.type, payload)
                    events[position] = msgspec.structs.replace(
                        event, data=_encode(payload), account=None
                    )
                index += 1
            streams[number] = StreamAppend(stream.stream_id, stream.expected, events, stream.last)
        return persons

    def _resolve(self, venue_id: str, identity: str | None) -> str:
        digest = identity_digest(identity) if identity is not None else None
        if digest is not None and (venue_id, digest) in self._identities:
            return self._identities[(venue_id, digest)]
        person = new_person_id()
        self._persons[person] = venue_id
        if digest is not None:
            self._identities[(venue_id, digest)] = person
        return person

    async def erase(
        self, persons: Mapping[str, Collection[str]], erased: Callable[[str, str], NewEvent]
    ) -> tuple[list[tuple[str, str]], ConsistencyToken | None]:
        """See `PostgresEventStore.erase`."""
        gone = [
            (venue_id, person)
            for venue_id, wanted in persons.items()
            for person in dict.fromkeys(wanted)
            if self._persons.get(person) == venue_id
        ]
        for _, person in gone:
            del self._persons[person]
            self._erased.add(person)
        self._identities = {
            found: person for found, person in self._identities.items() if person in self._persons
        }
        if not gone:
            return [], None
        appended = await self.append(
            [
                StreamAppend(streams_of(venue_id).person(person), ANY, [erased(venue_id, person)])
                for venue_id, person in gone
            ]
        )
        return gone, appended.token

    async def persons_of(self, identities: Collection[str]) -> list[tuple[str, str]]:
        """See `PostgresEventStore.persons_of`."""
        digests = {identity_digest(identity) for identity in identities}
        return sorted(
            {
                (venue_id, person)
                for (venue_id, d), person in self._identities.items()
                if d in digests
            }
        )

    async def streams_of_persons(self, persons: Collection[str]) -> list[str]:
        """See `PostgresEventStore.streams_of_persons`."""
        wanted = set(persons)
        found = (
            record.stream_id
            for record in self._log
            if record.type in PERSONAL_FIELDS and _decode(record.data).get("person") in wanted
        )
        return list(dict.fromkeys(found))

    def _view(self, record: RecordedEvent) -> RecordedEvent:
        """The record as readers see it: an erased person's fields erased."""
        if record.type not in PERSONAL_FIELDS or not self._erased:
            return record
        payload = _decode(record.data)
        if payload.get("person") not in self._erased:
            return record
        return msgspec.structs.replace(record, data=_encode(_erased(record.type, payload)))

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        return [self._view(r) for r in self._streams.get(stream_id, [])[max(from_version, 1) - 1 :]]

    async def read_streams(
        self, stream_ids: Collection[str], from_versions: Mapping[str, int] | None = None
    ) -> dict[str, list[RecordedEvent]]:
        starts = from_versions or {}
        return {
            stream_id: [
                self._view(record)
                for record in self._streams.get(stream_id, [])[
                    max(starts.get(stream_id, 1), 1) - 1 :
                ]
            ]
            for stream_id in stream_ids
        }

    async def stream_version(self, stream_id: str) -> int:
        return len(self._streams.get(stream_id, ()))

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
        # tx and position grow together here, so the log is already in token order.
        start = 0 if after.position <= 0 else after.position
        found: list[RecordedEvent] = []
        for event in self._log[start:]:
            if stream_prefix is not None and not event.stream_id.startswith(stream_prefix):
                continue
            if venue is not None and venue_of(event.stream_id) != venue:
                continue
            if types is not None and event.type not in types:
                continue
            if recorded_from is not None and event.recorded_at < recorded_from:
                continue
            if recorded_before is not None and event.recorded_at >= recorded_before:
                continue
            found.append(self._view(event))
            if len(found) >= limit:
                break
        return found

    async def head(self) -> ConsistencyToken:
        return self._log[-1].token if self._log else ORIGIN

    @asynccontextmanager
    async def wakeups(self) -> AsyncIterator[_MemoryWakeups]:
        listener = _MemoryWakeups()
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)
