"""A confirmation's email and SMS: the `.ics` file (parsed back with icalendar) in the
venue's time zone, and the manage link of a booking made without an account."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event, Timezone

from projectors.notifications import BookingDetails
from tablebook.notifications_messages import (
    MessageContext,
    email_message,
    manage_link,
    sms_text,
)

ZONE = "Europe/London"
LONDON = ZoneInfo(ZONE)
# The clocks go forward at 01:00 UTC on 28 March 2027: a dinner that evening is BST.
START = dt.datetime(2027, 3, 28, 19, 30, tzinfo=LONDON)
TOKEN = "tok_" + "A" * 32
LINK = manage_link("https://book.example.com", "chez-ada", "b-1", TOKEN)

DETAILS = BookingDetails(
    guest_name="Ada Lovelace",
    guest_email="ada@example.test",
    guest_phone="+447700900123",
    date=START.date(),
    time=START.time(),
    time_zone=ZONE,
    tables=("WINDOW-4",),
    party_size=4,
    starts_at=START.astimezone(dt.UTC),
    ends_at=(START + dt.timedelta(hours=2)).astimezone(dt.UTC),
)


def context(version: int = 1, link: str | None = LINK) -> MessageContext:
    return MessageContext(
        booking_id="b-1",
        version=version,
        stamp=dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC),
        host="book.example.com",
        venue_name="Chez Ada",
        venue_address="1 Analytical Row, London",
        manage_link=link,
    )


def mail(kind: str, version: int = 1, link: str | None = LINK) -> EmailMessage:
    return email_message(
        kind,
        DETAILS,
        sender="Chez Ada <bookings@example.com>",
        to="ada@example.test",
        context=context(version, link),
    )


def calendar(message: EmailMessage) -> Calendar:
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    content = part.get_content()
    return Calendar.from_ical(content if isinstance(content, bytes) else content.encode())


def event(parsed: Calendar) -> Event:
    (found,) = parsed.walk("VEVENT")
    assert isinstance(found, Event)
    return found


def test_the_confirmation_is_one_event_in_the_venues_zone_across_the_clock_change() -> None:
    parsed = calendar(mail("placed"))
    found = event(parsed)

    assert str(parsed["method"]) == "REQUEST"
    start, end = found.decoded("dtstart"), found.decoded("dtend")
    assert found["dtstart"].params["TZID"] == ZONE
    assert (start.hour, start.minute) == (19, 30)
    assert start.utcoffset() == dt.timedelta(hours=1), "British Summer Time that evening"
    assert start.astimezone(dt.UTC) == dt.datetime(2027, 3, 28, 18, 30, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(hours=2)
    (zone,) = parsed.walk("VTIMEZONE")
    assert isinstance(zone, Timezone)
    assert str(zone["tzid"]) == ZONE
    offsets = {str(rule["tzname"]) for rule in zone.walk() if rule.name in ("STANDARD", "DAYLIGHT")}
    assert {"GMT", "BST"} <= offsets
    assert str(found["uid"]) == "b-1@book.example.com"
    assert found.decoded("sequence") == 1
    assert str(found["summary"]) == "Chez Ada: table for 4"
    assert str(found["location"]) == "1 Analytical Row, London"
    assert str(found["status"]) == "CONFIRMED"
    assert str(found["organizer"]) == "mailto:bookings@example.com"
    assert TOKEN not in parsed.to_ical().decode(), "a calendar may be shared"


def test_a_change_updates_the_same_event_and_a_cancellation_removes_it() -> None:
    placed, changed = event(calendar(mail("placed"))), event(calendar(mail("changed", 2)))
    cancelled_calendar = calendar(mail("cancelled", 3))
    cancelled = event(cancelled_calendar)

    assert placed["uid"] == changed["uid"] == cancelled["uid"]
    assert [e.decoded("sequence") for e in (placed, changed, cancelled)] == [1, 2, 3]
    assert str(cancelled_calendar["method"]) == "CANCEL"
    assert str(cancelled["status"]) == "CANCELLED"
    (part,) = list(mail("cancelled", 3).iter_attachments())
    assert part.get_param("method") == "CANCEL"
    assert part.get_filename() == "cancelled.ics"


@pytest.mark.parametrize("kind", ["reminder", "table_ready"])
def test_reminders_and_table_ready_carry_no_file(kind: str) -> None:
    assert list(mail(kind).iter_attachments()) == []


def test_the_manage_link_is_in_the_confirmation_and_change_only() -> None:
    assert f"https://book.example.com/book/chez-ada?booking=b-1#token={TOKEN}" == LINK
    for kind in ("placed", "changed"):
        message = mail(kind)
        plain = message.get_body(("plain",))
        rich = message.get_body(("html",))
        assert plain is not None
        assert rich is not None
        assert LINK in plain.get_content()
        assert f'href="{LINK}"' in rich.get_content()
        assert sms_text(kind, DETAILS, context()).endswith(f"Manage it: {LINK}")
    for kind in ("cancelled", "reminder"):
        message = mail(kind)
        assert TOKEN not in message.as_string()
        assert TOKEN not in sms_text(kind, DETAILS, context())


def test_the_venue_is_named_where_the_directory_knows_it() -> None:
    plain = mail("placed").get_body(("plain",))
    assert plain is not None
    assert "Where: Chez Ada, 1 Analytical Row, London" in plain.get_content()
    bare = email_message("placed", DETAILS, sender="b@example.com", to="ada@example.test")
    assert list(bare.iter_attachments()) == [], "no context: no booking id to name the event"
