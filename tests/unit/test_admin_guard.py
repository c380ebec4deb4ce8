"""Staff routes are staff-only because their controller says so, not because of the path
they are mounted under: every controller of an `admin:` tag carries the `admin_only`
guard, and no other controller does."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Controller

from api.app import ROUTES
from api.guards import admin_only

CONTROLLERS = [route for route in ROUTES if isinstance(route, type)]


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
    assert (admin_only in _declared(controller, "guards")) == _is_staff(controller)


def test_the_rule_sees_every_staff_controller() -> None:
    assert sum(map(_is_staff, CONTROLLERS)) == 9
