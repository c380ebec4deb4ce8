"""Venue commands: opening hours, slot settings, closures, layouts."""

from __future__ import annotations

from dataclasses import dataclass

from booking_core.domain import venue as venue_decider
from booking_core.domain.commands import VenueCommand
from booking_core.domain.decision import Decision, DecisionBuilder
from booking_core.domain.folding import VENUE_KIND
from booking_core.domain.streams import DEFAULT_VENUE_ID, streams_of
from booking_core.domain.venue import VenueState
from booking_core.handlers._session import (
    DEFAULT_RETRY,
    CommandResult,
    RetryPolicy,
    Session,
    execute,
)
from booking_core.store import EventStore, IdempotencyKey

__all__ = ["VenueResult", "change_venue", "load_venue"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueResult(CommandResult):
    venue: VenueState
    """The venue after the command."""
    version: int
    """The venue stream's version after the command."""


async def change_venue(
    store: EventStore,
    command: VenueCommand,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> VenueResult:
    """Any venue command: hours, slot settings, closures, layouts."""

    async def decide(session: Session) -> Decision:
        decision = DecisionBuilder()
        decision.add(session.streams.venue, venue_decider.decide(command, await session.venue()))
        return decision.build()

    result, session, decision = await execute(
        store, command, decide, retry=retry, idempotency=idempotency
    )
    return VenueResult(
        events=result.events,
        token=result.token,
        versions=result.versions,
        duplicate=result.duplicate,
        payload=result.payload,
        attempts=result.attempts,
        venue=session.state_after(session.streams.venue, VENUE_KIND, decision),
        version=result.versions.get(session.streams.venue, 0),
    )


async def load_venue(store: EventStore, venue_id: str = DEFAULT_VENUE_ID) -> tuple[VenueState, int]:
    """The venue as the write side sees it now, and its version: for admin screens and
    the seeding of demo data, not for the read path (that is the read models's job)."""
    session = Session(store, streams=streams_of(venue_id))
    venue = await session.venue()
    return venue, session.version(session.streams.venue)
