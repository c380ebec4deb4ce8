"""Registry handlers: a venue and its slug claim are one append, so one slug goes to one
venue however the opens interleave; a new slug is claimed and the old one released."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.venues.admin import open_venue as api_open_venue
from booking_core.domain.commands import ChangeVenueDetails, OpenVenue, SetOpeningHours
from booking_core.domain.errors import SlugTaken
from booking_core.domain.events import SlugClaimed, SlugReleased
from booking_core.domain.streams import slug_stream, streams_of
from booking_core.handlers import change_registry, change_venue, id_for_new_venue
from booking_core.store import InMemoryEventStore
from tests.unit.domain.world import ADMIN, HOURS, command_id
from tests.unit.handlers.fakes import Racing

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)


def open_venue(venue_id: str, slug: str, name: str = "The Harbour Kitchen") -> OpenVenue:
    return OpenVenue(
        command_id=command_id(),
        actor=ADMIN,
        now=NOW,
        venue_id=venue_id,
        name=name,
        slug=slug,
        time_zone="Europe/Lisbon",
    )


async def claims_of(store: InMemoryEventStore, slug: str) -> list[str]:
    found = await store.read_streams([slug_stream(slug)])
    return [record.type for record in found[slug_stream(slug)]]


async def test_the_first_venue_of_an_empty_deployment_is_the_default_one() -> None:
    store = InMemoryEventStore()

    assert await id_for_new_venue(store, "ven_1") == "default"
    await change_registry(store, open_venue("default", "harbour-kitchen"))
    assert await id_for_new_venue(store, "ven_2") == "ven_2"


async def test_a_deployment_with_a_default_venue_of_before_opens_new_venues_beside_it() -> None:
    store = InMemoryEventStore()
    await change_venue(
        store, SetOpeningHours(command_id=command_id(), actor=ADMIN, now=NOW, hours=HOURS)
    )

    assert await id_for_new_venue(store, "ven_1") == "ven_1"
    with pytest.raises(SlugTaken):
        await change_registry(store, open_venue("ven_1", "main"))


async def test_opening_writes_the_venue_and_its_slug_claim_in_one_append() -> None:
    store = InMemoryEventStore()

    result = await change_registry(store, open_venue("ven_harbour", "harbour-kitchen"))

    assert set(result.events) == {
        streams_of("ven_harbour").venue,
        slug_stream("harbour-kitchen"),
    }
    assert result.events[slug_stream("harbour-kitchen")] == (
        SlugClaimed(slug="harbour-kitchen", venue_id="ven_harbour"),
    )
    assert result.entry is not None
    assert result.entry.slug == "harbour-kitchen"
    assert result.venue.settings.time_zone == "Europe/Lisbon"


async def test_two_venues_racing_for_one_slug_cannot_both_win() -> None:
    inner = InMemoryEventStore()

    async def rival_opens_first(store: InMemoryEventStore) -> object:
        return await change_registry(store, open_venue("ven_rival", "harbour-kitchen", "Rival"))

    with pytest.raises(SlugTaken):
        await change_registry(
            Racing(inner, rival_opens_first), open_venue("ven_harbour", "harbour-kitchen")
        )
    assert await claims_of(inner, "harbour-kitchen") == ["SlugClaimed"]
    assert not (await inner.read_streams([streams_of("ven_harbour").venue]))[
        streams_of("ven_harbour").venue
    ]


async def test_a_new_slug_is_claimed_and_the_old_one_released_for_others() -> None:
    store = InMemoryEventStore()
    await change_registry(store, open_venue("ven_harbour", "harbour-kitchen"))

    result = await change_registry(
        store,
        ChangeVenueDetails(
            command_id=command_id(), actor=ADMIN, now=NOW, venue_id="ven_harbour", slug="harbour"
        ),
    )

    assert result.events[slug_stream("harbour-kitchen")] == (
        SlugReleased(slug="harbour-kitchen", venue_id="ven_harbour"),
    )
    assert result.events[slug_stream("harbour")] == (
        SlugClaimed(slug="harbour", venue_id="ven_harbour"),
    )
    await change_registry(store, open_venue("ven_rival", "harbour-kitchen", "Rival"))
    assert await claims_of(store, "harbour-kitchen") == [
        "SlugClaimed",
        "SlugReleased",
        "SlugClaimed",
    ]


async def test_the_default_venue_gives_main_up_when_it_opens_under_another_slug() -> None:
    store = InMemoryEventStore()
    await change_registry(store, open_venue("default", "harbour-kitchen"))

    await change_registry(store, open_venue("ven_other", "main", "The Other Place"))

    assert await claims_of(store, "main") == ["SlugReleased", "SlugClaimed"]


async def test_a_repeated_request_that_opened_the_default_venue_answers_with_it() -> None:
    store = InMemoryEventStore()
    command = open_venue("ven_fresh", "harbour-kitchen")

    first = await api_open_venue(store, command, None, "ven_fresh")
    again = await api_open_venue(store, command, None, "ven_fresh")

    assert first.venue_id == "default"
    assert again.duplicate
    assert again.venue_id == "default"
    assert again.entry == first.entry
    assert not (await store.read_streams([streams_of("ven_fresh").venue]))[
        streams_of("ven_fresh").venue
    ]
