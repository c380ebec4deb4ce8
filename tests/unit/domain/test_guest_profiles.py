"""Guest profiles, rule by rule: tags and notes within bounds, merges of two profiles of
one guest, and what a merged or erased profile refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from booking_core.domain import guest as decider
from booking_core.domain.commands import UNSET, MergeGuests, NoteGuest, UnsetType
from booking_core.domain.errors import GuestProfileErased, GuestProfileMerged, InvalidGuestProfile
from booking_core.domain.events import GuestProfileNoted, GuestProfilesMerged, PersonErased
from booking_core.domain.folding import PERSON
from booking_core.domain.guest import GuestProfile
from tests.support.scope import TEST_VENUE
from tests.unit.domain.world import ADMIN, command_id

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ADA = "gst_" + "a" * 32
ADA_AGAIN = "gst_" + "b" * 32
GRACE = "gst_" + "c" * 32


def note(
    person: str = ADA,
    *,
    tags: tuple[str, ...] | UnsetType = UNSET,
    notes: str | UnsetType | None = UNSET,
    expected: int | None = None,
) -> NoteGuest:
    return NoteGuest(
        command_id=command_id(),
        actor=ADMIN,
        now=AT,
        venue_id=TEST_VENUE,
        person=person,
        tags=tags,
        notes=notes,
        expected_version=expected,
    )


def merge(person: str = ADA, merged: str = ADA_AGAIN) -> MergeGuests:
    return MergeGuests(
        command_id=command_id(),
        actor=ADMIN,
        now=AT,
        venue_id=TEST_VENUE,
        person=person,
        merged=merged,
    )


def noted(tags: tuple[str, ...] = (), notes: str | None = None, person: str = ADA) -> GuestProfile:
    return PERSON.fold(
        [GuestProfileNoted(person=person, tags=tags, notes=notes, noted_by="u", noted_at=AT)]
    )


def test_tags_are_trimmed_and_a_repeat_in_any_case_counts_once() -> None:
    events = decider.decide_note(note(tags=(" VIP ", "allergy: nuts", "vip")), GuestProfile())

    assert events == [
        GuestProfileNoted(
            person=ADA,
            tags=("VIP", "allergy: nuts"),
            notes=None,
            noted_by=ADMIN.user_id,
            noted_at=AT,
        )
    ]


def test_leaving_a_field_out_keeps_it_and_blank_notes_clear_them() -> None:
    state = noted(("VIP",), "window seat")

    only_tags = decider.decide_note(note(tags=("VIP", "regular")), state)
    cleared = decider.decide_note(note(notes="  "), state)

    assert only_tags[0] == GuestProfileNoted(
        person=ADA,
        tags=("VIP", "regular"),
        notes="window seat",
        noted_by="u-maitre-d",
        noted_at=AT,
    )
    assert cleared[0] == GuestProfileNoted(
        person=ADA, tags=("VIP",), notes=None, noted_by="u-maitre-d", noted_at=AT
    )


def test_saying_what_is_already_there_appends_nothing() -> None:
    state = noted(("VIP",), "window seat")

    assert decider.decide_note(note(tags=("VIP",), notes="window seat"), state) == []
    assert decider.decide_note(note(tags=UNSET, notes=UNSET), state) == []


@pytest.mark.parametrize(
    ("fields", "paths"),
    [
        pytest.param({"tags": ("",)}, ["tags[0]"], id="a blank tag"),
        pytest.param({"tags": ("x" * 31,)}, ["tags[0]"], id="a tag of 31 characters"),
        pytest.param({"tags": ("a\tb",)}, ["tags[0]"], id="a tab in a tag"),
        pytest.param({"tags": tuple(f"t{i}" for i in range(21))}, ["tags"], id="21 tags"),
        pytest.param({"notes": "n" * 2001}, ["notes"], id="notes of 2001 characters"),
        pytest.param(
            {"tags": ("", "y" * 40), "notes": "n" * 2001},
            ["tags[0]", "tags[1]", "notes"],
            id="every field at fault at once",
        ),
    ],
)
def test_out_of_bounds_tags_and_notes_are_refused_field_by_field(
    fields: dict[str, Any], paths: list[str]
) -> None:
    with pytest.raises(InvalidGuestProfile) as refused:
        decider.decide_note(note(ADA, **fields), GuestProfile())

    assert [path for path, _ in refused.value.problems] == paths


def test_the_bounds_themselves_are_allowed() -> None:
    tags = tuple(f"{i:02d}" + "x" * 28 for i in range(20))

    events = decider.decide_note(note(tags=tags, notes="n" * 2000), GuestProfile())

    assert isinstance(events[0], GuestProfileNoted)
    assert len(events[0].tags) == 20


def test_a_merge_joins_tags_and_notes_into_the_kept_profile() -> None:
    kept = noted(("VIP",), "window seat")
    other = noted(("vip", "allergy: nuts"), "calls ahead", person=ADA_AGAIN)

    on_kept, on_merged = decider.decide_merge(merge(), kept, other)

    happened = GuestProfilesMerged(
        person=ADA, merged=ADA_AGAIN, merged_by="u-maitre-d", merged_at=AT
    )
    assert on_merged == [happened]
    assert on_kept == [
        happened,
        GuestProfileNoted(
            person=ADA,
            tags=("VIP", "allergy: nuts"),
            notes="window seat\n\ncalls ahead",
            noted_by="u-maitre-d",
            noted_at=AT,
        ),
    ]
    assert PERSON.fold(on_merged, other).merged_into(ADA_AGAIN) == ADA
    assert PERSON.fold(on_kept, kept).merged_into(ADA) is None


def test_a_merge_that_adds_nothing_notes_nothing() -> None:
    on_kept, _ = decider.decide_merge(merge(), noted(("VIP",)), GuestProfile())

    assert [type(e) for e in on_kept] == [GuestProfilesMerged]


def test_a_profile_is_not_merged_into_itself() -> None:
    with pytest.raises(InvalidGuestProfile) as refused:
        decider.decide_merge(merge(ADA, ADA), GuestProfile(), GuestProfile())

    assert refused.value.field == "guest_id"


def test_a_merged_profile_takes_no_notes_and_no_merge_either_way() -> None:
    _, on_merged = decider.decide_merge(merge(), GuestProfile(), GuestProfile())
    gone = PERSON.fold(on_merged)

    with pytest.raises(GuestProfileMerged) as refused:
        decider.decide_note(note(ADA_AGAIN, tags=("VIP",)), gone)
    assert refused.value.into == ADA
    with pytest.raises(GuestProfileMerged):
        decider.decide_merge(merge(GRACE, ADA_AGAIN), GuestProfile(), gone)
    with pytest.raises(GuestProfileMerged):
        decider.decide_merge(merge(ADA_AGAIN, GRACE), gone, GuestProfile())


def test_an_erased_profile_takes_no_notes_and_forgets_its_own() -> None:
    erased = PERSON.fold(
        [PersonErased(person=ADA, erased_at=AT, erased_by="u")], noted(("VIP",), "nuts")
    )

    assert erased == GuestProfile(tags=("VIP",), notes=None, erased=True)
    with pytest.raises(GuestProfileErased):
        decider.decide_note(note(tags=()), erased)
    with pytest.raises(GuestProfileErased):
        decider.decide_merge(merge(GRACE, ADA), GuestProfile(), erased)


def test_a_merge_whose_result_breaks_the_bounds_is_refused_whole() -> None:
    kept = noted(tuple(f"a{i}" for i in range(12)))
    other = noted(tuple(f"b{i}" for i in range(12)), person=ADA_AGAIN)

    with pytest.raises(InvalidGuestProfile) as refused:
        decider.decide_merge(merge(), kept, other)

    assert refused.value.problems[0][0] == "tags"
