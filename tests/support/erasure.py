"""Erasing a guest in tests as the erase routes do
(`booking_core.handlers.persons.erase_persons`), found by their identity."""

from __future__ import annotations

from datetime import datetime

from booking_core.handlers.persons import Erased, PersonStore, erase_persons

__all__ = ["erase_identity"]


async def erase_identity(
    store: PersonStore, venue_id: str, identity: str, at: datetime, erased_by: str = "u-admin"
) -> Erased:
    """Erase the venue's person of `identity` (`email:{address}`, `user:{id}`, …); nothing
    when the venue knows no such person (any more)."""
    persons = [person for venue, person in await store.persons_of([identity]) if venue == venue_id]
    return await erase_persons(store, {venue_id: persons}, erased_by=erased_by, at=at)
