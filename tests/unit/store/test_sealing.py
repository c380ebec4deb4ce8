"""Sealing personal fields: round trip, erased reads, and a blob that cannot be moved."""

from __future__ import annotations

import json

import pytest
from cryptography.exceptions import InvalidTag

from booking_core.domain.personal import ERASED
from booking_core.store.sealing import SEALED, new_key, open_sealed, seal

PAYLOAD = {
    "booking_id": "b1",
    "party_size": 4,
    "person": "gst_" + "a" * 32,
    "guest_name": "Ada Lovelace",
    "guest_phone": "+44 20 7946 0000",
    "guest_email": "ada@example.org",
    "special_requests": None,
}


def test_sealed_payload_holds_no_personal_text_and_opens_to_the_original() -> None:
    key = new_key()
    sealed = seal("BookingPlaced", PAYLOAD, key)
    text = json.dumps(sealed)
    for secret in ("Ada", "7946", "ada@example.org"):
        assert secret not in text
    assert sealed["party_size"] == 4
    assert sealed["person"] == PAYLOAD["person"]  # the person stays in the clear
    assert open_sealed("BookingPlaced", sealed, key) == {**PAYLOAD, "manage_token": None}


def test_without_the_key_personal_fields_read_as_erased_and_facts_stay() -> None:
    sealed = seal("BookingPlaced", PAYLOAD, new_key())
    opened = open_sealed("BookingPlaced", sealed, None)
    assert opened["guest_name"] == ERASED
    assert opened["guest_phone"] is None
    assert opened["guest_email"] is None
    assert opened["party_size"] == 4
    assert opened["booking_id"] == "b1"


def test_a_payload_sealed_after_erasure_reads_as_erased() -> None:
    sealed = seal("BookingPlaced", PAYLOAD, None)
    assert sealed[SEALED] == {}
    assert open_sealed("BookingPlaced", sealed, new_key())["guest_name"] == ERASED


def test_a_blob_moved_to_another_person_does_not_open() -> None:
    key = new_key()
    sealed = seal("BookingPlaced", PAYLOAD, key)
    moved = {**sealed, "person": "gst_" + "b" * 32}
    with pytest.raises(InvalidTag):
        open_sealed("BookingPlaced", moved, key)


def test_events_without_personal_fields_pass_through() -> None:
    payload = {"table_id": "t1", "capacity": 4}
    assert seal("TableAdded", payload, None) == payload
    assert open_sealed("TableAdded", payload, None) == payload
