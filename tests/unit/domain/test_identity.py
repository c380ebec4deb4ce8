"""Identity → person: which identity decides a guest's person, and what of it is kept."""

from __future__ import annotations

import hashlib

from booking_core.domain.identity import identity_digest, identity_of, payload_identity


def test_an_account_booking_for_itself_is_its_own_identity_whatever_its_details() -> None:
    assert identity_of(account="u-1", email="a@example.org", phone="123") == "user:u-1"


def test_without_an_account_the_email_decides_then_the_phone() -> None:
    assert identity_of(email=" Ada@Example.ORG ", phone="+44 1") == "email:ada@example.org"
    assert identity_of(phone="+44 (20) 7946-0000") == "phone:+442079460000"
    assert identity_of(email="   ", phone="020 7946 0000") == "phone:02079460000"


def test_nothing_to_go_by_is_a_person_of_their_own() -> None:
    assert identity_of() is None
    assert identity_of(email="", phone="ext. -") is None
    assert identity_of(phone="+") is None


def test_a_payload_gives_its_email_or_phone_and_an_account_overrides_both() -> None:
    payload = {"guest_email": "ADA@example.org", "guest_phone": "1", "guest_name": "Ada"}
    assert payload_identity(payload) == "email:ada@example.org"
    assert payload_identity({"guest_phone": "1", "guest_email": None}) == "phone:1"
    assert payload_identity(payload, account="u-9") == "user:u-9"
    assert payload_identity({"guest_name": "Ada"}) is None


def test_only_a_digest_of_the_identity_is_kept() -> None:
    digest = identity_digest("email:ada@example.org")
    assert digest == hashlib.sha256(b"email:ada@example.org").digest()
    assert b"ada" not in digest
