"""What the event store keeps and hands back: stored records, not domain events.

The store deals in bytes and names; turning them into domain events is the codec's job
(`booking_core.codec`). Keeping the two apart lets the store be tested, benchmarked and
replaced without knowing a single business type.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Final, Literal

import msgspec

__all__ = [
    "ANY",
    "NO_STREAM",
    "ORIGIN",
    "AppendResult",
    "ConsistencyToken",
    "ExpectedVersion",
    "IdempotencyKey",
    "NewEvent",
    "RecordedEvent",
    "StreamAppend",
]


class _Any(enum.Enum):
    ANY = "any"


ANY: Final = _Any.ANY
"""Append whatever the stream's current version is."""

NO_STREAM: Final = 0
"""Append only if the stream does not exist yet (its version is 0)."""

ExpectedVersion = int | Literal[_Any.ANY]


class ConsistencyToken(msgspec.Struct, frozen=True, order=True):
    """A point in the global, gap-free order of events: `(tx, position)`.

    Tokens order the way subscribers read: by the writing transaction's id, then by
    position. A read model whose checkpoint is at or past a token includes that write.
    """

    tx: int
    position: int

    def __str__(self) -> str:
        return f"{self.tx}-{self.position}"

    @classmethod
    def parse(cls, text: str) -> ConsistencyToken:
        """Parse the `tx-position` form; raise ValueError on anything else."""
        tx_text, sep, position_text = text.strip().partition("-")
        if not (sep and _ascii_number(tx_text) and _ascii_number(position_text)):
            raise ValueError(f"not a consistency token: {text!r} (expected 'tx-position')")
        return cls(int(tx_text), int(position_text))


def _ascii_number(text: str) -> bool:
    """0-9 only: `isdigit` alone takes `²` (which `int` refuses) and other scripts' digits."""
    return text.isascii() and text.isdigit()


ORIGIN: Final = ConsistencyToken(0, 0)
"""Before the first event."""


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event about to be appended: its type name, JSON payload and metadata."""

    type: str
    data: bytes
    metadata: bytes = b"{}"
    schema_version: int = 1
    account: str | None = None
    """The signed-in guest who wrote this event for themselves, if one did: an event with
    personal fields and no `person` then belongs to the person of that account rather
    than of its email or phone (`booking_core.domain.identity`). Never stored."""


class StreamMark(msgspec.Struct, frozen=True):
    """Where a stream's last event stands: enough to know that event again in a read of
    the stream (a restored or truncated store may hold another event at the same version,
    but not at the same position, in the same transaction, recorded at the same instant)."""

    version: int
    position: int
    tx: int
    recorded_at: datetime

    @classmethod
    def of(cls, record: RecordedEvent) -> StreamMark:
        return cls(record.version, record.position, record.tx, record.recorded_at)

    def marks(self, record: RecordedEvent) -> bool:
        """Whether `record` is the event this mark was taken of."""
        return (
            record.position == self.position
            and record.version == self.version
            and record.tx == self.tx
            and record.recorded_at == self.recorded_at
        )


class StreamAppend(msgspec.Struct, frozen=True):
    """Events for one stream, appended only if the stream is at `expected` version.

    An empty `events` asserts the version without writing, holding the stream still
    until the append commits (a decision may depend on a stream it does not change).
    With `last`, the event at that version must also be the one the mark names: a writer
    that decided on a state it kept, not one it read now, asks it, since a log restored
    from a backup may hold other events at the same version.
    """

    stream_id: str
    expected: ExpectedVersion
    events: Sequence[NewEvent]
    last: StreamMark | None = None


class IdempotencyKey(msgspec.Struct, frozen=True, kw_only=True):
    """A client-supplied key recorded in the same transaction as the events.

    `fingerprint` identifies the request; reusing the key for a different request is an
    error. `payload` is JSON the caller wants back when the request is repeated.
    """

    key: str
    fingerprint: str
    payload: bytes = b"null"


class AppendResult(msgspec.Struct, frozen=True, kw_only=True):
    """The streams' versions after the append and the token of its last event.

    `duplicate` is true when an idempotency key matched an earlier append: nothing was
    written and everything here is the first append's result.
    """

    versions: dict[str, int]
    token: ConsistencyToken
    duplicate: bool = False
    payload: bytes = b"null"
    persons: dict[int, str] = {}
    """The person each event with personal fields was stored under, by the event's index
    in the append (streams in order, then their events); empty for a duplicate."""
    marks: dict[str, StreamMark] = {}
    """Each stream given events: its last new event's mark. Empty for a duplicate."""


class RecordedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event as stored: where it stands globally and in its stream, and its bytes."""

    position: int
    tx: int
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: bytes
    metadata: bytes
    recorded_at: datetime

    @property
    def token(self) -> ConsistencyToken:
        return ConsistencyToken(self.tx, self.position)
