"""An event store in a process's memory, with the same contract as the PostgreSQL one.

For fast unit tests of handlers and projections. Every append commits at once, so
`read_all` has no in-flight transactions to wait for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from booking_core.domain.streams import venue_of
from booking_core.store._validation import check_append, expected_label
from booking_core.store.errors import ConcurrencyError, IdempotencyKeyReused
from booking_core.store.records import (
    ANY,
    ORIGIN,
    AppendResult,
    ConsistencyToken,
    IdempotencyKey,
    RecordedEvent,
    StreamAppend,
)

__all__ = ["InMemoryEventStore"]


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
            actual = len(self._streams.get(stream.stream_id, ()))
            if stream.expected is not ANY and stream.expected != actual:
                raise ConcurrencyError(stream.stream_id, expected_label(stream.expected), actual)

        self._tx += 1
        now = self._clock()
        versions: dict[str, int] = {}
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
            versions[stream.stream_id] = len(history)
        payload = idempotency.payload if idempotency is not None else b"null"
        result = AppendResult(versions=versions, token=self._log[-1].token, payload=payload)
        if idempotency is not None:
            self._keys[idempotency.key] = (idempotency.fingerprint, result)
        for listener in self._listeners:
            listener.announce(result.token)
        return result

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        return self._streams.get(stream_id, [])[max(from_version, 1) - 1 :]

    async def read_streams(
        self, stream_ids: Collection[str], from_versions: Mapping[str, int] | None = None
    ) -> dict[str, list[RecordedEvent]]:
        starts = from_versions or {}
        return {
            stream_id: self._streams.get(stream_id, [])[max(starts.get(stream_id, 1), 1) - 1 :]
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
            found.append(event)
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
