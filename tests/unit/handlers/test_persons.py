"""Whose personal data each event is: the handlers name the guest, the store resolves
them, and later events of a booking keep the person of its first."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from booking_core.domain.commands import (
    AddToWaitlist,
    ChangeBooking,
    NotifyWaitlistGuest,
    public_guest,
)
from booking_core.domain.events import BookingChanged, BookingPlaced, WaitlistGuestNotified
from booking_core.domain.personal import ERASED, is_person_id
from booking_core.handlers import add_to_waitlist, book_table, change_booking, notify_waitlist_guest
from booking_core.handlers.persons import erase_persons, held_about
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import ADA, ADMIN, NOW, book, command_id
from tests.unit.handlers.bistro import open_the_bistro


def change(booking_id: str, **fields: Any) -> ChangeBooking:
    fields.setdefault("actor", ADA)
    return ChangeBooking(
        venue_id=TEST_VENUE, command_id=command_id(), now=NOW, booking_id=booking_id, **fields
    )


async def test_a_guests_own_bookings_are_their_accounts_person_whatever_the_email() -> None:
    store = await open_the_bistro()
    first = await book_table(store, msgspec.structs.replace(book("b1"), guest_email="a@x.org"))
    second = await book_table(store, msgspec.structs.replace(book("b2"), guest_email="b@x.org"))
    person = first.booking.details.person  # type: ignore[union-attr]
    assert person is not None
    assert is_person_id(person)
    assert second.booking.details.person == person  # type: ignore[union-attr]
    assert await store.persons_of(["user:u-ada"]) == [(TEST_VENUE, person)]


async def test_staff_bookings_are_the_guests_email_and_later_events_keep_the_person() -> None:
    store = await open_the_bistro()
    for_ada = msgspec.structs.replace(book("b1", actor=ADMIN), guest_email="ada@x.org")
    placed = await book_table(store, for_ada)
    (event,) = [e for e in placed.all_events if isinstance(e, BookingPlaced)]
    assert event.person is not None
    assert await store.persons_of(["email:ada@x.org"]) == [(TEST_VENUE, event.person)]
    changed = await change_booking(
        store, change("b1", actor=ADMIN, guest_email="other@x.org", party_size=3)
    )
    (moved,) = [e for e in changed.all_events if isinstance(e, BookingChanged)]
    assert moved.person == event.person  # a new email does not move it to another guest
    stored = await store.read_stream(STREAMS.booking("b1"))
    assert msgspec.json.decode(stored[1].data)["person"] == event.person


async def test_a_waitlist_notice_carries_its_entrys_person() -> None:
    store = await open_the_bistro()
    entry = "wl-20261201-1"
    added = await add_to_waitlist(
        store,
        AddToWaitlist(
            venue_id=TEST_VENUE,
            command_id=command_id(),
            actor=ADMIN,
            now=NOW,
            entry_id=entry,
            service_date=date(2026, 12, 1),
            party_size=2,
            guest_name="Ada",
            guest_phone="+44 1",
            token_hash="0" * 64,
        ),
    )
    person = added.entry.details.person
    assert person is not None
    notified = await notify_waitlist_guest(
        store,
        NotifyWaitlistGuest(
            venue_id=TEST_VENUE, command_id=command_id(), actor=ADMIN, now=NOW, entry_id=entry
        ),
    )
    (notice,) = notified.all_events
    assert isinstance(notice, WaitlistGuestNotified)
    assert notice.person == person
    held = await held_about(store, [person])
    assert [(e.entry_id, len(e.events)) for e in held.entries] == [(entry, 2)]


async def test_after_erasure_the_booking_reads_erased_and_a_change_writes_no_plaintext() -> None:
    store = await open_the_bistro()
    placed = await book_table(store, msgspec.structs.replace(book("b1"), guest_email="a@x.org"))
    person = placed.booking.details.person  # type: ignore[union-attr]
    assert person is not None
    erased = await erase_persons(store, {TEST_VENUE: [person]}, erased_by="u-ada", at=NOW)
    assert erased.persons == [(TEST_VENUE, person)]
    again = await erase_persons(store, {TEST_VENUE: [person]}, erased_by="u-ada", at=NOW)
    assert again.persons == []
    assert again.token is None
    await change_booking(store, change("b1", party_size=3))
    for record in await store.read_stream(STREAMS.booking("b1")):
        data = msgspec.json.decode(record.data)
        assert (data["guest_name"], data["guest_email"], data["person"]) == (ERASED, None, person)
    (booking,) = (await held_about(store, [person])).bookings
    assert (booking.status, booking.booking_id, len(booking.events)) == ("confirmed", "b1", 2)


async def test_a_guest_without_an_account_is_their_email_not_their_actor() -> None:
    store = await open_the_bistro()
    public = public_guest("b-public-page")
    first = msgspec.structs.replace(book("b1", actor=public), guest_email="one@x.org")
    second = msgspec.structs.replace(book("b2", actor=public), guest_email="two@x.org")
    one = (await book_table(store, first)).booking.details.person  # type: ignore[union-attr]
    two = (await book_table(store, second)).booking.details.person  # type: ignore[union-attr]
    assert one != two
    assert await store.persons_of(["user:public-page"]) == []
    assert await store.persons_of(["email:one@x.org"]) == [(TEST_VENUE, one)]
