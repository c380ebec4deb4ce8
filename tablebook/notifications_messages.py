"""What a notification says: an email (plain text and HTML) or an SMS about one booking.

Dates and times are the venue's wall clock, named with its time zone; every value taken
from a booking is HTML-escaped in the HTML part. A confirmation or change email carries
the booking as an iCalendar file (`METHOD:REQUEST`), a cancellation one that removes it
(`METHOD:CANCEL`; `tablebook.notifications_calendar`); a confirmation or change of a
booking made without an account carries its manage link, by email and by SMS.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Final
from urllib.parse import quote

from projectors.notifications import BookingDetails
from tablebook.notifications_calendar import CalendarEntry, calendar_file, method_for

__all__ = ["MessageContext", "email_message", "manage_link", "sms_text", "subject"]

_LINKED: Final = frozenset({"placed", "changed"})
"""The messages that carry the manage link (a cancelled booking has nothing to manage,
and a reminder goes out when the link was sent already)."""


@dataclass(frozen=True)
class MessageContext:
    """What a message says beyond the booking's details: its venue, and the facts its
    calendar file and manage link are made of."""

    booking_id: str
    version: int
    stamp: dt.datetime
    """When the event behind the message happened."""
    host: str = "localhost"
    venue_name: str | None = None
    venue_address: str | None = None
    manage_link: str | None = None


def manage_link(base_url: str, slug: str, booking_id: str, token: str) -> str:
    """The booking page, opened on the booking; the token rides in the fragment, which
    browsers never send, so it reaches no server's logs."""
    return (
        f"{base_url}/book/{quote(slug, safe='')}?booking={quote(booking_id, safe='')}"
        f"#token={quote(token, safe='')}"
    )


def _link(kind: str, context: MessageContext | None) -> str | None:
    return context.manage_link if context is not None and kind in _LINKED else None


_HEADLINES: Final[dict[str, str]] = {
    "placed": "Your table is booked",
    "changed": "Your booking has changed",
    "cancelled": "Your booking is cancelled",
    "reminder": "See you soon: a reminder of your booking",
    "table_ready": "Your table is ready",
}
_READY: Final = "table_ready"
"""A waiting party's message: about now, not a booking's time or table."""


def when(details: BookingDetails) -> str:
    day = details.date
    return f"{day:%A} {day.day} {day:%B %Y}, {details.time:%H:%M} ({details.time_zone})"


def subject(kind: str, details: BookingDetails) -> str:
    if kind == _READY:
        return f"{_HEADLINES[kind]}: please come to the host stand"
    return f"{_HEADLINES[kind]}: {when(details)}"


def _facts(
    kind: str, details: BookingDetails, context: MessageContext | None
) -> list[tuple[str, str]]:
    guests = "guest" if details.party_size == 1 else "guests"
    if kind == _READY:
        return [("Name", details.guest_name), ("Party", f"{details.party_size} {guests}")]
    venue = [] if context is None else [context.venue_name, context.venue_address]
    where = ", ".join(v for v in venue if v)
    return [
        ("Name", details.guest_name),
        *([("Where", where)] if where else []),
        ("When", when(details)),
        ("Party", f"{details.party_size} {guests}"),
        ("Table", ", ".join(details.tables)),
    ]


def plain_text(kind: str, details: BookingDetails, context: MessageContext | None = None) -> str:
    lines = [f"{_HEADLINES[kind]}.", ""]
    lines += [f"{label}: {value}" for label, value in _facts(kind, details, context)]
    link = _link(kind, context)
    if link:
        lines += ["", "To see, change or cancel your booking:", link]
    return "\n".join(lines) + "\n"


def html_text(kind: str, details: BookingDetails, context: MessageContext | None = None) -> str:
    rows = "".join(
        f'<tr><th align="left">{html.escape(label)}</th><td>{html.escape(value)}</td></tr>'
        for label, value in _facts(kind, details, context)
    )
    link = _link(kind, context)
    manage = (
        f'<p><a href="{html.escape(link)}">See, change or cancel your booking</a></p>'
        if link
        else ""
    )
    return (
        "<!DOCTYPE html><html><body>"
        f"<p>{html.escape(_HEADLINES[kind])}.</p>"
        f"<table>{rows}</table>"
        f"{manage}"
        "</body></html>"
    )


def email_message(
    kind: str,
    details: BookingDetails,
    *,
    sender: str,
    to: str,
    context: MessageContext | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(kind, details)
    message["From"] = sender
    message["To"] = to
    message.set_content(plain_text(kind, details, context))
    message.add_alternative(html_text(kind, details, context), subtype="html")
    method = method_for(kind)
    if method is not None and context is not None:
        entry = CalendarEntry(
            booking_id=context.booking_id,
            version=context.version,
            host=context.host,
            stamp=context.stamp,
            organizer=parseaddr(sender)[1] or sender,
            attendee=parseaddr(to)[1] or to,
            venue_name=context.venue_name,
            venue_address=context.venue_address,
        )
        ics = calendar_file(method, details, entry)
        message.add_attachment(
            ics,
            maintype="text",
            subtype="calendar",
            filename="cancelled.ics" if method == "CANCEL" else "booking.ics",
            params={"method": method, "charset": "utf-8"},
        )
    return message


def sms_text(kind: str, details: BookingDetails, context: MessageContext | None = None) -> str:
    if kind == _READY:
        return f"{_HEADLINES[kind]}, {details.guest_name}: please come to the host stand."
    tables = ", ".join(details.tables)
    text = (
        f"{_HEADLINES[kind]}: {details.guest_name}, {details.party_size} at {when(details)},"
        f" table {tables}."
    )
    link = _link(kind, context)
    return f"{text} Manage it: {link}" if link else text
