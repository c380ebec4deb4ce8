""" "Your table is ready": what a waiting party's message says, by SMS and by email."""

from __future__ import annotations

import datetime as dt

from projectors.notifications import BookingDetails
from tablebook.notifications_messages import email_message, sms_text, subject

READY = BookingDetails(
    guest_name="Grace Hopper",
    guest_email=None,
    guest_phone="+1 202 555 0143",
    date=dt.date(2026, 12, 24),
    time=dt.time(19, 27),
    time_zone="Europe/London",
    tables=(),
    party_size=3,
    starts_at=dt.datetime(2026, 12, 24, 19, 27, tzinfo=dt.UTC),
)


def test_the_text_asks_the_party_to_the_host_stand() -> None:
    assert sms_text("table_ready", READY) == (
        "Your table is ready, Grace Hopper: please come to the host stand."
    )


def test_the_email_names_the_party_and_no_booking_time_or_table() -> None:
    message = email_message("table_ready", READY, sender="host@example.com", to="g@example.com")
    text = message.get_body(("plain",))

    assert subject("table_ready", READY) == "Your table is ready: please come to the host stand"
    assert text is not None
    assert "Party: 3 guests" in text.get_content()
    assert "Table" not in text.get_content()
    assert "19:27" not in text.get_content()
