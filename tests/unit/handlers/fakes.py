"""Event stores that lose races on purpose, around the real in-memory store.

- `Counting`: remembers what was read;
- `Racing`: just before the handler's first append, someone else's command runs;
- `RacingAfterFirstRead`: just after the handler's first read, someone else's command runs;
- `AlwaysLosing`: every append finds the stream moved on;
- `Interleaving`: every read and append yields to other tasks a random number of times,
  so concurrent handlers interleave between their reads and their append.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from booking_core.store import (
    ORIGIN,
    AppendResult,
    ConcurrencyError,
    ConsistencyToken,
    IdempotencyKey,
    InMemoryEventStore,
    RecordedEvent,
    StreamAppend,
    Wakeups,
)


class Delegating:
    def __init__(self, inner: InMemoryEventStore) -> None:
        self.inner = inner
        self.appends = 0

    async def append(
        self, streams: Sequence[StreamAppend], *, idempotency: IdempotencyKey | None = None
    ) -> AppendResult:
        self.appends += 1
        return await self.inner.append(streams, idempotency=idempotency)

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        return await self.inner.read_stream(stream_id, from_version)

    async def read_streams(
        self, stream_ids: Collection[str], from_versions: Mapping[str, int] | None = None
    ) -> dict[str, list[RecordedEvent]]:
        return await self.inner.read_streams(stream_ids, from_versions)

    async def stream_version(self, stream_id: str) -> int:
        return await self.inner.stream_version(stream_id)

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
        return await self.inner.read_all(
            after,
            limit,
            stream_prefix=stream_prefix,
            venue=venue,
            types=types,
            recorded_from=recorded_from,
            recorded_before=recorded_before,
        )

    async def head(self) -> ConsistencyToken:
        return await self.inner.head()

    def wakeups(self) -> AbstractAsyncContextManager[Wakeups]:
        return self.inner.wakeups()


class Counting(Delegating):
    """Remembers every stream read, and how many events the reads returned."""

    def __init__(self, inner: InMemoryEventStore) -> None:
        super().__init__(inner)
        self.reads: list[str] = []
        self.events_read = 0

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        self.reads.append(stream_id)
        found = await super().read_stream(stream_id, from_version)
        self.events_read += len(found)
        return found

    async def read_streams(
        self, stream_ids: Collection[str], from_versions: Mapping[str, int] | None = None
    ) -> dict[str, list[RecordedEvent]]:
        self.reads.extend(stream_ids)
        found = await super().read_streams(stream_ids, from_versions)
        self.events_read += sum(len(events) for events in found.values())
        return found


class Racing(Delegating):
    def __init__(
        self, inner: InMemoryEventStore, rival: Callable[[InMemoryEventStore], Awaitable[object]]
    ) -> None:
        super().__init__(inner)
        self._rival: Callable[[InMemoryEventStore], Awaitable[object]] | None = rival

    async def append(
        self, streams: Sequence[StreamAppend], *, idempotency: IdempotencyKey | None = None
    ) -> AppendResult:
        rival, self._rival = self._rival, None
        if rival is not None:
            await rival(self.inner)
        return await super().append(streams, idempotency=idempotency)


class RacingAfterFirstRead(Delegating):
    def __init__(
        self, inner: InMemoryEventStore, rival: Callable[[InMemoryEventStore], Awaitable[object]]
    ) -> None:
        super().__init__(inner)
        self._rival: Callable[[InMemoryEventStore], Awaitable[object]] | None = rival

    async def read_streams(
        self, stream_ids: Collection[str], from_versions: Mapping[str, int] | None = None
    ) -> dict[str, list[RecordedEvent]]:
        found = await super().read_streams(stream_ids, from_versions)
        rival, self._rival = self._rival, None
        if rival is not None:
            await rival(self.inner)
        return found


class AlwaysLosing(Delegating):
    async def append(
        self, streams: Sequence[StreamAppend], *, idempotency: IdempotencyKey | None = None
    ) -> AppendResult:
        self.appends += 1
        first = streams[0]
        raise ConcurrencyError(first.stream_id, str(first.expected), 99)


class Interleaving(Delegating):
    def __init__(self, inner: InMemoryEventStore, seed: int) -> None:
        super().__init__(inner)
        self._random = random.Random(seed)

    async def _shuffle(self) -> None:
        for _ in range(self._random.randrange(4)):
            await asyncio.sleep(0)

    async def append(
        self, streams: Sequence[StreamAppend], *, idempotency: IdempotencyKey | None = None
    ) -> AppendResult:
        await self._shuffle()
        return await super().append(streams, idempotency=idempotency)

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        await self._shuffle()
        return await super().read_stream(stream_id, from_version)

    async def read_streams(
        self, stream_ids: Collection[str], from_versions: Mapping[str, int] | None = None
    ) -> dict[str, list[RecordedEvent]]:
        await self._shuffle()
        return await super().read_streams(stream_ids, from_versions)
