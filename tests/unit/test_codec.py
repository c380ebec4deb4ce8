"""The codec: stable names, schema versions, upcasters, and loud failures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

import msgspec
import pytest

from booking_core.codec import (
    CorruptEvent,
    Event,
    EventCodec,
    EventMetadata,
    MissingUpcaster,
    UnknownEventType,
    Upcaster,
)
from booking_core.store import RecordedEvent


class GuestArrived(Event, frozen=True, tag="GuestArrived"):
    booking_id: str
    party_size: int


class TableHeld(Event, frozen=True, tag="TableHeld"):
    """Version 3: v1 had `table`, v2 renamed it `table_id`, v3 added `service_date`."""

    schema_version: ClassVar[int] = 3
    table_id: str
    service_date: date


def _rename_table(payload: dict[str, Any]) -> dict[str, Any]:
    payload["table_id"] = payload.pop("table")
    return payload


def _add_service_date(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "service_date": "2026-12-24"}


codec = EventCodec(
    [GuestArrived, TableHeld],
    upcasters=[
        Upcaster("TableHeld", 1, _rename_table),
        Upcaster("TableHeld", 2, _add_service_date),
    ],
)


def stored(kind: str, data: bytes, schema_version: int = 1) -> RecordedEvent:
    return RecordedEvent(
        position=7,
        tx=3,
        stream_id="table-WINDOW-4",
        version=5,
        type=kind,
        schema_version=schema_version,
        data=data,
        metadata=b"{}",
        recorded_at=datetime(2026, 12, 24, 19, 0, tzinfo=UTC),
    )


def test_an_event_round_trips_with_its_name_and_schema_version() -> None:
    new = codec.encode(TableHeld(table_id="WINDOW-4", service_date=date(2026, 12, 24)))
    assert new.type == "TableHeld"
    assert new.schema_version == 3
    back = codec.decode(stored(new.type, new.data, new.schema_version))
    assert back == TableHeld(table_id="WINDOW-4", service_date=date(2026, 12, 24))


def test_metadata_round_trips() -> None:
    meta = EventMetadata(command_id="c-1", user_id="u-ada", correlation_id="c-1")
    new = codec.encode(GuestArrived(booking_id="b1", party_size=6), meta)
    record = msgspec.structs.replace(stored(new.type, new.data), metadata=new.metadata)
    assert codec.metadata(record) == meta


def test_old_payloads_are_upcast_in_order_on_read() -> None:
    old = stored("TableHeld", b'{"table":"WINDOW-4"}', schema_version=1)
    assert codec.decode(old) == TableHeld(table_id="WINDOW-4", service_date=date(2026, 12, 24))


def test_an_unknown_event_type_names_its_stream_and_version() -> None:
    with pytest.raises(UnknownEventType) as raised:
        codec.decode(stored("TableTeleported", b"{}"))
    assert raised.value.stream_id == "table-WINDOW-4"
    assert raised.value.version == 5
    assert "TableTeleported" in str(raised.value)


def test_a_missing_upcaster_is_an_error_not_a_skip() -> None:
    without = EventCodec([TableHeld], upcasters=[Upcaster("TableHeld", 1, _rename_table)])
    with pytest.raises(MissingUpcaster, match="from schema version 2 to 3"):
        without.decode(stored("TableHeld", b'{"table":"WINDOW-4"}', schema_version=1))


def test_a_payload_from_the_future_is_refused() -> None:
    with pytest.raises(MissingUpcaster, match="newer"):
        codec.decode(stored("GuestArrived", b'{"booking_id":"b1","party_size":2}', 2))


@pytest.mark.parametrize(
    "data",
    [b"{not json", b'{"booking_id":"b1"}', b'{"booking_id":"b1","party_size":"six"}', b"[]"],
    ids=["broken JSON", "a missing field", "a wrong type", "not an object"],
)
def test_a_corrupt_payload_is_a_typed_error(data: bytes) -> None:
    with pytest.raises(CorruptEvent) as raised:
        codec.decode(stored("GuestArrived", data))
    assert raised.value.stream_id == "table-WINDOW-4"


def test_a_corrupt_old_payload_is_a_typed_error_after_upcasting() -> None:
    with pytest.raises(CorruptEvent):
        codec.decode(stored("TableHeld", b'"just a string"', schema_version=2))


def test_two_types_may_not_share_a_name() -> None:
    class Impostor(Event, frozen=True, tag="GuestArrived"):
        pass

    with pytest.raises(ValueError, match="share the tag"):
        EventCodec([GuestArrived, Impostor])


def test_an_unregistered_event_is_not_encoded() -> None:
    class Stranger(Event, frozen=True, tag="Stranger"):
        pass

    with pytest.raises(ValueError, match="not registered"):
        codec.encode(Stranger())
