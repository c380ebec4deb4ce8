"""The venue registry: opening a venue, changing its details, holding slugs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from booking_core.domain import registry, venue
from booking_core.domain.commands import Actor, ChangeVenueDetails, OpenVenue
from booking_core.domain.errors import (
    Forbidden,
    InvalidId,
    InvalidSlug,
    InvalidVenue,
    SlugTaken,
    VenueAlreadyOpen,
    VenueNotFound,
)
from booking_core.domain.events import (
    SlotSettingsChanged,
    SlugClaimed,
    SlugReleased,
    TableRegistered,
    VenueDetailsChanged,
    VenueEvent,
    VenueOpened,
)
from booking_core.domain.folding import SLUG, kind_of
from booking_core.domain.streams import REGISTRY_VENUE, slug_stream, streams_of, venue_of
from tests.unit.domain.world import ADA, ADMIN

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
HARBOUR = "ven_harbour"
MANAGER = Actor(user_id="u-grace", role="manager")
HOST = Actor(user_id="u-alan", role="host")


def _fold(events: tuple[VenueEvent, ...]) -> venue.VenueState:
    state = venue.initial_state
    for event in events:
        state = venue.evolve(state, event)
    return state


def open_harbour(**overrides: Any) -> OpenVenue:
    fields: dict[str, Any] = {
        "name": "The Harbour Kitchen",
        "slug": "harbour-kitchen",
        "time_zone": "Europe/Lisbon",
        "address": "1 Quay Street",
    }
    fields.update(overrides)
    actor = fields.pop("actor", ADMIN)
    return OpenVenue(command_id="c-open", actor=actor, now=NOW, venue_id=HARBOUR, **fields)


def change(actor: Actor = ADMIN, venue_id: str = HARBOUR, **fields: Any) -> ChangeVenueDetails:
    return ChangeVenueDetails(
        command_id="c-change", actor=actor, now=NOW, venue_id=venue_id, **fields
    )


OPENED = VenueOpened(
    name="The Harbour Kitchen",
    slug="harbour-kitchen",
    time_zone="Europe/Lisbon",
    address="1 Quay Street",
    opened_at=NOW,
)


def test_opening_a_venue_lists_it_and_sets_its_time_zone_as_the_slot_settings_one() -> None:
    events = registry.decide(open_harbour(), venue.initial_state)

    assert events[0] == OPENED
    assert isinstance(events[1], SlotSettingsChanged)
    assert events[1].time_zone == "Europe/Lisbon"
    state = _fold(tuple(events))
    assert state.settings.time_zone == "Europe/Lisbon"
    assert state.entry == venue.VenueEntry(
        "The Harbour Kitchen", "harbour-kitchen", "1 Quay Street"
    )


def test_opening_in_the_zone_the_settings_already_have_writes_no_settings_event() -> None:
    events = registry.decide(open_harbour(time_zone="UTC"), venue.initial_state)

    assert [type(event) for event in events] == [VenueOpened]


def test_only_an_admin_opens_a_venue() -> None:
    for actor in (MANAGER, HOST, ADA):
        with pytest.raises(Forbidden):
            registry.decide(open_harbour(actor=actor), venue.initial_state)


def test_a_venue_opens_once() -> None:
    with pytest.raises(VenueAlreadyOpen):
        registry.decide(open_harbour(), _fold((OPENED,)))


@pytest.mark.parametrize(
    "slug", ["H", "Harbour", "harbour kitchen", "harbour_kitchen", "x" * 61, "café"]
)
def test_a_slug_is_two_to_sixty_lower_case_letters_digits_or_hyphens(slug: str) -> None:
    with pytest.raises(InvalidSlug):
        registry.decide(open_harbour(slug=slug), venue.initial_state)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"name": "   "}, "name"),
        ({"address": "x" * 501}, "address"),
    ],
)
def test_a_venue_needs_a_name_a_known_time_zone_and_a_sane_address(
    fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidVenue) as refused:
        registry.decide(open_harbour(**fields), venue.initial_state)
    assert refused.value.field == field


def test_a_manager_renames_their_venue_and_the_entry_carries_every_field() -> None:
    events = registry.decide(change(MANAGER, name="Harbour Kitchen & Bar"), _fold((OPENED,)))

    assert events == [
        VenueDetailsChanged(
            name="Harbour Kitchen & Bar",
            slug="harbour-kitchen",
            address="1 Quay Street",
            changed_at=NOW,
        )
    ]


def test_a_host_cannot_change_the_venue() -> None:
    with pytest.raises(Forbidden):
        registry.decide(change(HOST, name="Hosts' Corner"), _fold((OPENED,)))


def test_changing_nothing_writes_nothing() -> None:
    assert registry.decide(change(name="The Harbour Kitchen"), _fold((OPENED,))) == []


def test_clearing_the_address() -> None:
    events = registry.decide(change(address=None), _fold((OPENED,)))

    assert isinstance(events[0], VenueDetailsChanged)
    assert events[0].address is None


def test_a_new_time_zone_is_a_slot_settings_change_and_nothing_else() -> None:
    state = _fold(tuple(registry.decide(open_harbour(), venue.initial_state)))

    events = registry.decide(change(time_zone="Atlantic/Azores"), state)

    assert len(events) == 1
    assert isinstance(events[0], SlotSettingsChanged)
    assert events[0].time_zone == "Atlantic/Azores"
    assert events[0].interval_minutes == state.settings.interval_minutes


def test_a_venue_never_opened_cannot_change() -> None:
    with pytest.raises(VenueNotFound):
        registry.decide(change(name="Ghost Kitchen"), venue.initial_state)


def test_the_default_venue_of_before_the_registry_is_main_until_it_changes() -> None:
    legacy = _fold((TableRegistered(table_id="t-window", name="WINDOW-4"),))

    assert registry.entry_of("default", legacy) == registry.LEGACY_ENTRY
    assert registry.entry_of(HARBOUR, legacy) is None
    events = registry.decide(change(venue_id="default", name="Chez Ada"), legacy)
    assert events == [VenueDetailsChanged(name="Chez Ada", slug="main", changed_at=NOW)]


def test_a_free_slug_is_claimed_and_a_held_one_refused() -> None:
    claimed = registry.claim("harbour-kitchen", HARBOUR, registry.initial_hold)
    assert claimed == [SlugClaimed(slug="harbour-kitchen", venue_id=HARBOUR)]

    held = SLUG.fold(claimed)
    assert registry.claim("harbour-kitchen", HARBOUR, held) == []
    with pytest.raises(SlugTaken):
        registry.claim("harbour-kitchen", "ven_rival", held)


def test_a_released_slug_can_be_claimed_by_another_venue() -> None:
    released = SLUG.fold(
        [
            SlugClaimed(slug="harbour-kitchen", venue_id=HARBOUR),
            SlugReleased(slug="harbour-kitchen", venue_id=HARBOUR),
        ]
    )

    assert registry.claim("harbour-kitchen", "ven_rival", released) == [
        SlugClaimed(slug="harbour-kitchen", venue_id="ven_rival")
    ]
    assert registry.release("harbour-kitchen", "ven_rival", released) == []


def test_an_untouched_main_is_the_default_venues() -> None:
    with pytest.raises(SlugTaken):
        registry.claim("main", HARBOUR, registry.initial_hold)
    assert registry.release("main", "default", registry.initial_hold) == [
        SlugReleased(slug="main", venue_id="default")
    ]


def test_slug_streams_belong_to_the_registry_which_is_no_venue() -> None:
    assert slug_stream("harbour-kitchen") == "registry/slug-harbour-kitchen"
    assert venue_of(slug_stream("harbour-kitchen")) == REGISTRY_VENUE
    assert kind_of(slug_stream("harbour-kitchen")) is SLUG
    with pytest.raises(InvalidId):
        streams_of(REGISTRY_VENUE)
