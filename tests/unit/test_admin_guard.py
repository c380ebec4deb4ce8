"""Staff routes are staff-only because their controller says so, not because of the path
they are mounted under: every controller of an `admin:` tag carries exactly one of the
staff guards — `admin_only` for the deployment's accounts and venues,
`venue_managers_only` for a venue's details and staff, `venue_managers`, `floor_plan`,
`guest_book` or `venue_staff` for a venue's routes — and no other controller carries any."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Controller

from api.app import ROUTES, VENUE_ROUTES
from api.guards import admin_only
from api.venue_scope import floor_plan, guest_book, venue_managers, venue_staff
from api.venues.access import venue_managers_only

CONTROLLERS = [route for route in (*ROUTES, *VENUE_ROUTES) if isinstance(route, type)]
STAFF_GUARDS = (
    admin_only,
    venue_managers_only,
    venue_managers,
    floor_plan,
    guest_book,
    venue_staff,
)


def _declared(controller: type[Controller], name: str) -> list[Any]:
    """A controller's class-level setting (an unset one reads as a slot descriptor)."""
    value = getattr(controller, name, None)
    return list(value) if isinstance(value, list | tuple) else []


def _is_staff(controller: type[Controller]) -> bool:
    return any(str(tag).startswith("admin:") for tag in _declared(controller, "tags"))


@pytest.mark.parametrize("controller", CONTROLLERS, ids=lambda c: c.__name__)
def test_a_controller_is_guarded_for_staff_exactly_when_it_serves_staff(
    controller: type[Controller],
) -> None:
    guards = [g for g in _declared(controller, "guards") if g in STAFF_GUARDS]
    assert len(guards) == (1 if _is_staff(controller) else 0)


@pytest.mark.parametrize("controller", CONTROLLERS, ids=lambda c: c.__name__)
def test_a_venue_route_is_guarded_by_the_venue_and_an_account_route_by_admin(
    controller: type[Controller],
) -> None:
    guards = set(_declared(controller, "guards"))
    if controller in VENUE_ROUTES and _is_staff(controller):
        assert guards & {venue_managers, floor_plan, guest_book, venue_staff}
    if controller not in VENUE_ROUTES and _is_staff(controller):
        assert guards & {admin_only, venue_managers_only}


def test_the_rule_sees_every_staff_controller() -> None:
    assert sum(map(_is_staff, CONTROLLERS)) == 17
    guarded = [c for c in CONTROLLERS if venue_managers_only in _declared(c, "guards")]
    assert [c.__name__ for c in guarded] == ["VenueDetailsController", "VenueStaffController"]


def test_hosts_reach_the_floor_and_not_the_running_of_the_venue() -> None:
    hosts = {c.__name__ for c in CONTROLLERS if venue_staff in _declared(c, "guards")}
    readers = {c.__name__ for c in CONTROLLERS if floor_plan in _declared(c, "guards")}
    assert hosts == {"AdminBookingsController", "AdminWaitlistController"}
    # Hosts read the floor plan, the day's blocks, and the hours, slots and closures their
    # timeline is drawn on; only managers change them.
    assert readers == {
        "AdminTablesController",
        "AdminBlocksController",
        "VenueBlocksController",
        "AdminLayoutsController",
        "AdminCombinationsController",
        "AdminVenueController",
    }
    # Hosts read the guests' profiles (allergies, VIPs); managers tag, note and merge them.
    guests = {c.__name__ for c in CONTROLLERS if guest_book in _declared(c, "guards")}
    assert guests == {"AdminGuestsController"}
