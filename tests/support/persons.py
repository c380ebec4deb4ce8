"""Persons made for read-side tests: a test that writes events naming a person of its own
choosing gives that person a key first, as the store does for a person it resolves (a
named person without a key reads as erased)."""

from __future__ import annotations

from booking_core.store import EventStore
from booking_core.store.memory import InMemoryEventStore
from booking_core.store.postgres import PostgresEventStore
from booking_core.store.sealing import new_key

__all__ = ["enrol"]

_ENROL = """
INSERT INTO person_keys (person, venue_id, key) VALUES (%s, %s, %s)
ON CONFLICT (person) DO NOTHING
"""


async def enrol(store: EventStore, venue_id: str, person: str) -> None:
    """Give `person` of `venue_id` a key (nothing if it has one)."""
    if isinstance(store, InMemoryEventStore):
        store._persons.setdefault(person, venue_id)
        return
    assert isinstance(store, PostgresEventStore)
    async with store._pool.connection() as connection:
        await connection.execute(_ENROL, (person, venue_id, new_key()))
