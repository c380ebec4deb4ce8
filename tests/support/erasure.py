"""Persons in tests: keys for the story's named guests, and erasing a guest as the API
does (`booking_core.handlers.persons.erase_persons`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from booking_core.handlers.persons import Erased, PersonStore, erase_persons
from booking_core.store.sealing import new_key

__all__ = ["erase_identity", "erase_person", "give_keys"]


async def give_keys(pool: AsyncConnectionPool[Any], venue_id: str, persons: Sequence[str]) -> None:
    """A key for each of `persons` that has none: the story names its guests' persons
    itself, and the store seals a named person without a key as erased."""
    async with pool.connection() as connection:
        for person in persons:
            await connection.execute(
                "INSERT INTO person_keys (person, venue_id, key) VALUES (%s, %s, %s)"
                " ON CONFLICT (person) DO NOTHING",
                (person, venue_id, new_key()),
            )


async def erase_person(
    store: PersonStore, venue_id: str, person: str, at: datetime, erased_by: str = "u-admin"
) -> Erased:
    return await erase_persons(store, {venue_id: [person]}, erased_by=erased_by, at=at)


async def erase_identity(
    store: PersonStore, venue_id: str, identity: str, at: datetime, erased_by: str = "u-admin"
) -> Erased:
    """Erase the venue's person of `identity` (`email:{address}`, `user:{id}`, …); nothing
    when the venue knows no such person (any more)."""
    persons = [person for venue, person in await store.persons_of([identity]) if venue == venue_id]
    return await erase_persons(store, {venue_id: persons}, erased_by=erased_by, at=at)
