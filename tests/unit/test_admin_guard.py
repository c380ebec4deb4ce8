"""Staff routes are staff-only because their controller says so, not because of the path
they are mounted under: every controller of an `admin:` tag carries one staff guard
(`admin_only`, or `venue_managers_only` where the path names a venue), and no other
controller carries either."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Controller

from api.app import ROUTES
from api.guards import admin_only
from api.venues.access import venue_managers_only

CONTROLLERS = [route for route in ROUTES if isinstance(route, type)]
STAFF_GUARDS = (admin_only, venue_managers_only)


def _declared(controller: type[Controller], name: str) -> list[Any]:
    """A controller's class-level setting (an unset one reads as a slot descriptor)."""
    value = getattr(controller, name, None)
    return list(value) if isinstance(value, list | tuple) else []


def _is_staff(controller: type[Controller]) -> bool:
    return any(str(tag).startswith("admin:") for tag in _declared(controller, "tags"))


@pytest.mark.parametrize("controller", CONTROLLERS, ids=lambda c: c.__name__)
def test_a_controller_is_guarded_for_admins_exactly_when_it_serves_staff(
    controller: type[Controller],
) -> None:
    guards = [g for g in _declared(controller, "guards") if g in STAFF_GUARDS]
    assert len(guards) == (1 if _is_staff(controller) else 0)


def test_the_rule_sees_every_staff_controller() -> None:
    assert sum(map(_is_staff, CONTROLLERS)) == 12
    guarded = [c for c in CONTROLLERS if venue_managers_only in _declared(c, "guards")]
    assert [c.__name__ for c in guarded] == ["VenueDetailsController", "VenueStaffController"]
