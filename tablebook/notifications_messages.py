"""What a notification says: an email (plain text and HTML) or an SMS about one booking.

Dates and times are the venue's wall clock, named with its time zone; every value taken
from a booking is HTML-escaped in the HTML part.
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from typing import Final

from projectors.notifications import BookingDetails

__all__ = ["email_message", "sms_text", "subject"]

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


def _facts(kind: str, details: BookingDetails) -> list[tuple[str, str]]:
    guests = "guest" if details.party_size == 1 else "guests"
    if kind == _READY:
        return [("Name", details.guest_name), ("Party", f"{details.party_size} {guests}")]
    return [
        ("Name", details.guest_name),
        ("When", when(details)),
        ("Party", f"{details.party_size} {guests}"),
        ("Table", ", ".join(details.tables)),
    ]


def plain_text(kind: str, details: BookingDetails) -> str:
    lines = [f"{_HEADLINES[kind]}.", ""]
    lines += [f"{label}: {value}" for label, value in _facts(kind, details)]
    return "\n".join(lines) + "\n"


def html_text(kind: str, details: BookingDetails) -> str:
    rows = "".join(
        f'<tr><th align="left">{html.escape(label)}</th><td>{html.escape(value)}</td></tr>'
        for label, value in _facts(kind, details)
    )
    return (
        "<!DOCTYPE html><html><body>"
        f"<p>{html.escape(_HEADLINES[kind])}.</p>"
        f"<table>{rows}</table>"
        "</body></html>"
    )


def email_message(kind: str, details: BookingDetails, *, sender: str, to: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(kind, details)
    message["From"] = sender
    message["To"] = to
    message.set_content(plain_text(kind, details))
    message.add_alternative(html_text(kind, details), subtype="html")
    return message


def sms_text(kind: str, details: BookingDetails) -> str:
    if kind == _READY:
        return f"{_HEADLINES[kind]}, {details.guest_name}: please come to the host stand."
    tables = ", ".join(details.tables)
    return (
        f"{_HEADLINES[kind]}: {details.guest_name}, {details.party_size} at {when(details)},"
        f" table {tables}."
    )
