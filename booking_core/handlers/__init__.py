"""Command handlers: load the streams a command needs, decide, append, retry on a race.

Every handler is `async def handler(store, command, *, retry=..., idempotency=None)`; it
returns a result with the new events, the consistency token of the append, and the
state it produced, or raises a `booking_core.domain.errors.DomainError`.

A command's `command_id` names one request: give a retried request the same id (derive
it from the `Idempotency-Key`, say) and a command that was already applied is answered
as a `duplicate` with its first token, however deciding it again would turn out.
"""

from booking_core.handlers._session import DEFAULT_RETRY, CommandResult, RetryPolicy
from booking_core.handlers.bookings import (
    BookingResult,
    book_table,
    cancel_booking,
    change_booking,
    complete_booking,
    mark_no_show,
    seat_booking,
)
from booking_core.handlers.guests import GuestResult, merge_guests, note_guest
from booking_core.handlers.registry import (
    RegistryResult,
    change_registry,
    find_venue,
    id_for_new_venue,
)
from booking_core.handlers.tables import (
    TableResult,
    add_table,
    block_table,
    change_table,
    lift_block,
    retire_table,
)
from booking_core.handlers.venue import VenueResult, change_venue, load_venue
from booking_core.handlers.waitlist import (
    WaitlistResult,
    add_to_waitlist,
    notify_waitlist_guest,
    remove_from_waitlist,
    seat_from_waitlist,
)

__all__ = [
    "DEFAULT_RETRY",
    "BookingResult",
    "CommandResult",
    "GuestResult",
    "RegistryResult",
    "RetryPolicy",
    "TableResult",
    "VenueResult",
    "WaitlistResult",
    "add_table",
    "add_to_waitlist",
    "block_table",
    "book_table",
    "cancel_booking",
    "change_booking",
    "change_registry",
    "change_table",
    "change_venue",
    "complete_booking",
    "find_venue",
    "id_for_new_venue",
    "lift_block",
    "load_venue",
    "mark_no_show",
    "merge_guests",
    "note_guest",
    "notify_waitlist_guest",
    "remove_from_waitlist",
    "retire_table",
    "seat_booking",
    "seat_from_waitlist",
]
