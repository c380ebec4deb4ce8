"""The event store: append with optimistic concurrency, read a stream, read everything
gap-free. PostgreSQL for real, memory for fast tests; one contract for both."""

from booking_core.store.errors import ConcurrencyError, EventStoreError, IdempotencyKeyReused
from booking_core.store.memory import InMemoryEventStore
from booking_core.store.protocol import EventStore, Wakeups
from booking_core.store.records import (
    ANY,
    NO_STREAM,
    ORIGIN,
    AppendResult,
    ConsistencyToken,
    ExpectedVersion,
    IdempotencyKey,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    StreamMark,
)
from booking_core.store.subscription import subscribe

__all__ = [
    "ANY",
    "NO_STREAM",
    "ORIGIN",
    "AppendResult",
    "ConcurrencyError",
    "ConsistencyToken",
    "EventStore",
    "EventStoreError",
    "ExpectedVersion",
    "IdempotencyKey",
    "IdempotencyKeyReused",
    "InMemoryEventStore",
    "NewEvent",
    "RecordedEvent",
    "StreamAppend",
    "StreamMark",
    "Wakeups",
    "subscribe",
]
