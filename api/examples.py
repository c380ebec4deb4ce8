"""One realistic example for every schema of the contract, keyed by the schema's name.

Litestar would otherwise make up random strings (a `ProblemField.field` of
`"xJhBSnpIXjjOrlCcUmnv"`, a shift that opens and closes at 19:30). Code generators and
the Swagger UI show these to people, and schemathesis sends the request examples first,
so each one is a request the API would take from a real client: Ada Lovelace's table for
four at the window, a lunch and a dinner shift, the evening's page of bookings.

Litestar leaves out `null` values when it writes the schema, examples included, so a
field the schema requires is never `None` here.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXAMPLES", "PARAMETER_EXAMPLES"]

_BOOKING_ID = "bkg_5f0c9a3e2d7b4c1e8a6f3b2d1c0e9f8a"
_USER_ID = "usr_0d3c1b2a49584f6e8d7c6b5a4f3e2d1c"
_CREATED = "2030-04-28T09:12:44.318Z"
_GUEST_ID = "gst_6a1e0c9b8d7f4e3a2b1c0d9e8f7a6b5c"

_BOOKING: dict[str, Any] = {
    "id": _BOOKING_ID,
    "venue_id": "ven_3b1d9a0c5e7f4a2b8c6d0e1f2a3b4c5d",
    "table_id": "t3",
    "table_ids": ["t3"],
    "date": "2030-05-01",
    "time": "19:30",
    "end_time": "21:30",
    "duration_minutes": 120,
    "party_size": 4,
    "guest_name": "Ada Lovelace",
    "guest_phone": "+44 20 7946 0018",
    "guest_email": "ada@example.com",
    "special_requests": "Window seat if possible; one guest is vegetarian",
    "status": "confirmed",
    "source": "online",
    "user_id": _USER_ID,
    "version": 1,
    "created_at": _CREATED,
    "updated_at": _CREATED,
}
_TABLE: dict[str, Any] = {
    "id": "tbl_8e1f6c0b2a3d4e5f9a8b7c6d5e4f3a2b",
    "name": "Window 4",
    "capacity": 4,
    "min_capacity": 2,
    "area": "Main",
    "x": 120.0,
    "y": 40.0,
    "width": 80.0,
    "height": 80.0,
    "rotation": 0.0,
    "shape": "square",
    "retired": False,
    "version": 1,
    "created_at": _CREATED,
}
_BLOCK: dict[str, Any] = {
    "id": "blk_3a2b1c0d9e8f4a5b6c7d8e9f0a1b2c3d",
    "table_id": "t3",
    "start": "2030-05-01T17:00:00Z",
    "end": "2030-05-01T19:00:00Z",
    "reason": "Wobbly leg: the carpenter comes at five",
}
_LAYOUT_TABLE: dict[str, Any] = {
    "table_id": "t3",
    "x": 120.0,
    "y": 40.0,
    "width": 80.0,
    "height": 80.0,
    "rotation": 0.0,
    "shape": "square",
}
_AREA: dict[str, Any] = {
    "name": "Terrace",
    "x": 0.0,
    "y": 300.0,
    "width": 600.0,
    "height": 200.0,
    "color": "#cfe8cf",
}
_CANVAS: dict[str, Any] = {"width": 1200.0, "height": 800.0, "background": None}
_LAYOUT: dict[str, Any] = {
    "id": "lay_4c3b2a1d0e9f8a7b6c5d4e3f2a1b0c9d",
    "name": "Summer, terrace open",
    "tables": [_LAYOUT_TABLE],
    "areas": [_AREA],
    "canvas": _CANVAS,
    "active": True,
    "version": 2,
    "created_at": _CREATED,
}
_CLOSURE: dict[str, Any] = {"date": "2030-12-25", "reason": "Christmas Day"}
_USER: dict[str, Any] = {
    "id": _USER_ID,
    "email": "ada@example.com",
    "full_name": "Ada Lovelace",
    "phone": "+44 20 7946 0018",
    "role": "system_user",
    "is_active": True,
    "created_at": _CREATED,
    "venues": [],
}
_VENUE: dict[str, Any] = {
    "id": "ven_3b9d6f0a1c2e4d5f8a7b6c5d4e3f2a1b",
    "slug": "harbour-kitchen",
    "name": "The Harbour Kitchen",
    "time_zone": "Europe/Lisbon",
    "address": "1 Quay Street, Lisbon",
}
_EVENT: dict[str, Any] = {
    "position": 1842,
    "token": "781-1842",
    "stream_id": f"booking-{_BOOKING_ID}",
    "version": 1,
    "type": "TableReserved",
    "schema_version": 1,
    "recorded_at": _CREATED,
    "data": {"booking_id": _BOOKING_ID, "party_size": 4, "table_ids": ["t3"]},
    "metadata": {"actor": _USER_ID},
}
_NOTIFICATION: dict[str, Any] = {
    "id": "ntf_9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
    "booking_id": _BOOKING_ID,
    "kind": "placed",
    "channel": "email",
    "booking_version": 1,
    "status": "sent",
    "recipient": "ada@example.com",
    "due_at": _CREATED,
    "attempts": 2,
    "last_error": "421 4.7.0 Try again later",
    "reason": "sent on the second attempt",
    "provider_ref": "msg-20300428-0042",
    "sent_at": "2030-04-28T09:12:45.020Z",
    "created_at": _CREATED,
    "updated_at": "2030-04-28T09:12:45.020Z",
}
_SHIFTS: dict[str, Any] = {
    "lunch": {"open": "12:00", "close": "15:00"},
    "dinner": {"open": "18:00", "close": "23:00"},
    "late": {"open": "18:00", "close": "01:00"},
}
_TOTALS: dict[str, Any] = {
    "bookings": 42,
    "covers": 131,
    "cancellations": 3,
    "no_shows": 1,
    "occupancy_rate": 0.62,
}
_DAY: dict[str, Any] = {"date": "2030-05-01", **_TOTALS}
_TABLE_AVAILABILITY: dict[str, Any] = {
    "table_id": "t3",
    "name": "Window 4",
    "capacity": 4,
    "min_capacity": 2,
    "area": "Main",
    "status": "available",
    "fits_party": True,
}
_WEEK = [_SHIFTS["lunch"], _SHIFTS["dinner"]]
_ENTRY_ID = "wl-20300501-3c9e1f0a7b2d4e6f8a1b2c3d4e5f6a7b"
_ENTRY: dict[str, Any] = {
    "id": _ENTRY_ID,
    "venue_id": _BOOKING["venue_id"],
    "service_date": "2030-05-01",
    "status": "waiting",
    "position": 2,
    "quoted_wait_minutes": 25,
    "first_quote_minutes": 30,
    "party_size": 3,
    "guest_name": "Grace Hopper",
    "guest_phone": "+1 202 555 0143",
    "notes": "One high chair",
    "added_at": "2030-05-01T19:02:10.517Z",
}
_COMBINATION_AVAILABILITY: dict[str, Any] = {
    "combination_id": "cmb_5c1d",
    "name": "Window 4 + Terrace 4",
    "table_ids": ["t3", "t4"],
    "capacity": 8,
    "min_capacity": 5,
    "status": "available",
    "fits_party": False,
}
_COMBINATION: dict[str, Any] = {
    "id": "cmb_5c1d",
    "table_ids": ["t3", "t4"],
    "min_capacity": 5,
    "capacity": 8,
    "name": "Window 4 + Terrace 4",
    "created_at": _CREATED,
}

_GUEST_ID = "gst_7c2e9a4b1d0f4e3a8b5c6d7e8f901a2b"
_EXPORTED_EVENT: dict[str, Any] = {
    "type": "BookingPlaced",
    "recorded_at": _CREATED,
    "data": {
        "booking_id": _BOOKING_ID,
        "party_size": 4,
        "guest_name": "Ada Lovelace",
        "guest_email": "ada@example.com",
        "person": _GUEST_ID,
    },
}
_EXPORTED_BOOKING: dict[str, Any] = {
    "venue_id": _VENUE["id"],
    "booking_id": _BOOKING_ID,
    "guest_id": _GUEST_ID,
    "status": "confirmed",
    "events": [_EXPORTED_EVENT],
}
_EXPORTED_ENTRY: dict[str, Any] = {
    "venue_id": _VENUE["id"],
    "entry_id": "wl-20300501-5a1f",
    "guest_id": _GUEST_ID,
    "events": [
        {
            "type": "WaitlistEntryAdded",
            "recorded_at": _CREATED,
            "data": {"entry_id": "wl-20300501-5a1f", "guest_name": "Ada Lovelace"},
        }
    ],
}
_EXPORTED_PROFILE: dict[str, Any] = {
    "venue_id": _VENUE["id"],
    "guest_id": _GUEST_ID,
    "tags": ["VIP"],
    "notes": "Prefers the window.",
    "events": [
        {
            "type": "GuestProfileNoted",
            "recorded_at": _CREATED,
            "data": {"person": _GUEST_ID, "tags": ["VIP"], "notes": "Prefers the window."},
        }
    ],
}

EXAMPLES: dict[str, Any] = {
    "AccessToken": {
        "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfMGQzYyJ9.c2lnbmF0dXJl",
        "token_type": "bearer",
        "expires_in": 3600,
    },
    "BlockCreate": {
        "start": "2030-05-01T17:00",
        "end": "2030-05-01T19:00",
        "reason": "Wobbly leg: the carpenter comes at five",
    },
    "BlockOut": _BLOCK,
    "BlockPage": {"items": [_BLOCK], "next_cursor": None},
    "BookingCreate": {
        "date": "2030-05-01",
        "time": "19:30",
        "party_size": 4,
        "guest_name": "Ada Lovelace",
        "guest_phone": "+44 20 7946 0018",
        "guest_email": "ada@example.com",
        "special_requests": "Window seat if possible; one guest is vegetarian",
    },
    "BookingOut": _BOOKING,
    "BookingPage": {
        "items": [_BOOKING],
        "next_cursor": "WyIyMDMwLTA1LTAxVDE4OjMwOjAwKzAwOjAwIiwiYmtnXzVmMGMiXQ",
    },
    "BookingUpdate": {"time": "20:00", "party_size": 5},
    "PublicBookingCreate": {
        "date": "2030-05-01",
        "time": "19:30",
        "party_size": 2,
        "guest_name": "Mary Somerville",
        "guest_email": "mary@example.com",
        "guest_phone": "+44 20 7946 0231",
        "special_requests": "A quiet corner, please",
    },
    "PublicBookingUpdate": {"time": "20:00", "party_size": 3},
    "PublicBookingOut": {
        **{k: _BOOKING[k] for k in ("id", "venue_id", "status", "date", "version")},
        "time": "19:30",
        "end_time": "21:00",
        "party_size": 2,
        "guest_name": "Mary Somerville",
        "guest_email": "mary@example.com",
        "guest_phone": "+44 20 7946 0231",
        "special_requests": "A quiet corner, please",
        "created_at": _CREATED,
        "updated_at": _CREATED,
        "manage_token": "q2V7bX0pL9sD4fG8hJ1kM3nB6vC5xZ0a",
    },
    "StaffBookingCreate": {
        "date": "2030-05-01",
        "time": "19:10",
        "party_size": 6,
        "guest_name": "Charles Babbage",
        "guest_phone": "+44 20 7946 0102",
        "source": "phone",
        "table_id": "t5",
        "override": {"reason": "Regulars; the kitchen agreed to seat six at the window"},
    },
    "OverrideIn": {"reason": "Regulars; the kitchen agreed to seat six at the window"},
    "SeatIn": {"override": {"reason": "Early for the theatre; their table is free"}},
    "Canvas": _CANVAS,
    "CombinationAvailability": _COMBINATION_AVAILABILITY,
    "CombinationIn": {
        "table_ids": ["t3", "t4"],
        "min_capacity": 5,
        "capacity": 8,
        "name": "Window 4 + Terrace 4",
    },
    "CombinationOut": _COMBINATION,
    "CombinationPage": {"items": [_COMBINATION], "next_cursor": None},
    "CanvasIn": _CANVAS,
    "ClosureIO": _CLOSURE,
    "ClosurePage": {"items": [_CLOSURE], "next_cursor": None},
    "DashboardOut": {
        **_DAY,
        "seated_now": 9,
        "tables_total": 14,
        "waitlist_quote_error_minutes": 4.5,
        "waitlist_quotes_measured": 11,
    },
    "DayOut": _DAY,
    "EventOut": _EVENT,
    "EventPage": {"items": [_EVENT], "next_cursor": "781-1842"},
    "EventType": "TableReserved",
    "HistoryEntryOut": {
        "version": 1,
        "type": "TableReserved",
        "at": _CREATED,
        "by": _USER_ID,
        "data": {"party_size": 4, "table_ids": ["t3"], "time": "19:30"},
    },
    "LayoutArea": _AREA,
    "LayoutAreaIn": _AREA,
    "LayoutIn": {
        "name": "Summer, terrace open",
        "tables": [_LAYOUT_TABLE],
        "areas": [_AREA],
        "canvas": _CANVAS,
    },
    "LayoutOut": _LAYOUT,
    "LayoutPage": {"items": [_LAYOUT], "next_cursor": None},
    "LayoutTable": _LAYOUT_TABLE,
    "LayoutTableIn": _LAYOUT_TABLE,
    "Liveness": {"status": "ok"},
    "NotificationPage": {
        "items": [_NOTIFICATION],
        "next_cursor": "WyIyMDMwLTA0LTI4VDA5OjEyOjQ0LjMxOFoiLCJudGZfOWI4YSJd",
    },
    "NotificationRow": _NOTIFICATION,
    "OpeningHoursIO": {
        "monday": [],
        "tuesday": _WEEK,
        "wednesday": _WEEK,
        "thursday": _WEEK,
        "friday": [_SHIFTS["lunch"], _SHIFTS["late"]],
        "saturday": [_SHIFTS["lunch"], _SHIFTS["late"]],
        "sunday": [_SHIFTS["lunch"]],
    },
    "PartySizeOut": {"party_size": 4, "bookings": 12, "covers": 48},
    "Problem": {
        "type": "https://tablebook.dev/problems/outside-opening-hours",
        "title": "Unprocessable request",
        "status": 422,
        "detail": "19:30 on 2030-05-06 is outside the opening hours (closed on Mondays)",
    },
    "ProblemField": {"field": "party_size", "message": "Expected `int` >= 1"},
    "Register": {
        "email": "ada@example.com",
        "password": "analytical engine",
        "full_name": "Ada Lovelace",
        "phone": "+44 20 7946 0018",
    },
    "ReportOut": {
        "from": "2030-05-01",
        "to": "2030-05-07",
        "totals": _TOTALS,
        "by_day": [_DAY],
        "by_source": [{"source": "online", "bookings": 30, "covers": 95}],
        "by_party_size": [{"party_size": 4, "bookings": 12, "covers": 48}],
    },
    "ShiftIO": _SHIFTS["dinner"],
    "SlotOut": {"time": "19:30", "date": "2030-05-01", "tables_available": 3},
    "SlotsOut": {
        "date": "2030-05-01",
        "party_size": 4,
        "slots": [
            {"time": "19:00", "date": "2030-05-01", "tables_available": 1},
            {"time": "19:30", "date": "2030-05-01", "tables_available": 3},
        ],
    },
    "SourceOut": {"source": "phone", "bookings": 9, "covers": 27},
    "TableAvailability": _TABLE_AVAILABILITY,
    "TableCreate": {
        "name": "Window 4",
        "capacity": 4,
        "min_capacity": 2,
        "area": "Main",
        "x": 120.0,
        "y": 40.0,
        "shape": "square",
    },
    "TableOut": _TABLE,
    "TablePage": {"items": [_TABLE], "next_cursor": None},
    "TableUpdate": {"capacity": 6, "area": "Terrace"},
    "TablesAtOut": {
        "date": "2030-05-01",
        "time": "19:30",
        "end_time": "21:30",
        "party_size": 4,
        "duration_minutes": 120,
        "tables": [_TABLE_AVAILABILITY],
        "combinations": [_COMBINATION_AVAILABILITY],
    },
    "TimeSlotsIO": {
        "interval_minutes": 15,
        "turn_times": [{"max_party_size": 2, "minutes": 90}, {"max_party_size": 6, "minutes": 120}],
        "buffer_minutes": 15,
        "min_lead_minutes": 60,
        "max_days_ahead": 90,
        "time_zone": "Europe/London",
        "pacing": [
            {"per_minutes": 15, "max_covers": 20},
            {
                "weekday": "friday",
                "from": "18:00",
                "to": "21:00",
                "per_minutes": 30,
                "max_bookings": 6,
            },
        ],
    },
    "PacingRuleIO": {
        "weekday": "friday",
        "from": "18:00",
        "to": "21:00",
        "per_minutes": 30,
        "max_covers": 20,
    },
    "TokenForm": {"username": "ada@example.com", "password": "analytical engine"},
    "TotalsOut": _TOTALS,
    "TurnTimeIO": {"max_party_size": 6, "minutes": 120},
    "UserChange": {"role": "admin", "is_active": True},
    "UserOut": _USER,
    "ExportedEvent": _EXPORTED_EVENT,
    "ExportedBooking": _EXPORTED_BOOKING,
    "ExportedWaitlistEntry": _EXPORTED_ENTRY,
    "ExportedProfile": _EXPORTED_PROFILE,
    "ExportedGuest": {"venue_id": _VENUE["id"], "guest_id": _GUEST_ID},
    "PersonalData": {
        "exported_at": _CREATED,
        "account": _USER,
        "guests": [{"venue_id": _VENUE["id"], "guest_id": _GUEST_ID}],
        "bookings": [_EXPORTED_BOOKING],
        "waitlist_entries": [_EXPORTED_ENTRY],
        "profiles": [_EXPORTED_PROFILE],
    },
    "VenueGrantOut": {"venue_id": _VENUE["id"], "role": "manager"},
    "ListedVenue": _VENUE,
    "VenueOut": {**_VENUE, "version": 3},
    "VenueCreate": {k: v for k, v in _VENUE.items() if k != "id"},
    "VenueChange": {"name": "Harbour Kitchen & Bar", "address": "3 Quay Street, Lisbon"},
    "StaffGrant": {"role": "host"},
    "StaffGrantByEmail": {"email": "grace@example.com", "role": "host"},
    "PublicVenueOut": {
        **{k: _VENUE[k] for k in ("id", "slug", "name", "time_zone", "address")},
        "today": "2030-05-01",
        "max_days_ahead": 90,
        "min_party_size": 1,
        "max_party_size": 10,
    },
    "VenueClock": {
        "now": "2030-05-01T18:42:07.125Z",
        "time_zone": "Europe/London",
        "date": "2030-05-01",
        "time": "19:42",
    },
    "StaffMemberOut": {
        "user_id": _USER_ID,
        "email": "grace@example.com",
        "full_name": "Grace Hopper",
        "role": "host",
        "granted_at": _CREATED,
    },
    "UserPage": {"items": [_USER], "next_cursor": None},
    "WaitlistCreate": {
        "party_size": 3,
        "guest_name": "Grace Hopper",
        "guest_phone": "+1 202 555 0143",
        "notes": "One high chair",
    },
    "WaitlistEntryOut": {**_ENTRY, "token": "q0v3Jm8rX2yBwK5tN1sE7uH4cL9dF6gA0pZ3iO2eR1w"},
    "WaitlistOut": {"date": "2030-05-01", "entries": [_ENTRY]},
    "WaitlistSeat": {"table_ids": ["t3"], "override": {"reason": "Regulars; past closing"}},
    "WaitlistRemove": {"reason": "Could not wait any longer"},
    "SeatedOut": {
        "entry": {
            **_ENTRY,
            "status": "seated",
            "seated_at": "2030-05-01T19:29:40.002Z",
            "booking_id": _BOOKING_ID,
            "waited_minutes": 27,
        },
        "booking": {**_BOOKING, "status": "seated", "source": "walk_in"},
    },
    "GuestEntryOut": {
        "id": _ENTRY_ID,
        "status": "waiting",
        "position": 2,
        "quoted_wait_minutes": 25,
        "party_size": 3,
        "added_at": "2030-05-01T19:02:10.517Z",
    },
}

_GUEST_SUMMARY: dict[str, Any] = {
    "id": _GUEST_ID,
    "name": "Ada Lovelace",
    "phones": ["+442079460018"],
    "emails": ["ada@example.com"],
    "visits": 6,
    "covers": 19,
    "no_shows": 1,
    "cancellations": 2,
    "first_visit": "2029-11-02",
    "last_visit": "2030-04-26",
    "tags": ["VIP", "allergy: nuts"],
}
EXAMPLES.update(
    {
        "GuestSummaryOut": _GUEST_SUMMARY,
        "GuestPage": {"items": [_GUEST_SUMMARY], "next_cursor": None},
        "GuestOut": {
            **_GUEST_SUMMARY,
            "notes": "Prefers the window; brings her own dessert wine (corkage waived).",
            "merged": [],
            "version": 3,
            "bookings": [
                {
                    "id": _BOOKING_ID,
                    "service_date": "2030-05-01",
                    "starts_at": "2030-05-01T18:30:00Z",
                    "party_size": 4,
                    "status": "confirmed",
                }
            ],
        },
        "GuestBookingOut": {
            "id": _BOOKING_ID,
            "service_date": "2030-05-01",
            "starts_at": "2030-05-01T18:30:00Z",
            "party_size": 4,
            "status": "confirmed",
        },
        "GuestPatch": {"tags": ["VIP", "allergy: nuts"], "notes": "Prefers the window."},
        "GuestMerge": {"guest_id": "gst_0f9e8d7c6b5a49382716f5e4d3c2b1a0"},
    }
)

PARAMETER_EXAMPLES: dict[str, Any] = {
    "date": "2030-05-01",
    "day": "2030-12-25",
    "from": "2030-05-01",
    "to": "2030-05-07",
    "time": "19:30",
    "party_size": 4,
    "duration_minutes": 120,
    "limit": 50,
    "q": "Lovelace",
    "area": "Terrace",
    "as_of": "2030-05-01T19:00:00Z",
    "booking_id": _BOOKING_ID,
    "table_id": _TABLE["id"],
    "block_id": _BLOCK["id"],
    "layout_id": _LAYOUT["id"],
    "user_id": _USER_ID,
    "venue_id": "harbour-kitchen",
    "stream": f"booking-{_BOOKING_ID}",
    "after": "781-1842",
    "entry_id": _ENTRY_ID,
    "guest_id": _GUEST_ID,
    "token": "q0v3Jm8rX2yBwK5tN1sE7uH4cL9dF6gA0pZ3iO2eR1w",
}
"""Query and path parameters by name: a day in the book, dinner for four, ids shaped
like the API's own (they name nothing, so an example read is a 404, never a change to
real data)."""
