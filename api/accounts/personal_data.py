"""The signed-in user's personal data, handed over or erased (what `GET
/api/v1/auth/me/export` and `DELETE /api/v1/auth/me` do).

The user's persons are those of their account (`user:{id}`) and of their account's email
at every venue (`booking_core.domain.identity`): the bookings they made for themselves
and those staff took for their address, and every guest profile staff merged with one of
those (`booking_core.handlers.persons.profiles_of`). The export holds the account, every
booking and waitlist entry of those persons, and the profiles' tags and notes, with each
event opened. Erasing destroys those persons' keys (one transaction,
`booking_core.handlers.persons`), then anonymises and deactivates the account. See
`docs/data-protection.md`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec

from api.accounts.shapes import UserOut, user_out
from api.accounts.staff import StaffStore
from api.accounts.users import User
from api.context import Api
from api.persons import person_store
from api.refused import Refused
from api.requests import now
from booking_core.domain.identity import identity_of
from booking_core.handlers.persons import (
    HeldProfile,
    PersonStore,
    erase_persons,
    held_about,
    opened_payload,
    profiles_of,
)
from booking_core.store import RecordedEvent

__all__ = ["PersonalData", "erase_account", "export_of"]


class ExportedEvent(msgspec.Struct, frozen=True):
    type: str
    recorded_at: dt.datetime
    data: dict[str, Any]
    """The event's payload, personal fields opened."""


class ExportedGuest(msgspec.Struct, frozen=True):
    """The user as one venue knows them: a guest profile id."""

    venue_id: str
    guest_id: str


class ExportedBooking(msgspec.Struct, frozen=True):
    venue_id: str
    booking_id: str
    guest_id: str
    status: str
    events: list[ExportedEvent]


class ExportedWaitlistEntry(msgspec.Struct, frozen=True):
    venue_id: str
    entry_id: str
    guest_id: str
    events: list[ExportedEvent]


class ExportedProfile(msgspec.Struct, frozen=True):
    """What staff noted on one of the user's guest profiles."""

    venue_id: str
    guest_id: str
    tags: list[str]
    notes: str | None
    events: list[ExportedEvent]


class PersonalData(msgspec.Struct, frozen=True):
    """Everything held about the user."""

    exported_at: dt.datetime
    account: UserOut
    guests: list[ExportedGuest]
    bookings: list[ExportedBooking]
    waitlist_entries: list[ExportedWaitlistEntry]
    profiles: list[ExportedProfile]


async def _profiles(store: PersonStore, user: User) -> list[HeldProfile]:
    """The user's persons and every profile merged with one of them."""
    identities = [identity_of(account=user.id), identity_of(email=user.email)]
    persons = await store.persons_of([i for i in identities if i is not None])
    return await profiles_of(store, persons)


def _events(records: Sequence[RecordedEvent]) -> list[ExportedEvent]:
    return [ExportedEvent(r.type, r.recorded_at, opened_payload(r)) for r in records]


async def export_of(api: Api, user: User) -> PersonalData:
    store = person_store(api)
    profiles = await _profiles(store, user)
    held = await held_about(store, [p.person for p in profiles])
    grants = await StaffStore(api.services.pool).grants_of([user.id])
    return PersonalData(
        exported_at=now(),
        account=user_out(user, grants[user.id]),
        guests=[ExportedGuest(p.venue_id, p.person) for p in profiles],
        bookings=[
            ExportedBooking(b.venue_id, b.booking_id, b.person, b.status, _events(b.events))
            for b in held.bookings
        ],
        waitlist_entries=[
            ExportedWaitlistEntry(e.venue_id, e.entry_id, e.person, _events(e.events))
            for e in held.entries
        ],
        profiles=[
            ExportedProfile(
                p.venue_id, p.person, list(p.profile.tags), p.profile.notes, _events(p.events)
            )
            for p in profiles
            if p.events
        ],
    )


async def erase_account(api: Api, user: User) -> None:
    if user.is_admin:
        raise Refused(
            409,
            "An admin account cannot erase itself; another admin closes it first.",
            "self-lockout",
        )
    store = person_store(api)
    by_venue: dict[str, list[str]] = {}
    for profile in await _profiles(store, user):
        by_venue.setdefault(profile.venue_id, []).append(profile.person)
    await erase_persons(store, by_venue, erased_by=user.id, at=now())
    await api.forget_replays()  # saved first answers may name the guest
    await api.users.anonymise(user.id)
