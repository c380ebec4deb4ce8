"""The iCalendar (`.ics`) file a booking's confirmation, change or cancellation carries.

One VEVENT per booking, whatever happens to it: its UID is `{booking_id}@{host}` and its
SEQUENCE the booking's version, so a calendar that took the confirmation updates the same
entry on a change and removes it on a cancellation (`METHOD:CANCEL`, `STATUS:CANCELLED`).
Start and end are the venue's wall clock with its time zone (a VTIMEZONE built from the
zone database), so the entry shows the right time wherever the guest's calendar is.
Every value comes from the outbox row and the venue's directory entry, none from the
clock: the same message sent twice carries the same file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from projectors.notifications import BookingDetails

__all__ = ["CalendarEntry", "Method", "calendar_file", "method_for"]

Method = Literal["REQUEST", "CANCEL"]
_METHODS: Final[dict[str, Method]] = {
    "placed": "REQUEST",
    "changed": "REQUEST",
    "cancelled": "CANCEL",
}


def method_for(kind: str) -> Method | None:
    """The iTIP method of a message kind's calendar file; None: it carries none
    (reminders and "your table is ready")."""
    return _METHODS.get(kind)


@dataclass(frozen=True)
class CalendarEntry:
    booking_id: str
    version: int
    host: str
    """Names the UID's domain: the service's public host."""
    stamp: dt.datetime
    """DTSTAMP: when the event behind the message happened."""
    organizer: str
    """The address the mail comes from."""
    attendee: str
    venue_name: str | None = None
    venue_address: str | None = None


def calendar_file(method: Method, details: BookingDetails, entry: CalendarEntry) -> bytes:
    """The file; it names no manage link (a calendar may be shared, the link is a key)."""
    zone = ZoneInfo(details.time_zone)
    calendar = Calendar()
    calendar.add("prodid", "-//tablebook//bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", f"{entry.booking_id}@{entry.host}")
    event.add("sequence", entry.version)
    event.add("dtstamp", entry.stamp.astimezone(dt.UTC))
    event.add("dtstart", details.starts_at.astimezone(zone))
    if details.ends_at is not None:
        event.add("dtend", details.ends_at.astimezone(zone))
    event.add("summary", _summary(details, entry.venue_name))
    if entry.venue_address:
        event.add("location", entry.venue_address)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    organizer = vCalAddress(f"mailto:{entry.organizer}")
    if entry.venue_name:
        organizer.params["cn"] = vText(entry.venue_name)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{entry.attendee}")
    attendee.params["partstat"] = vText("ACCEPTED")
    attendee.params["rsvp"] = vText("FALSE")
    event.add("attendee", attendee)
    calendar.add_component(event)
    # The zone's rules from a year before the booking to a year after: enough for any
    # calendar to place it, without the zone's whole history.
    start = details.starts_at.date()
    calendar.add_missing_timezones(
        first_date=start.replace(year=start.year - 1, month=1, day=1),
        last_date=start.replace(year=start.year + 2, month=1, day=1),
    )
    return bytes(calendar.to_ical())


def _summary(details: BookingDetails, venue_name: str | None) -> str:
    party = f"table for {details.party_size}"
    return f"{venue_name}: {party}" if venue_name else party[0].upper() + party[1:]
