"""Sealing personal fields in stored event payloads (crypto-shredding).

A payload leaves the domain with its personal fields in the clear
(`booking_core.domain.personal.PERSONAL_FIELDS`) and its `person` id. Before it is
stored, `seal` takes those fields out and keeps them in `_sealed`, encrypted with AES-256-GCM
under the person's key: `{"n": nonce, "c": ciphertext}` (base64), the associated data
binding the ciphertext to its event type and person, so a sealed blob cannot be moved to
another event or person. `open_sealed` puts them back, or, when the key is gone (the
person was erased), puts back what an erased field reads as. Keys live in their own table
(`person_keys`), never in an event.

Both functions are pure: the store fetches keys and calls them.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any, Final

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from booking_core.domain.personal import PERSONAL_FIELDS, erased_value

__all__ = ["KEY_BYTES", "SEALED", "new_key", "open_sealed", "seal"]

SEALED: Final = "_sealed"
"""The payload field that holds the sealed personal fields."""

KEY_BYTES: Final = 32
_NONCE_BYTES: Final = 12


def new_key() -> bytes:
    """A fresh AES-256 key for one person."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def _aad(event_type: str, person: str) -> bytes:
    return f"{event_type}\x00{person}".encode()


def seal(event_type: str, payload: Mapping[str, Any], key: bytes | None) -> dict[str, Any]:
    """`payload` with its personal fields sealed under `key`.

    A payload of a type without personal fields, or already sealed, is returned as it is.
    With no key (the person was erased before this event was written) the fields are
    dropped: they read as erased, exactly as if they had been sealed under the lost key.
    """
    fields = PERSONAL_FIELDS.get(event_type)
    if not fields or SEALED in payload:
        return dict(payload)
    person = payload.get("person")
    if not isinstance(person, str):
        raise ValueError(f"a {event_type} payload with personal fields needs a person")
    clear = {name: payload[name] for name in fields if payload.get(name) is not None}
    kept = {name: value for name, value in payload.items() if name not in fields}
    if key is None:
        kept[SEALED] = {}
        return kept
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, msgspec.json.encode(clear), _aad(event_type, person))
    kept[SEALED] = {
        "n": base64.b64encode(nonce).decode(),
        "c": base64.b64encode(ciphertext).decode(),
    }
    return kept


def open_sealed(event_type: str, payload: Mapping[str, Any], key: bytes | None) -> dict[str, Any]:
    """`payload` with its sealed fields back in the clear; erased values when `key` is None
    (the person was erased) or the blob was sealed without a key."""
    opened = {name: value for name, value in payload.items() if name != SEALED}
    blob = payload.get(SEALED)
    if blob is None:
        return opened
    for name in PERSONAL_FIELDS.get(event_type, ()):
        opened[name] = erased_value(name)
    if key is None or not blob:
        return opened
    person = str(payload.get("person"))
    clear = AESGCM(key).decrypt(
        base64.b64decode(blob["n"]), base64.b64decode(blob["c"]), _aad(event_type, person)
    )
    opened.update(msgspec.json.decode(clear))
    return opened
