"""What each operation promises beyond its body: the headers it takes and sends, and the
business rules a well-formed request can still break.

JSON Schema cannot say "the slot is taken", "outside opening hours" or "a cursor this
API never gave out". The contract lists those refusals per operation instead, each with
its problem `type`, so a client knows every 409 and 422 it has to handle, and the
schemathesis run can hold the API to exactly these (`tests/api/fuzzing.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BODY_NAMES_IDS",
    "CONSISTENT_READS",
    "ETAG_SENT",
    "IF_MATCH",
    "KEPT_AFTER_DELETE",
    "NOT_IDEMPOTENT",
    "RATE_LIMITED",
    "SHAPE_KINDS",
    "Refusal",
    "refusals",
    "unscoped",
]

_BOOKINGS = "/api/v1/bookings"
_PUBLIC = "/api/v1/public/bookings"
_PUBLIC_BOOKING = f"{_PUBLIC}/{{booking_id}}"
_ADMIN = "/api/v1/admin"
_TABLE = f"{_ADMIN}/tables/{{table_id}}"
_LAYOUT = f"{_ADMIN}/layouts/{{layout_id}}"
_COMBINATIONS = f"{_ADMIN}/table-combinations"
_COMBINATION = f"{_COMBINATIONS}/{{combination_id}}"
_VENUE = f"{_ADMIN}/venues/{{venue_id}}"
_GUESTS = f"{_ADMIN}/guests"
_GUEST = f"{_GUESTS}/{{guest_id}}"
_STAFF = f"{_VENUE}/staff/{{user_id}}"

CONSISTENT_READS = frozenset(
    {
        "/api/v1/availability",
        "/api/v1/clock",
        f"{_BOOKINGS}/tables",
        f"{_BOOKINGS}/my-bookings",
        f"{_BOOKINGS}/{{booking_id}}",
        f"{_ADMIN}/bookings",
        f"{_ADMIN}/bookings/{{booking_id}}",
        f"{_ADMIN}/dashboard/stats",
        f"{_ADMIN}/reports/bookings",
        f"{_ADMIN}/tables",
        _TABLE,
        f"{_TABLE}/blocks",
        f"{_TABLE}/blocks/{{block_id}}",
        f"{_ADMIN}/layouts",
        _LAYOUT,
        _COMBINATIONS,
        _COMBINATION,
        f"{_ADMIN}/operating-hours",
        f"{_ADMIN}/time-slots",
        f"{_ADMIN}/closures",
        f"{_ADMIN}/closures/{{day}}",
        "/api/v1/venues",
        _VENUE,
        f"{_VENUE}/staff",
        f"{_ADMIN}/waitlist",
        "/api/v1/waitlist/{entry_id}",
        _GUESTS,
        _GUEST,
    }
)
"""GET paths that honour `X-Consistency-Token` (they read a projection)."""

IF_MATCH = frozenset(
    {
        ("put", f"{_BOOKINGS}/{{booking_id}}"),
        ("put", _PUBLIC_BOOKING),
        ("put", _LAYOUT),
        ("delete", _LAYOUT),
        ("patch", _GUEST),
    }
)
"""Operations that take `If-Match: "<version>"`."""

ETAG_SENT = IF_MATCH | {
    ("get", f"{_BOOKINGS}/{{booking_id}}"),
    ("post", _BOOKINGS),
    ("delete", f"{_BOOKINGS}/{{booking_id}}"),
    ("post", _PUBLIC),
    ("get", _PUBLIC_BOOKING),
    ("delete", _PUBLIC_BOOKING),
    ("get", f"{_ADMIN}/bookings/{{booking_id}}"),
    ("post", f"{_ADMIN}/bookings/{{booking_id}}/seat"),
    ("post", f"{_ADMIN}/bookings"),
    ("post", f"{_ADMIN}/bookings/{{booking_id}}/complete"),
    ("post", f"{_ADMIN}/bookings/{{booking_id}}/no-show"),
    ("get", _LAYOUT),
    ("post", f"{_ADMIN}/layouts"),
    ("post", f"{_LAYOUT}/activate"),
    ("post", f"{_ADMIN}/tables"),
    ("get", _TABLE),
    ("put", _TABLE),
    ("delete", _TABLE),
    ("get", _GUEST),
    ("post", f"{_GUEST}/merge"),
}
"""Operations whose success carries the resource's version as `ETag` (what `If-Match`
takes): the reads and writes of bookings, layouts, tables and guest profiles."""

KEPT_AFTER_DELETE = frozenset({f"{_BOOKINGS}/{{booking_id}}", _PUBLIC_BOOKING, _TABLE})
"""Where DELETE marks rather than removes: it cancels a booking or retires a table, which
stays readable (status `cancelled`, `retired: true`), as the API has always promised."""

BODY_NAMES_IDS = frozenset({("post", _BOOKINGS), ("post", f"{_ADMIN}/bookings")})
"""Writes without an id in their path whose body names things by id (a booking's
`table_id`, `table_ids`): a 404 says one of them does not exist."""

NOT_IDEMPOTENT = frozenset(
    {
        "/api/v1/auth/register",
        "/api/v1/auth/token",
        "/api/v1/auth/refresh",
        "/api/v1/auth/sign-out",
        f"{_ADMIN}/users/{{user_id}}",
        f"{_VENUE}/staff",
        _STAFF,
        "/api/v1/auth/me",
        f"{_ADMIN}/guests/{{guest_id}}/erase",
    }
)
"""Writes under /api/v1 that are not commands, so take no `Idempotency-Key`: accounts
and staff grants are plain rows, not events; erasing personal data is idempotent by
itself (erasing twice is a 204 that writes nothing)."""


RATE_LIMITED = frozenset(
    {
        ("post", _PUBLIC),
        ("put", _PUBLIC_BOOKING),
        ("delete", _PUBLIC_BOOKING),
        ("post", "/api/v1/auth/register"),
    }
)
"""The writes anyone may make without an account (the public booking page's, and
registering one): counted per client address, 429 past the limit."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refusal of a well-formed request: its status, problem type, and when."""

    status: int
    kind: str
    why: str


def _r(status: int, kind: str, why: str) -> Refusal:
    return Refusal(status, kind, why)


_SHAPE = (
    _r(422, "unprocessable-request", "a text holds a NUL character (it cannot be stored)"),
    _r(422, "date-out-of-range", "a date outside 2000-2199"),
    _r(422, "invalid-id", "an id with `@` in it"),
)
_SHAPE_OF_REGISTER = (_r(422, "invalid-email", "the email address is not usable"),)
SHAPE_KINDS = frozenset(r.kind for r in (*_SHAPE, *_SHAPE_OF_REGISTER))
"""422s the schema itself rules out (patterns, bounds): only a request that breaks the
schema gets one, so a schema-valid request never does."""


_KEY_REUSED = _r(422, "idempotency-key-reused", "the Idempotency-Key was used for another body")
_UNKNOWN_TOKEN = _r(
    422, "unknown-consistency-token", "X-Consistency-Token names a write that never happened"
)
_CURSOR = _r(422, "invalid-cursor", "the cursor is not one this API gave out")
_CONTENTION = _r(409, "too-much-contention", "other writes kept winning; retry")
_STALE = _r(409, "stale-version", "If-Match names an older version")
_PERIOD = _r(422, "invalid-period", "`from` is after `to`, or the span is too long")

_SLOT_RULES = (
    _r(409, "table-already-booked", "the table is taken at that time"),
    _r(
        409,
        "combination-overlap",
        "one of the tables named together (a combination) is taken at that time",
    ),
    _r(409, "no-table-available", "no free table fits the party at that time"),
    _r(409, "table-blocked", "the table is blocked at that time"),
    _r(409, "table-retired", "the table has been retired"),
    _r(409, "booking-already-exists", "a booking with this id exists"),
    _r(422, "outside-opening-hours", "the time is outside the opening hours"),
    _r(422, "off-slot-grid", "the time is not on the slot grid (interval_minutes)"),
    _r(422, "turn-runs-past-close", "the table turn would run past closing time"),
    _r(422, "closed-on-date", "the venue is closed that day"),
    _r(422, "start-in-past", "the start is in the past"),
    _r(422, "inside-lead-time", "the start is sooner than the minimum lead time"),
    _r(422, "beyond-booking-window", "the date is beyond the booking window"),
    _r(422, "nonexistent-local-time", "the local time does not exist (clocks go forward)"),
    _r(422, "party-too-large", "the party is larger than the table seats"),
    _r(422, "party-too-small", "the party is smaller than the table's minimum"),
    _r(422, "no-table-fits-party", "no table of the venue fits the party"),
    _r(422, "invalid-booking", "the booking's fields do not fit together"),
    _r(422, "pacing", "too many covers or bookings would start in one pacing window"),
)
_OVERRIDE_REQUIRED = _r(
    422,
    "override-required",
    "staff broke a rule they may set aside (opening hours, closures, the slot grid, a"
    " table's seats, pacing, the seating window): send it again with `override.reason`; `rule`"
    " names the rule",
)
_SEATING_WINDOW = _r(
    422,
    "seating-window",
    "the party can be seated only from an hour before the booking starts until it ends",
)
_BLANK_REASON = _r(422, "invalid-booking", "the override's reason is blank")
_STAFF_SLOT_RULES = (*_SLOT_RULES, _OVERRIDE_REQUIRED)
"""A booking or change that staff may make: the slot's rules, any of which staff may be
told needs a reason."""
_TRANSITION = _r(409, "invalid-transition", "the booking's status does not allow this")
_NO_SUCH_START = (
    _r(422, "off-slot-grid", "no booking can start at that time: it is off the slot grid"),
    _r(422, "nonexistent-local-time", "the local time does not exist (clocks go forward)"),
)
"""A time no booking can start at, asked about as it would be booked (the same 422)."""
_TABLE_RULES = (
    _r(409, "table-already-exists", "a table with this id exists"),
    _r(409, "duplicate-table-name", "another table has this name"),
    _r(409, "table-retired", "the table has been retired"),
    _r(422, "invalid-table", "min_capacity is above capacity, or another field clash"),
)
_LAYOUT_RULES = (
    _r(409, "layout-already-exists", "a layout with this id exists"),
    _r(422, "invalid-layout", "a table is placed twice, or another field clash"),
    _r(422, "unknown-table-in-layout", "the layout places a table the venue does not have"),
)
_COMBINATION_RULES = (
    _r(409, "combination-already-exists", "these tables are already combined"),
    _r(
        422,
        "invalid-combination",
        "fewer than two tables, a table named twice, or seats that do not fit together",
    ),
    _r(
        422,
        "unknown-table-in-combination",
        "the combination names a table the venue does not have, or has retired",
    ),
)

_VENUE_RULES = (
    _r(409, "slug-taken", "another venue holds the slug"),
    _r(422, "invalid-slug", "the slug is not 2 to 60 lower-case letters, digits or hyphens"),
    _r(422, "invalid-venue", "the time zone is not a known zone, or the name is blank"),
)
_WAITLIST = f"{_ADMIN}/waitlist/{{entry_id}}"
_LEFT_THE_LIST = _r(409, "waitlist-entry-closed", "the party was already seated or removed")
_INVALID_ENTRY = _r(
    422, "invalid-waitlist-entry", "a field is blank or too long, or a table id is not one"
)

_GUEST_MERGED = _r(
    409, "guest-profile-merged", "the profile was merged into another: write to that one"
)
_GUEST_ERASED = _r(409, "guest-profile-erased", "the guest's personal data was erased")
_INVALID_GUEST = _r(
    422,
    "invalid-guest-profile",
    "more than 20 tags, a tag blank or over 30 characters, notes over 2000 characters, a"
    " profile merged into itself, or two profiles whose tags or notes together break those"
    " bounds; `errors` names each field",
)

_LAST_MANAGER = _r(409, "last-manager", "only an admin may leave a venue without a manager")

_BY_OPERATION: dict[tuple[str, str], tuple[Refusal, ...]] = {
    ("post", "/api/v1/auth/register"): (
        _r(409, "email-taken", "an account with this email exists"),
        _r(
            422,
            "weak-password",
            "the password is shorter than 8 characters, or longer than the 72 bytes bcrypt"
            " reads (in UTF-8: a schema can count characters, not bytes)",
        ),
        *_SHAPE_OF_REGISTER,
    ),
    ("patch", f"{_ADMIN}/users/{{user_id}}"): (
        _r(409, "self-lockout", "an admin may not deactivate or demote their own account"),
    ),
    ("delete", "/api/v1/auth/me"): (
        _r(409, "self-lockout", "an admin account cannot erase itself (another admin closes it)"),
    ),
    ("post", _BOOKINGS): _STAFF_SLOT_RULES,
    ("put", f"{_BOOKINGS}/{{booking_id}}"): (*_STAFF_SLOT_RULES, _TRANSITION, _STALE),
    ("delete", f"{_BOOKINGS}/{{booking_id}}"): (_TRANSITION,),
    ("post", _PUBLIC): (
        *_SLOT_RULES,
        _r(422, "email-required", "`guest_email` is missing on a booking without an account"),
    ),
    ("put", _PUBLIC_BOOKING): (*_SLOT_RULES, _TRANSITION, _STALE),
    ("delete", _PUBLIC_BOOKING): (_TRANSITION,),
    ("post", f"{_ADMIN}/bookings"): _STAFF_SLOT_RULES,
    ("post", f"{_ADMIN}/bookings/{{booking_id}}/seat"): (
        _TRANSITION,
        _SEATING_WINDOW,
        _OVERRIDE_REQUIRED,
        _BLANK_REASON,
    ),
    ("post", f"{_ADMIN}/bookings/{{booking_id}}/complete"): (_TRANSITION,),
    ("post", f"{_ADMIN}/bookings/{{booking_id}}/no-show"): (
        _TRANSITION,
        _r(422, "no-show-before-start", "the booking has not started yet"),
    ),
    ("get", f"{_ADMIN}/bookings"): (_PERIOD,),
    ("get", f"{_ADMIN}/bookings/{{booking_id}}"): (
        _r(422, "as-of-in-future", "as_of is in the future"),
    ),
    ("get", f"{_ADMIN}/availability"): (
        _r(422, "as-of-in-future", "as_of is in the future"),
        *_NO_SUCH_START,
    ),
    ("get", f"{_BOOKINGS}/tables"): _NO_SUCH_START,
    ("get", f"{_ADMIN}/reports/bookings"): (_PERIOD,),
    ("get", f"{_ADMIN}/events"): (
        _r(422, "unknown-position", "`after` is past the end of the log"),
    ),
    ("post", f"{_ADMIN}/tables"): _TABLE_RULES,
    ("put", _TABLE): _TABLE_RULES,
    ("delete", _TABLE): (
        _r(409, "table-has-bookings", "the table has future bookings (see cancel_bookings)"),
    ),
    ("post", f"{_TABLE}/blocks"): (
        _r(409, "block-overlaps-bookings", "bookings hold the table in that period"),
        _r(409, "block-already-exists", "a block with this id exists"),
        _r(409, "table-retired", "the table has been retired"),
        _r(422, "invalid-period", "the block ends before it starts"),
        _r(422, "invalid-instant", "start or end is not a real date and time (Feb 30)"),
        _r(422, "nonexistent-local-time", "the local time does not exist (clocks go forward)"),
    ),
    ("delete", f"{_TABLE}/blocks/{{block_id}}"): (
        _r(409, "table-retired", "the table has been retired"),
    ),
    ("post", f"{_ADMIN}/layouts"): _LAYOUT_RULES,
    ("put", _LAYOUT): (*_LAYOUT_RULES, _STALE),
    ("delete", _LAYOUT): (_r(409, "layout-is-active", "the active layout stays"), _STALE),
    ("post", _COMBINATIONS): _COMBINATION_RULES,
    ("put", f"{_ADMIN}/operating-hours"): (
        _r(422, "invalid-opening-hours", "shifts overlap, or one opens and closes at once"),
    ),
    ("put", f"{_ADMIN}/time-slots"): (
        _r(
            422,
            "invalid-slot-settings",
            "the settings do not fit together (turn times, pacing rules)",
        ),
    ),
    ("post", f"{_ADMIN}/venues"): _VENUE_RULES,
    ("patch", _VENUE): _VENUE_RULES,
    ("post", f"{_VENUE}/staff"): (
        _LAST_MANAGER,
        _r(409, "user-inactive", "the account with the email is deactivated"),
        *_SHAPE_OF_REGISTER,
    ),
    ("put", _STAFF): (_LAST_MANAGER,),
    ("delete", _STAFF): (_LAST_MANAGER,),
    ("post", f"{_ADMIN}/waitlist"): (_INVALID_ENTRY,),
    ("post", f"{_WAITLIST}/notify"): (_LEFT_THE_LIST,),
    ("post", f"{_WAITLIST}/seat"): (*_STAFF_SLOT_RULES, _LEFT_THE_LIST, _INVALID_ENTRY),
    ("post", f"{_WAITLIST}/remove"): (_LEFT_THE_LIST, _INVALID_ENTRY),
    ("post", f"{_ADMIN}/notifications/{{notification_id}}/retry"): (
        _r(409, "notification-not-failed", "only a failed notification can be sent again"),
        _r(409, "notification-too-late", "the booking the message is about has started"),
        _r(409, "notification-superseded", "the booking has changed or been cancelled since"),
    ),
    ("patch", _GUEST): (_GUEST_MERGED, _GUEST_ERASED, _INVALID_GUEST, _STALE),
    ("post", f"{_GUEST}/merge"): (_GUEST_MERGED, _GUEST_ERASED, _INVALID_GUEST),
    ("post", f"{_ADMIN}/closures"): (
        _r(409, "closure-already-exists", "the day is already closed for another reason"),
    ),
}


_VENUE_SCOPE = "/api/v1/venues/{venue_id}/"


def unscoped(path: str) -> str:
    """The unscoped path of a venue-scoped one (`/api/v1/venues/{venue_id}/admin/tables`
    is `/api/v1/admin/tables`): both are one operation of the contract, on two venues."""
    if path.startswith(_VENUE_SCOPE):
        return "/api/v1/" + path[len(_VENUE_SCOPE) :]
    return path


def refusals(method: str, path: str, *, paged: bool, has_input: bool) -> tuple[Refusal, ...]:
    """Every documented 409/422 of one operation (`method` lower case), scoped to a venue
    or not."""
    path = unscoped(path)
    found = list(_SHAPE if has_input else ())
    found += _BY_OPERATION.get((method, path), ())
    if path.startswith("/api/v1/") and method != "get" and path not in NOT_IDEMPOTENT:
        found += [_KEY_REUSED, _CONTENTION]
    if method == "get" and path in CONSISTENT_READS:
        found.append(_UNKNOWN_TOKEN)
    if paged:
        found.append(_CURSOR)
    return tuple(dict.fromkeys(found))
