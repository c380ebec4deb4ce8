"""Domain events to stored records and back.

Every event type has an explicit, stable name (its msgspec tag) and a schema version.
Schemas evolve by adding fields with defaults; a breaking change bumps `schema_version`
and registers a pure upcaster from the previous version. Stored rows are never
rewritten: upcasters run on read, oldest first, until the payload has today's shape.

A record that cannot be decoded is never skipped: it raises an `EventDecodeError` that
names its stream and version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from booking_core.domain.events import ALL_EVENTS, Event
from booking_core.store.records import NewEvent, RecordedEvent

__all__ = [
    "CorruptEvent",
    "Event",
    "EventCodec",
    "EventDecodeError",
    "EventMetadata",
    "MissingUpcaster",
    "UnknownEventType",
    "Upcaster",
    "codec",
]


class EventMetadata(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Who caused an event and in answer to what."""

    command_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class Upcaster:
    """Turns the payload of `type` at `from_version` into the shape of `from_version + 1`."""

    type: str
    from_version: int
    upcast: Callable[[dict[str, Any]], dict[str, Any]]


class EventDecodeError(Exception):
    """A stored event that cannot become a domain event."""

    def __init__(self, record: RecordedEvent, reason: str) -> None:
        self.stream_id = record.stream_id
        self.version = record.version
        self.type = record.type
        super().__init__(
            f"cannot decode event {record.type!r} at {record.stream_id!r} version "
            f"{record.version}: {reason}"
        )


class UnknownEventType(EventDecodeError):
    pass


class MissingUpcaster(EventDecodeError):
    pass


class CorruptEvent(EventDecodeError):
    pass


_metadata_decoder = msgspec.json.Decoder(EventMetadata)


def _tag_of(event_type: type[Event]) -> str:
    tag = event_type.__struct_config__.tag
    if not isinstance(tag, str):
        raise TypeError(f"{event_type.__name__} needs an explicit string tag")
    return tag


class EventCodec:
    def __init__(
        self, event_types: Iterable[type[Event]], upcasters: Iterable[Upcaster] = ()
    ) -> None:
        self._types: dict[str, type[Event]] = {}
        for event_type in event_types:
            tag = _tag_of(event_type)
            if tag in self._types:
                raise ValueError(f"two event types share the tag {tag!r}")
            self._types[tag] = event_type
        self._decoders = {tag: msgspec.json.Decoder(cls) for tag, cls in self._types.items()}
        self._upcasters = {(u.type, u.from_version): u.upcast for u in upcasters}
        self._encoder = msgspec.json.Encoder()

    @property
    def type_names(self) -> frozenset[str]:
        return frozenset(self._types)

    def encode(self, event: Event, metadata: EventMetadata | None = None) -> NewEvent:
        tag = _tag_of(type(event))
        if tag not in self._types:
            raise ValueError(f"event type {tag!r} is not registered with this codec")
        return NewEvent(
            type=tag,
            data=self._encoder.encode(event),
            metadata=self._encoder.encode(metadata) if metadata is not None else b"{}",
            schema_version=type(event).schema_version,
        )

    def decode(self, record: RecordedEvent) -> Event:
        decoder = self._decoders.get(record.type)
        if decoder is None:
            raise UnknownEventType(record, "no such event type is known")
        current = self._types[record.type].schema_version
        try:
            if record.schema_version == current:
                return decoder.decode(record.data)
            if record.schema_version > current:
                raise MissingUpcaster(
                    record,
                    f"stored at schema version {record.schema_version}, newer than {current}",
                )
            return self._upcast(record, current)
        except msgspec.DecodeError as error:
            raise CorruptEvent(record, str(error)) from error

    def metadata(self, record: RecordedEvent) -> EventMetadata:
        try:
            return _metadata_decoder.decode(record.metadata)
        except msgspec.DecodeError as error:
            raise CorruptEvent(record, f"metadata: {error}") from error

    def _upcast(self, record: RecordedEvent, current: int) -> Event:
        payload = msgspec.json.decode(record.data)
        if not isinstance(payload, dict):
            raise CorruptEvent(record, "payload is not a JSON object")
        for version in range(record.schema_version, current):
            upcast = self._upcasters.get((record.type, version))
            if upcast is None:
                raise MissingUpcaster(
                    record, f"no upcaster from schema version {version} to {version + 1}"
                )
            payload = upcast(payload)
        payload["type"] = record.type
        try:
            return msgspec.convert(payload, self._types[record.type])
        except msgspec.ValidationError as error:
            raise CorruptEvent(record, f"after upcasting: {error}") from error


codec: Final = EventCodec(ALL_EVENTS)
"""Every domain event, by its stable name: the one codec the store's readers and writers use."""
