"""The venue registry: opening a venue, changing its directory details, holding slugs.

Rules enforced here:

- only an admin opens a venue; an admin or the venue's manager changes its details;
- a venue opens once, on an empty venue stream (`VenueAlreadyOpen` otherwise);
- a slug is 2 to 60 lower-case letters, digits and hyphens (`InvalidSlug`);
- a name is 1 to 200 characters, an address at most 500, the time zone a known zone;
- a slug is held by one venue at a time. Each slug has its stream,
  `registry/slug-{slug}`: a venue claims it with `SlugClaimed` in the same append as its
  `VenueOpened` (or `VenueDetailsChanged`), at the version it read, so of two venues
  claiming one slug at once only one append succeeds; the other decides again, finds
  the slug held, and is refused with `SlugTaken`. A venue that takes another slug
  releases its old one (`SlugReleased`) in the same append;
- the venue's time zone is its slot settings' one: opening with a zone, or changing it,
  writes a `SlotSettingsChanged` beside the registry's event (when it differs).

The default venue of a deployment older than the registry has events but no
`VenueOpened`: it is listed as "Main" with the slug `main` until its details change, and
holds `main` without a claim: an untouched `registry/slug-main` stream counts as held by
the default venue. The default venue gives `main` up when it opens under another slug or
takes another one, like any slug it held.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final, assert_never

from booking_core.domain.commands import UNSET, ChangeVenueDetails, OpenVenue, RegistryCommand
from booking_core.domain.errors import (
    Forbidden,
    InvalidSlug,
    InvalidVenue,
    SlugTaken,
    VenueAlreadyOpen,
    VenueNotFound,
)
from booking_core.domain.events import (
    SlotSettingsChanged,
    SlugClaimed,
    SlugEvent,
    SlugReleased,
    VenueDetailsChanged,
    VenueEvent,
    VenueOpened,
)
from booking_core.domain.streams import DEFAULT_VENUE_ID
from booking_core.domain.time_rules import is_time_zone
from booking_core.domain.values import SlotSettings
from booking_core.domain.venue import VenueEntry, VenueState

__all__ = [
    "LEGACY_ENTRY",
    "SlugHold",
    "check_slug",
    "claim",
    "decide",
    "entry_of",
    "evolve_slug",
    "holder",
    "initial_hold",
    "release",
]

_SLUG: Final = re.compile(r"[a-z0-9-]{2,60}")
_MAX_NAME = 200
_MAX_ADDRESS = 500

LEGACY_ENTRY: Final = VenueEntry(name="Main", slug="main")
"""The directory entry of a default venue that has events but was never opened."""


def check_slug(slug: str) -> str:
    if not _SLUG.fullmatch(slug):
        raise InvalidSlug(slug)
    return slug


def entry_of(venue_id: str, state: VenueState) -> VenueEntry | None:
    """The venue's directory entry; None for a venue that does not exist."""
    if state.entry is not None:
        return state.entry
    if venue_id == DEFAULT_VENUE_ID and state.version > 0:
        return LEGACY_ENTRY
    return None


# --- the venue stream ------------------------------------------------------------------


def decide(command: RegistryCommand, state: VenueState) -> list[VenueEvent]:
    """The venue stream's events for opening the venue or changing its details. The slug
    claims that go with them are `claim` and `release`."""
    match command:
        case OpenVenue():
            if command.actor.role != "admin":
                raise Forbidden("open a venue")
            if state.version > 0:
                raise VenueAlreadyOpen(command.venue_id)
            name, address = _checked_name(command.name), _checked_address(command.address)
            opened = VenueOpened(
                name=name,
                slug=check_slug(command.slug),
                time_zone=_checked_zone(command.time_zone),
                address=address,
                opened_at=command.now,
            )
            return [opened, *_zone_change(state.settings, command.time_zone)]
        case ChangeVenueDetails():
            if not command.actor.runs_venue:
                raise Forbidden("change the venue's details")
            current = entry_of(command.venue_id, state)
            if current is None:
                raise VenueNotFound(command.venue_id)
            changed = VenueEntry(
                name=current.name if command.name is UNSET else _checked_name(command.name),
                slug=current.slug if command.slug is UNSET else check_slug(command.slug),
                address=(
                    current.address
                    if command.address is UNSET
                    else _checked_address(command.address)
                ),
            )
            events: list[VenueEvent] = []
            if changed != current:
                events.append(
                    VenueDetailsChanged(
                        name=changed.name,
                        slug=changed.slug,
                        address=changed.address,
                        changed_at=command.now,
                    )
                )
            if command.time_zone is not UNSET:
                events += _zone_change(state.settings, _checked_zone(command.time_zone))
            return events
        case _:
            assert_never(command)


def _checked_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= _MAX_NAME:
        raise InvalidVenue("name", f"must be 1 to {_MAX_NAME} characters")
    return name


def _checked_address(address: str | None) -> str | None:
    if address is None:
        return None
    address = address.strip()
    if len(address) > _MAX_ADDRESS:
        raise InvalidVenue("address", f"must be at most {_MAX_ADDRESS} characters")
    return address or None


def _checked_zone(time_zone: str) -> str:
    if not is_time_zone(time_zone):
        raise InvalidVenue("time_zone", f"{time_zone[:80]!r} is not a known time zone")
    return time_zone


def _zone_change(settings: SlotSettings, time_zone: str) -> list[VenueEvent]:
    if settings.time_zone == time_zone:
        return []
    return [
        SlotSettingsChanged(
            interval_minutes=settings.interval_minutes,
            turn_times=settings.turn_times,
            buffer_minutes=settings.buffer_minutes,
            min_lead_minutes=settings.min_lead_minutes,
            max_days_ahead=settings.max_days_ahead,
            time_zone=time_zone,
        )
    ]


# --- slug streams ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlugHold:
    """Who holds a slug, as its stream says: None when nobody does."""

    venue_id: str | None = None
    version: int = 0


initial_hold: Final = SlugHold()


def evolve_slug(state: SlugHold, event: SlugEvent) -> SlugHold:
    match event:
        case SlugClaimed(venue_id=venue_id):
            return SlugHold(venue_id, state.version + 1)
        case SlugReleased():
            return replace(state, venue_id=None, version=state.version + 1)
        case _:
            assert_never(event)


def holder(slug: str, state: SlugHold) -> str | None:
    """The venue that holds `slug`: an untouched `main` is the default venue's."""
    if state.version == 0 and slug == LEGACY_ENTRY.slug:
        return DEFAULT_VENUE_ID
    return state.venue_id


def claim(slug: str, venue_id: str, state: SlugHold) -> list[SlugEvent]:
    """`venue_id` takes `slug`; `SlugTaken` if another venue holds it."""
    held_by = holder(slug, state)
    if held_by == venue_id and state.version > 0:
        return []
    if held_by is not None and held_by != venue_id:
        raise SlugTaken(slug)
    return [SlugClaimed(slug=slug, venue_id=venue_id)]


def release(slug: str, venue_id: str, state: SlugHold) -> list[SlugEvent]:
    """`venue_id` gives `slug` up, if it holds it."""
    if holder(slug, state) != venue_id:
        return []
    return [SlugReleased(slug=slug, venue_id=venue_id)]
