"""`tablebook venues list` and `tablebook venues create`.

Creating a venue is the `OpenVenue` command an admin's `POST /api/v1/admin/venues` sends,
decided by the same handler: the same slug rule, the same claim of the slug, and the
first venue of an empty deployment becomes the default one. Listing reads the directory,
which the projector daemon keeps; a venue created while the daemon is stopped is listed
once it runs.
"""

from __future__ import annotations

import datetime as dt
import uuid

from booking_core.domain.commands import Actor, OpenVenue
from booking_core.domain.errors import DomainError
from booking_core.handlers import RegistryResult, change_registry, id_for_new_venue
from booking_core.store.postgres import PostgresEventStore
from read_models.venues import VenueRecord, list_venues
from tablebook.database import open_pool

__all__ = ["create_venue_in", "list_venues_in", "venue_line"]

_OPERATOR = Actor(user_id="cli", role="admin")


async def create_venue_in(
    database_url: str, *, name: str, slug: str, time_zone: str, address: str | None
) -> RegistryResult:
    """Open a venue; a refusal (slug taken, not a slug, unknown zone) is a `ValueError`
    saying why in one line."""
    pool = await open_pool(database_url, min_size=1, max_size=2)
    try:
        store = PostgresEventStore(pool, database_url)
        fresh_id = f"ven_{uuid.uuid4().hex}"
        command = OpenVenue(
            command_id=uuid.uuid4().hex,
            actor=_OPERATOR,
            now=dt.datetime.now(dt.UTC),
            venue_id=await id_for_new_venue(store, fresh_id),
            name=name,
            slug=slug,
            time_zone=time_zone,
            address=address,
        )
        try:
            return await change_registry(store, command)
        except DomainError as error:
            raise ValueError(error.detail) from None
    finally:
        await pool.close()


async def list_venues_in(database_url: str) -> list[VenueRecord]:
    pool = await open_pool(database_url, min_size=1, max_size=1)
    try:
        return await list_venues(pool)
    finally:
        await pool.close()


def venue_line(venue_id: str, slug: str, name: str, time_zone: str, address: str | None) -> str:
    return "\t".join([venue_id, slug, name, time_zone, address or ""])
