"""The contract every event store keeps, in memory or in PostgreSQL.

- `append` writes events to several streams atomically, each stream only if it stands at
  the expected version; otherwise nothing is written and `ConcurrencyError` names the
  stream, the expected and the actual version.
- Stream versions start at 1 and have no gaps; positions are global and unique.
- `read_all` is gap-free: it returns events in `(tx, position)` order and never returns an
  event while an earlier-ordered one may still commit, so a reader that resumes after the
  last token it saw never skips an event. Its filters (stream prefix, venue, types, a
  window of `recorded_at`: from inclusive, before exclusive) only leave events out; the
  order and the gap-free rule stay. The venue filter keeps the streams whose
  `venue_of(stream_id)` is that venue.
- An idempotency key repeated with the same fingerprint writes nothing and returns the
  first append's result; with another fingerprint it raises `IdempotencyKeyReused`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from booking_core.store.records import (
    ORIGIN,
    AppendResult,
    ConsistencyToken,
    IdempotencyKey,
    RecordedEvent,
    StreamAppend,
)

__all__ = ["EventStore", "Wakeups"]


class Wakeups(Protocol):
    """Tells a reader that new events may be readable."""

    @property
    def announced(self) -> ConsistencyToken | None:
        """The furthest token announced so far; None until an append is announced."""
        ...

    async def wait(self, timeout: float) -> bool:
        """Wait until an append is announced or `timeout` seconds pass; True if announced.

        An announcement that came since the previous call counts: none is lost between
        a read and the next wait.
        """
        ...


class EventStore(Protocol):
    async def append(
        self, streams: Sequence[StreamAppend], *, idempotency: IdempotencyKey | None = None
    ) -> AppendResult: ...

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]: ...

    async def read_streams(
        self, stream_ids: Collection[str], from_versions: Mapping[str, int] | None = None
    ) -> dict[str, list[RecordedEvent]]:
        """Each stream's events from `from_versions[stream_id]` on (from the first when
        absent), in version order, read at one moment (one round trip); a stream that does
        not exist, or has no event that far, maps to an empty list. A reader that keeps a
        folded state asks from the version it folded, so it gets that event back (to see
        it is still the one it folded) and only the tail after it."""
        ...

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version; 0 if it does not exist."""
        ...

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
    ) -> list[RecordedEvent]: ...

    async def head(self) -> ConsistencyToken:
        """The token of the newest event `read_all` can return now (ORIGIN if none)."""
        ...

    def wakeups(self) -> AbstractAsyncContextManager[Wakeups]: ...
