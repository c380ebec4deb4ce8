"""The venue directory: each venue opened is listed once, under the slug it holds now;
of two venues opened at once under one slug only one gets it; the default venue of
before the registry is listed as Main; a rebuild lists the same rows."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

import projectors.registry as registry
from booking_core.domain.commands import (
    Actor,
    ChangeSlotSettings,
    ChangeVenueDetails,
    OpenVenue,
    SetOpeningHours,
)
from booking_core.domain.errors import SlugTaken
from booking_core.domain.values import TurnTime
from booking_core.handlers import change_registry, change_venue
from booking_core.store.postgres import PostgresEventStore
from projectors.rebuild import rebuild
from projectors.runner import SqlProjectionRunner
from projectors.venues import VenuesProjection
from read_models.venues import list_venues, resolve
from tests.support.models import clear_read_models, dump_sql
from tests.unit.domain.world import HOURS

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ADMIN = Actor(user_id="u-maitre-d", role="admin")


@pytest.fixture
async def store(
    clean_store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> PostgresEventStore:
    await clear_read_models(pool, redis, redis_prefix)
    return clean_store


def opening(venue_id: str, slug: str, name: str, time_zone: str = "Europe/Lisbon") -> OpenVenue:
    return OpenVenue(
        command_id=uuid.uuid4().hex,
        actor=ADMIN,
        now=NOW,
        venue_id=venue_id,
        name=name,
        slug=slug,
        time_zone=time_zone,
    )


async def project(store: PostgresEventStore, pool: AsyncConnectionPool[Any]) -> None:
    await SqlProjectionRunner(VenuesProjection(), store, registry.codec, pool).catch_up()


async def test_venues_are_listed_and_found_by_id_or_slug(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    await change_registry(store, opening("default", "harbour-kitchen", "The Harbour Kitchen"))
    await change_registry(store, opening("ven_tapas", "tapas-corner", "Tapas Corner", "UTC"))
    await project(store, pool)

    listed = [(v.id, v.slug, v.name, v.time_zone) for v in await list_venues(pool)]
    assert listed == [
        ("ven_tapas", "tapas-corner", "Tapas Corner", "UTC"),
        ("default", "harbour-kitchen", "The Harbour Kitchen", "Europe/Lisbon"),
    ]
    by_slug = await resolve(pool, "tapas-corner")
    assert by_slug is not None
    assert by_slug.id == "ven_tapas"
    assert await resolve(pool, "ven_tapas") == by_slug
    assert await resolve(pool, "no-such-place") is None


async def test_a_new_slug_name_and_time_zone_reach_the_directory(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    await change_registry(store, opening("ven_tapas", "tapas-corner", "Tapas Corner"))
    await change_registry(
        store,
        ChangeVenueDetails(
            command_id=uuid.uuid4().hex,
            actor=ADMIN,
            now=NOW,
            venue_id="ven_tapas",
            slug="tapas",
            address="3 Rua Augusta",
        ),
    )
    await change_venue(
        store,
        ChangeSlotSettings(
            command_id=uuid.uuid4().hex,
            actor=ADMIN,
            now=NOW,
            venue_id="ven_tapas",
            interval_minutes=30,
            turn_times=(TurnTime(max_party_size=8, minutes=90),),
            buffer_minutes=0,
            min_lead_minutes=0,
            max_days_ahead=60,
            time_zone="Atlantic/Madeira",
        ),
    )
    await change_registry(store, opening("ven_rival", "tapas-corner", "The Other Tapas"))
    await project(store, pool)

    tapas = await resolve(pool, "tapas")
    assert tapas is not None
    assert (tapas.id, tapas.address, tapas.time_zone) == (
        "ven_tapas",
        "3 Rua Augusta",
        "Atlantic/Madeira",
    )
    rival = await resolve(pool, "tapas-corner")
    assert rival is not None
    assert rival.id == "ven_rival"


async def test_two_venues_opened_at_once_under_one_slug_cannot_both_have_it(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    outcomes = await asyncio.gather(
        *(
            change_registry(store, opening(f"ven_{n}", "harbour-kitchen", f"Harbour {n}"))
            for n in range(6)
        ),
        return_exceptions=True,
    )

    assert sum(not isinstance(outcome, BaseException) for outcome in outcomes) == 1
    assert all(
        isinstance(outcome, SlugTaken) for outcome in outcomes if isinstance(outcome, BaseException)
    )
    await project(store, pool)
    assert [venue.slug for venue in await list_venues(pool)] == ["harbour-kitchen"]


async def test_the_default_venue_of_before_the_registry_is_listed_as_main(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any]
) -> None:
    await change_venue(
        store,
        SetOpeningHours(command_id=uuid.uuid4().hex, actor=ADMIN, now=NOW, hours=HOURS),
    )
    await project(store, pool)

    main = await resolve(pool, "main")
    assert main is not None
    assert (main.id, main.name, main.time_zone) == ("default", "Main", "UTC")

    await change_registry(
        store,
        ChangeVenueDetails(
            command_id=uuid.uuid4().hex, actor=ADMIN, now=NOW, name="Chez Ada", slug="chez-ada"
        ),
    )
    await change_registry(store, opening("ven_new", "main", "The New Main"))
    await project(store, pool)
    assert [(v.id, v.slug, v.name) for v in await list_venues(pool)] == [
        ("default", "chez-ada", "Chez Ada"),
        ("ven_new", "main", "The New Main"),
    ]


async def test_a_rebuild_lists_the_same_venues(
    store: PostgresEventStore, pool: AsyncConnectionPool[Any], redis: Redis, redis_prefix: str
) -> None:
    await change_venue(
        store,
        SetOpeningHours(command_id=uuid.uuid4().hex, actor=ADMIN, now=NOW, hours=HOURS),
    )
    await change_registry(store, opening("ven_tapas", "tapas-corner", "Tapas Corner"))
    await change_registry(
        store,
        ChangeVenueDetails(
            command_id=uuid.uuid4().hex, actor=ADMIN, now=NOW, venue_id="ven_tapas", slug="tapas"
        ),
    )
    await change_registry(store, opening("ven_rival", "tapas-corner", "The Other Tapas"))
    await project(store, pool)
    live = (await dump_sql(pool))["rm_venues"]
    assert len(live) == 3

    await rebuild(
        store=store,
        codec=registry.codec,
        pool=pool,
        redis=redis,
        redis_prefix=redis_prefix,
        sql_projections=[p for p in registry.SQL_PROJECTIONS if p.name == "venues"],
        batch_size=2,
    )
    assert (await dump_sql(pool))["rm_venues"] == live
