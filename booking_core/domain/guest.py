"""A guest profile's own stream (`person-{gst_id}`): its tags and notes, merges, erasure.

What a profile counts (visits, covers, no-shows) comes from the bookings that name the
person, in the read model; the stream holds only what staff say about the guest and what
became of the profile: merged into another (`merged_into`), or erased.

Rules:

- tags: at most `MAX_TAGS`, each 1 to `MAX_TAG_LENGTH` characters once trimmed, no
  control characters; a tag given twice (in any case) counts once, the first spelling
  kept. notes: at most `MAX_NOTES_LENGTH` characters; blank notes are no notes.
- A merged profile takes no more notes and no merge (409 `guest-profile-merged`, naming
  the kept one); an erased one neither (409 `guest-profile-erased`). A profile merged
  into itself is a 422.
- A merge joins the tags (the kept profile's first) and puts the notes one after the
  other, and must fit the same bounds: otherwise it is refused, nothing is dropped.
- Setting what is already there appends nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from booking_core.domain._unset import or_current
from booking_core.domain.commands import MergeGuests, NoteGuest
from booking_core.domain.errors import (
    GuestProfileErased,
    GuestProfileMerged,
    InvalidGuestProfile,
)
from booking_core.domain.events import (
    Event,
    GuestProfileNoted,
    GuestProfilesMerged,
    PersonErased,
    PersonEvent,
)

__all__ = [
    "MAX_NOTES_LENGTH",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "GuestProfile",
    "clean_tags",
    "decide_merge",
    "decide_note",
    "evolve",
    "initial_state",
]

MAX_TAGS: Final = 20
MAX_TAG_LENGTH: Final = 30
MAX_NOTES_LENGTH: Final = 2000
NOTES_SEPARATOR: Final = "\n\n"


@dataclass(frozen=True, slots=True)
class GuestProfile:
    tags: tuple[str, ...] = ()
    notes: str | None = None
    merges: tuple[tuple[str, str], ...] = ()
    """Every `(kept, merged)` this stream has seen: a profile's stream holds the merges
    it was kept in and the one it was merged in."""
    erased: bool = False

    def merged_into(self, person: str) -> str | None:
        """The profile `person` (this stream's) was merged into, if it was."""
        return next((kept for kept, merged in self.merges if merged == person), None)


initial_state: Final = GuestProfile()


def evolve(state: GuestProfile, event: PersonEvent) -> GuestProfile:
    match event:
        case GuestProfileNoted():
            return GuestProfile(event.tags, event.notes, state.merges, state.erased)
        case GuestProfilesMerged():
            pair = (event.person, event.merged)
            return GuestProfile(state.tags, state.notes, (*state.merges, pair), state.erased)
        case PersonErased():
            return GuestProfile(state.tags, None, state.merges, erased=True)


def _writable(person: str, state: GuestProfile) -> None:
    into = state.merged_into(person)
    if into is not None:
        raise GuestProfileMerged(person, into)
    if state.erased:
        raise GuestProfileErased(person)


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def clean_tags(
    tags: Iterable[str], field: str = "tags"
) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    """The tags trimmed, each once (the first spelling of a case-insensitive repeat), and
    the problems found, each `(path, message)`."""
    kept: list[str] = []
    seen: set[str] = set()
    problems: list[tuple[str, str]] = []
    for index, raw in enumerate(tags):
        tag = raw.strip()
        if not tag:
            problems.append((f"{field}[{index}]", "must not be blank"))
        elif len(tag) > MAX_TAG_LENGTH:
            problems.append((f"{field}[{index}]", f"at most {MAX_TAG_LENGTH} characters"))
        elif _has_control(tag):
            problems.append((f"{field}[{index}]", "must not hold control characters"))
        elif tag.casefold() not in seen:
            seen.add(tag.casefold())
            kept.append(tag)
    if len(kept) > MAX_TAGS:
        problems.append((field, f"at most {MAX_TAGS} tags, not {len(kept)}"))
    return tuple(kept), problems


def _clean_notes(
    notes: str | None, field: str = "notes"
) -> tuple[str | None, list[tuple[str, str]]]:
    if notes is None or not notes.strip():
        return None, []
    text = notes.strip()
    if len(text) > MAX_NOTES_LENGTH:
        return text, [(field, f"at most {MAX_NOTES_LENGTH} characters, not {len(text)}")]
    if "\x00" in text:
        return text, [(field, "must not hold a NUL character")]
    return text, []


def decide_note(command: NoteGuest, state: GuestProfile) -> list[Event]:
    _writable(command.person, state)
    tags, tag_problems = clean_tags(or_current(command.tags, state.tags))
    notes, note_problems = _clean_notes(or_current(command.notes, state.notes))
    InvalidGuestProfile.check([*tag_problems, *note_problems])
    if (tags, notes) == (state.tags, state.notes):
        return []
    return [
        GuestProfileNoted(
            person=command.person,
            tags=tags,
            notes=notes,
            noted_by=command.actor.user_id,
            noted_at=command.now,
        )
    ]


def decide_merge(
    command: MergeGuests, kept: GuestProfile, merged: GuestProfile
) -> tuple[list[Event], list[Event]]:
    """The events of the kept profile's stream and of the merged one's."""
    if command.person == command.merged:
        raise InvalidGuestProfile("guest_id", "a profile cannot be merged into itself")
    _writable(command.person, kept)
    _writable(command.merged, merged)
    tags, tag_problems = clean_tags((*kept.tags, *merged.tags))
    joined = NOTES_SEPARATOR.join(n for n in (kept.notes, merged.notes) if n)
    notes, note_problems = _clean_notes(joined or None)
    InvalidGuestProfile.check(
        [
            (path, f"the two profiles together: {says}")
            for path, says in (*tag_problems, *note_problems)
        ]
    )
    happened = GuestProfilesMerged(
        person=command.person,
        merged=command.merged,
        merged_by=command.actor.user_id,
        merged_at=command.now,
    )
    on_kept: list[Event] = [happened]
    if (tags, notes) != (kept.tags, kept.notes):
        on_kept.append(
            GuestProfileNoted(
                person=command.person,
                tags=tags,
                notes=notes,
                noted_by=command.actor.user_id,
                noted_at=command.now,
            )
        )
    return on_kept, [happened]
