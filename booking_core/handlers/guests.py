"""Guest profile commands: note a profile's tags and notes, merge two profiles.

Noting is decided against the profile's stream (`person-{gst_id}`) alone, at the version
the session read it (and the caller's `expected_version`, the HTTP `If-Match`, if given).
A merge reads and writes both profiles' streams in one append: two staff merging the
same profile into two others at once cannot both win — one append fails, is decided
again, and is refused because the profile is merged by then.

Whether a profile exists at all is the read model's to say (a profile is made by the
bookings that name its person): the API asks it first.
"""

from __future__ import annotations

from dataclasses import dataclass

from booking_core.domain import guest as guest_decider
from booking_core.domain.commands import GuestCommand, MergeGuests, NoteGuest
from booking_core.domain.decision import Decision, DecisionBuilder
from booking_core.domain.errors import StaleVersion
from booking_core.domain.folding import PERSON
from booking_core.domain.guest import GuestProfile
from booking_core.handlers._session import (
    DEFAULT_RETRY,
    CommandResult,
    Decide,
    RetryPolicy,
    Session,
    execute,
)
from booking_core.store import EventStore, IdempotencyKey

__all__ = ["GuestResult", "merge_guests", "note_guest"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GuestResult(CommandResult):
    profile: GuestProfile
    """The (kept) profile's stream state after the command."""
    version: int
    """Its stream's version after the command (its `ETag`)."""


async def note_guest(
    store: EventStore,
    command: NoteGuest,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> GuestResult:
    async def decide(session: Session) -> Decision:
        stream_id = session.streams.person(command.person)
        state = await session.load(stream_id, PERSON)
        version = session.version(stream_id)
        if command.expected_version is not None and command.expected_version != version:
            raise StaleVersion(stream_id, command.expected_version, version)
        events = guest_decider.decide_note(command, state)
        return Decision(events={stream_id: tuple(events)}, reads=frozenset({stream_id}))

    return await _run(store, command, decide, retry, idempotency)


async def merge_guests(
    store: EventStore,
    command: MergeGuests,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> GuestResult:
    async def decide(session: Session) -> Decision:
        kept_id = session.streams.person(command.person)
        merged_id = session.streams.person(command.merged)
        await session.prefetch([kept_id, merged_id])
        kept = await session.load(kept_id, PERSON)
        merged = await session.load(merged_id, PERSON)
        on_kept, on_merged = guest_decider.decide_merge(command, kept, merged)
        decision = DecisionBuilder()
        decision.add(kept_id, on_kept)
        decision.add(merged_id, on_merged)
        return decision.build()

    return await _run(store, command, decide, retry, idempotency)


async def _run(
    store: EventStore,
    command: GuestCommand,
    decide: Decide,
    retry: RetryPolicy,
    idempotency: IdempotencyKey | None,
) -> GuestResult:
    result, session, decision = await execute(
        store, command, decide, retry=retry, idempotency=idempotency
    )
    stream_id = session.streams.person(command.person)
    return GuestResult(
        events=result.events,
        token=result.token,
        versions=result.versions,
        duplicate=result.duplicate,
        payload=result.payload,
        attempts=result.attempts,
        profile=session.state_after(stream_id, PERSON, decision),
        version=result.versions.get(stream_id, 0),
    )
