"""Guest profile handlers: noting with If-Match, merging both streams in one append, and a
merge that lost a race decided again."""

from __future__ import annotations

import pytest

from booking_core.domain.errors import GuestProfileMerged, StaleVersion
from booking_core.domain.events import GuestProfileNoted, GuestProfilesMerged
from booking_core.handlers import merge_guests, note_guest
from booking_core.store import InMemoryEventStore
from tests.support.scope import STREAMS
from tests.unit.domain.test_guest_profiles import ADA, ADA_AGAIN, GRACE, merge, note
from tests.unit.handlers.fakes import Racing


async def test_noting_writes_the_profile_stream_and_if_match_guards_it() -> None:
    store = InMemoryEventStore()

    first = await note_guest(store, note(ADA, tags=("VIP",), expected=0))
    assert first.version == 1
    assert first.profile.tags == ("VIP",)
    with pytest.raises(StaleVersion):
        await note_guest(store, note(ADA, tags=("regular",), expected=0))
    second = await note_guest(store, note(ADA, tags=("VIP", "regular"), expected=1))

    assert second.version == 2
    stored = await store.read_streams([STREAMS.person(ADA)])
    assert [r.type for r in stored[STREAMS.person(ADA)]] == ["GuestProfileNoted"] * 2


async def test_a_merge_writes_both_profiles_in_one_append() -> None:
    store = InMemoryEventStore()
    await note_guest(store, note(ADA_AGAIN, tags=("allergy: nuts",)))

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
