"""Registry commands: open a venue, change its directory details (and the slugs they hold).

The venue's events and its slug claims go in one append, each stream at the version the
decision read it, so a slug two venues claim at once goes to one of them: the other's
append fails, it is decided again and refused with `SlugTaken`.
"""

from __future__ import annotations

from dataclasses import dataclass

from booking_core.codec import codec
from booking_core.domain import registry
from booking_core.domain.commands import UNSET, ChangeVenueDetails, OpenVenue, RegistryCommand
from booking_core.domain.decision import Decision, DecisionBuilder
from booking_core.domain.errors import InvalidId
from booking_core.domain.folding import SLUG, VENUE_KIND
from booking_core.domain.registry import LEGACY_ENTRY, entry_of
from booking_core.domain.streams import DEFAULT_STREAMS, DEFAULT_VENUE_ID, slug_stream, streams_of
from booking_core.domain.venue import VenueEntry, VenueState
from booking_core.handlers._session import (
    DEFAULT_RETRY,
    CommandResult,
    RetryPolicy,
    Session,
    execute,
)
from booking_core.store import EventStore, IdempotencyKey

__all__ = ["RegistryResult", "change_registry", "find_venue", "id_for_new_venue"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistryResult(CommandResult):
    venue_id: str
    venue: VenueState
    """The venue after the command."""
    entry: VenueEntry | None
    """Its directory entry after the command."""
    version: int
    """The venue stream's version after the command."""


async def id_for_new_venue(store: EventStore, fresh_id: str) -> str:
    """The id a venue opened now gets: the default venue's while its stream is empty (so
    the unscoped routes address the first venue created), `fresh_id` otherwise."""
    found = await store.read_streams([DEFAULT_STREAMS.venue])
    return DEFAULT_VENUE_ID if not found[DEFAULT_STREAMS.venue] else fresh_id


async def find_venue(store: EventStore, key: str) -> str | None:
    """The venue whose id or slug is `key`, as the registry's streams say now: for a venue
    the directory (a projection) does not list yet. None for no such venue."""
    try:
        by_id, by_slug = streams_of(key).venue, slug_stream(key)
    except InvalidId:
        return None
    found = await store.read_streams([by_id, by_slug])
    venue = VENUE_KIND.fold(codec.decode(record) for record in found[by_id])
    if entry_of(key, venue) is not None:
        return key
    hold = SLUG.fold(codec.decode(record) for record in found[by_slug])
    return registry.holder(key, hold)


async def change_registry(
    store: EventStore,
    command: RegistryCommand,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> RegistryResult:
    """`OpenVenue` or `ChangeVenueDetails`, with the slug claims they take."""

    async def decide(session: Session) -> Decision:
        decision = DecisionBuilder()
        venue = await session.venue()
        before = entry_of(command.venue_id, venue)
        events = registry.decide(command, venue)
        decision.add(session.streams.venue, events)
        after = entry_of(command.venue_id, VENUE_KIND.fold(events, venue))
        venue_id = command.venue_id
        for slug in _slugs_given_up(command, before, after):
            hold = await session.slug(slug)
            decision.add(slug_stream(slug), registry.release(slug, venue_id, hold))
        if after is not None and (before is None or after.slug != before.slug):
            hold = await session.slug(after.slug)
            decision.add(slug_stream(after.slug), registry.claim(after.slug, venue_id, hold))
        return decision.build()

    result, session, decision = await execute(
        store, command, decide, retry=retry, idempotency=idempotency
    )
    venue = session.state_after(session.streams.venue, VENUE_KIND, decision)
    return RegistryResult(
        events=result.events,
        token=result.token,
        versions=result.versions,
        duplicate=result.duplicate,
        payload=result.payload,
        attempts=result.attempts,
        venue_id=command.venue_id,
        venue=venue,
        entry=entry_of(command.venue_id, venue),
        version=result.versions.get(session.streams.venue, 0),
    )


def _slugs_given_up(
    command: RegistryCommand, before: VenueEntry | None, after: VenueEntry | None
) -> list[str]:
    """The slug the venue held and holds no more. The default venue holds `main` before
    it is opened, so opening it under another slug gives `main` up."""
    if isinstance(command, OpenVenue):
        held = LEGACY_ENTRY.slug if command.venue_id == DEFAULT_VENUE_ID else None
    else:
        assert isinstance(command, ChangeVenueDetails)
        held = before.slug if before is not None and command.slug is not UNSET else None
    if held is None or after is None or after.slug == held:
        return []
    return [held]
