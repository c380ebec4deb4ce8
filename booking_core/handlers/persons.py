"""A person's data: find it, hand it over, erase it.

Erasing persons is one transaction of the store (`erase`): their keys are deleted, so
everything sealed under them reads as erased from then on, and a `PersonErased` is
appended to each one's `person-{id}` stream for the read models to scrub what they kept.
Erasing a person erased before is no error and writes nothing.

What is held about a person is what the log holds under their id: the bookings and
waitlist entries whose first event names them, every event of those, opened, and their
profile's own stream (tags, notes, merges). Profiles staff merged are one guest: a
person's data includes that of every profile merged with theirs (`profiles_of`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import msgspec

from booking_core.codec import codec
from booking_core.domain.booking import NoBooking
from booking_core.domain.events import (
    BookingPlaced,
    Event,
    PersonErased,
    WaitlistEntryAdded,
)
from booking_core.domain.folding import BOOKING, PERSON
from booking_core.domain.guest import GuestProfile
from booking_core.domain.streams import (
    BOOKING_PREFIX,
    WAITLIST_PREFIX,
    local_name,
    streams_of,
    venue_of,
)
from booking_core.store import ConsistencyToken, EventStore, NewEvent, RecordedEvent

__all__ = [
    "Erased",
    "Held",
    "HeldBooking",
    "HeldEntry",
    "HeldProfile",
    "PersonStore",
    "erase_persons",
    "held_about",
    "opened_payload",
    "profiles_of",
]


@runtime_checkable
class PersonStore(EventStore, Protocol):
    """An event store that knows persons (both stores are)."""

    async def persons_of(self, identities: Collection[str]) -> list[tuple[str, str]]: ...

    async def streams_of_persons(self, persons: Collection[str]) -> list[str]: ...

    async def erase(
        self, persons: Mapping[str, Collection[str]], erased: Callable[[str, str], NewEvent]
    ) -> tuple[list[tuple[str, str]], ConsistencyToken | None]: ...


@dataclass(frozen=True, slots=True)
class Erased:
    persons: Sequence[tuple[str, str]]
    """`(venue_id, person)` erased now (none when all were erased before)."""
    token: ConsistencyToken | None
    """Where the `PersonErased` events stand in the log (None when nothing was written)."""


async def erase_persons(
    store: PersonStore, persons: Mapping[str, Collection[str]], *, erased_by: str, at: datetime
) -> Erased:
    """Erase `persons` (venue id → person ids) in one transaction."""

    def erased(venue_id: str, person: str) -> NewEvent:
        return codec.encode(PersonErased(person=person, erased_at=at, erased_by=erased_by))

    gone, token = await store.erase(persons, erased)
    return Erased(gone, token)


@dataclass(frozen=True, slots=True)
class HeldBooking:
    venue_id: str
    booking_id: str
    person: str
    status: str
    events: Sequence[RecordedEvent]


@dataclass(frozen=True, slots=True)
class HeldEntry:
    venue_id: str
    entry_id: str
    person: str
    events: Sequence[RecordedEvent]


@dataclass(frozen=True, slots=True)
class HeldProfile:
    venue_id: str
    person: str
    profile: GuestProfile
    """The profile's stream folded: its tags and notes (opened), its merges."""
    events: Sequence[RecordedEvent]


async def profiles_of(
    store: PersonStore, persons: Collection[tuple[str, str]]
) -> list[HeldProfile]:
    """The profiles of `persons` (`(venue_id, person)`) and of every profile merged with
    one of them, however many merges apart. Merges are read from the profiles' streams,
    not the read model: a merge counts as soon as it is written."""
    found: dict[tuple[str, str], HeldProfile] = {}
    todo = list(dict.fromkeys(persons))
    while todo:
        wanted = {
            streams_of(venue_id).person(person): (venue_id, person) for venue_id, person in todo
        }
        streams = await store.read_streams(list(wanted))
        for stream_id, (venue_id, person) in wanted.items():
            records = streams.get(stream_id, [])
            profile = PERSON.fold(codec.decode(record) for record in records)
            found[(venue_id, person)] = HeldProfile(venue_id, person, profile, records)
        merged_with = (
            (venue_id, other)
            for venue_id, person in wanted.values()
            for pair in found[(venue_id, person)].profile.merges
            for other in pair
        )
        todo = [key for key in dict.fromkeys(merged_with) if key not in found]
    return list(found.values())


@dataclass(slots=True)
class Held:
    bookings: list[HeldBooking] = field(default_factory=list)
    entries: list[HeldEntry] = field(default_factory=list)


async def held_about(store: PersonStore, persons: Collection[str]) -> Held:
    """Every booking and waitlist entry of `persons`, with all their events, opened."""
    wanted = set(persons)
    held = Held()
    if not wanted:
        return held
    stream_ids = await store.streams_of_persons(wanted)
    streams = await store.read_streams(stream_ids)
    for stream_id, records in streams.items():
        name = local_name(stream_id)
        if name.startswith(BOOKING_PREFIX):
            booking = _booking(stream_id, records, wanted)
            if booking is not None:
                held.bookings.append(booking)
        elif name.startswith(WAITLIST_PREFIX):
            held.entries.extend(_entries(stream_id, records, wanted))
    return held


def _booking(stream_id: str, records: list[RecordedEvent], wanted: set[str]) -> HeldBooking | None:
    events = [codec.decode(record) for record in records]
    first = next((e for e in events if isinstance(e, BookingPlaced)), None)
    if first is None or first.person not in wanted:
        return None
    state = BOOKING.fold(events, BOOKING.initial)
    status = "none" if isinstance(state, NoBooking) else state.status
    return HeldBooking(venue_of(stream_id), first.booking_id, first.person, status, records)


def _entries(stream_id: str, records: list[RecordedEvent], wanted: set[str]) -> list[HeldEntry]:
    """The entries of one day's list whose first event names one of `wanted`."""
    owners: dict[str, str] = {}
    kept: dict[str, list[RecordedEvent]] = {}
    for record in records:
        event: Event = codec.decode(record)
        entry_id = _entry_of(event)
        if entry_id is None:
            continue
        if isinstance(event, WaitlistEntryAdded) and event.person in wanted:
            owners.setdefault(entry_id, event.person)
        if entry_id in owners:
            kept.setdefault(entry_id, []).append(record)
    return [
        HeldEntry(venue_of(stream_id), entry_id, owners[entry_id], kept[entry_id])
        for entry_id in owners
    ]


def _entry_of(event: Event) -> str | None:
    entry_id: Any = getattr(event, "entry_id", None)
    return entry_id if isinstance(entry_id, str) else None


def opened_payload(record: RecordedEvent) -> dict[str, Any]:
    """A record's payload as JSON values (personal fields opened by the store)."""
    payload = msgspec.json.decode(record.data)
    if not isinstance(payload, dict):
        raise TypeError("an event payload is a JSON object")
    payload.pop("type", None)
    return payload
