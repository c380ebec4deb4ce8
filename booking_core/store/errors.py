"""Typed failures of the event store."""

from __future__ import annotations

__all__ = ["ConcurrencyError", "EventStoreError", "IdempotencyKeyReused", "PersonsMoved"]


class EventStoreError(Exception):
    """Base of every error the event store raises on purpose."""


class ConcurrencyError(EventStoreError):
    """A stream was not at the version the append expected: someone wrote first."""

    def __init__(self, stream_id: str, expected: int | str, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, the append expected {expected}"
        )


class IdempotencyKeyReused(EventStoreError):
    """An idempotency key came back with a different request than the first time."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"idempotency key {key!r} was already used for another request")


class PersonsMoved(EventStoreError):
    """An append's persons kept changing under it (other appends claiming the same new
    guest, erasures) however often it sealed its personal fields again."""

    def __init__(self, attempts: int) -> None:
        self.attempts = attempts
        super().__init__(f"the persons of an append kept moving, {attempts} times")
