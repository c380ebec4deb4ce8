"""Guest profile handlers: noting with If-Match, merging both streams in one append, and a
merge that lost a race decided again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking_core.domain.commands import MergeGuests, NoteGuest
from booking_core.domain.errors import GuestProfileMerged, StaleVersion
from booking_core.domain.events import GuestProfileNoted, GuestProfilesMerged
from booking_core.handlers import merge_guests, note_guest
from booking_core.store import InMemoryEventStore
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import ADMIN, command_id
from tests.unit.handlers.fakes import Racing

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ADA = "gst_" + "a" * 32
ADA_AGAIN = "gst_" + "b" * 32
GRACE = "gst_" + "c" * 32


def note(person: str, tags: tuple[str, ...], expected: int | None = None) -> NoteGuest:
    return NoteGuest(
        command_id=command_id(),
        actor=ADMIN,
        now=AT,
        venue_id=TEST_VENUE,
        person=person,
        tags=tags,
        expected_version=expected,
    )


def merge(person: str, merged: str) -> MergeGuests:
    return MergeGuests(
        command_id=command_id(),
        actor=ADMIN,
        now=AT,
        venue_id=TEST_VENUE,
        person=person,
        merged=merged,
    )


async def test_noting_writes_the_profile_stream_and_if_match_guards_it() -> None:
    store = InMemoryEventStore()

    first = await note_guest(store, note(ADA, ("VIP",), expected=0))
    assert first.version == 1
    assert first.profile.tags == ("VIP",)
    with pytest.raises(StaleVersion):
        await note_guest(store, note(ADA, ("regular",), expected=0))
    second = await note_guest(store, note(ADA, ("VIP", "regular"), expected=1))

    assert second.version == 2
    stored = await store.read_streams([STREAMS.person(ADA)])
    assert [r.type for r in stored[STREAMS.person(ADA)]] == ["GuestProfileNoted"] * 2


async def test_a_merge_writes_both_profiles_in_one_append() -> None:
    store = InMemoryEventStore()
    await note_guest(store, note(ADA_AGAIN, ("allergy: nuts",)))

    result = await merge_guests(store, merge(ADA, ADA_AGAIN))

    assert result.profile.tags == ("allergy: nuts",)
    assert {type(e) for e in result.events[STREAMS.person(ADA)]} == {
        GuestProfilesMerged,
        GuestProfileNoted,
    }
    assert [type(e) for e in result.events[STREAMS.person(ADA_AGAIN)]] == [GuestProfilesMerged]
    assert result.token is not None


async def test_of_two_merges_of_one_profile_racing_the_second_is_refused() -> None:
    inner = InMemoryEventStore()

    async def rival(store: InMemoryEventStore) -> object:
        return await merge_guests(store, merge(GRACE, ADA_AGAIN))

    with pytest.raises(GuestProfileMerged) as refused:
        await merge_guests(Racing(inner, rival), merge(ADA, ADA_AGAIN))

    assert refused.value.into == GRACE
