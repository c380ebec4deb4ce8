"""A guest's bookings, profile notes, merges and erasure written as the store holds them,
for read-side tests of guest profiles (the deciders have their own tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from booking_core.codec import Event, EventMetadata, codec
from booking_core.domain.events import (
    BookingCancelled,
    BookingChanged,
    BookingCompleted,
    BookingMarkedNoShow,
    BookingPlaced,
    BookingSeated,
    GuestProfileNoted,
    GuestProfilesMerged,
    PersonErased,
)
from booking_core.domain.streams import streams_of
from booking_core.store import ANY, ConsistencyToken, EventStore, NewEvent, StreamAppend
from booking_core.store.memory import InMemoryEventStore
from booking_core.store.postgres import PostgresEventStore
from tests.support.persons import enrol
from tests.support.scope import TEST_VENUE

__all__ = ["AT", "Book"]

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _slot(booking_id: str, day: date, at: time, party_size: int) -> dict[str, Any]:
    """The fields a placement and a change share: two hours on T1 from `at` (UTC)."""
    starts = datetime.combine(day, at, tzinfo=UTC)
    return {
        "booking_id": booking_id,
        "table_ids": ("T1",),
        "service_date": day,
        "date": day,
        "time": at,
        "end_date": day,
        "end_time": (starts + timedelta(hours=2)).time(),
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "party_size": party_size,
        "duration_minutes": 120,
    }


class Book:
    """Writes a guest's bookings as the store would hold them."""

    def __init__(self, store: EventStore, venue_id: str = TEST_VENUE) -> None:
        self.store = store
        self.streams = streams_of(venue_id)
        self.venue_id = venue_id
        self.count = 0

    async def write(self, stream_id: str, *events: Event) -> ConsistencyToken:
        self.count += 1
        meta = EventMetadata(user_id="u-staff", command_id=f"c-guests-{id(self)}-{self.count}")
        appended = await self.store.append(
            [StreamAppend(stream_id, ANY, [codec.encode(e, meta) for e in events])]
        )
        return appended.token

    async def place(
        self,
        booking_id: str,
        person: str | None,
        day: date,
        *,
        name: str = "Ada Lovelace",
        phone: str | None = "+44 20 7946 0000",
        email: str | None = "Ada@Example.org",
        party_size: int = 2,
        at: datetime = AT,
    ) -> ConsistencyToken:
        if person is not None:
            await enrol(self.store, self.venue_id, person)
        placed = BookingPlaced(
            **_slot(booking_id, day, time(19, 0), party_size),
            guest_name=name,
            guest_phone=phone,
            guest_email=email,
            person=person,
            user_id="u-staff",
            placed_at=at,
        )
        return await self.write(self.streams.booking(booking_id), placed)

    async def step(
        self, booking_id: str, how: str, day: date, party_size: int = 2
    ) -> ConsistencyToken:
        done: dict[str, Any] = {
            "booking_id": booking_id,
            "table_ids": ("T1",),
            "service_date": day,
            "party_size": party_size,
        }
        event: Event
        if how == "seat":
            event = BookingSeated(**done, seated_at=AT)
        elif how == "complete":
            event = BookingCompleted(**done, completed_at=AT)
        elif how == "no_show":
            event = BookingMarkedNoShow(**done, duration_minutes=120, marked_at=AT)
        else:
            event = BookingCancelled(
                **done,
                starts_at=AT,
                duration_minutes=120,
                cancelled_at=AT,
                cancelled_by="u",
            )
        return await self.write(self.streams.booking(booking_id), event)

    async def change(
        self, booking_id: str, day: date, *, name: str, phone: str, party_size: int, at: datetime
    ) -> None:
        changed = BookingChanged(
            **_slot(booking_id, day, time(20, 0), party_size),
            guest_name=name,
            guest_phone=phone,
            changed_at=at,
            changed_by="u-staff",
            previous_table_ids=("T1",),
            previous_service_date=day,
            previous_party_size=2,
            previous_duration_minutes=120,
        )
        await self.write(self.streams.booking(booking_id), changed)

    async def note(self, person: str, tags: tuple[str, ...], notes: str | None) -> None:
        noted = GuestProfileNoted(person=person, tags=tags, notes=notes, noted_by="u", noted_at=AT)
        await self.write(self.streams.person(person), noted)

    async def merge(self, kept: str, merged: str) -> None:
        happened = GuestProfilesMerged(person=kept, merged=merged, merged_by="u", merged_at=AT)
        meta = EventMetadata(user_id="u-staff", command_id=f"c-merge-{kept}-{merged}")
        await self.store.append(
            [
                StreamAppend(self.streams.person(kept), ANY, [codec.encode(happened, meta)]),
                StreamAppend(self.streams.person(merged), ANY, [codec.encode(happened, meta)]),
            ]
        )

    async def erase(self, person: str) -> None:
        """Erase `person` as the store does: their key deleted, `PersonErased` appended."""

        def erased(venue_id: str, who: str) -> NewEvent:
            event = PersonErased(person=who, erased_at=AT, erased_by="u-admin")
            return codec.encode(event, EventMetadata(user_id="u-admin"))

        assert isinstance(self.store, PostgresEventStore | InMemoryEventStore)
        await self.store.erase({self.venue_id: [person]}, erased)
