"""Who may do what: a venue's managers (and admins) run the venue, its floor staff (hosts
too) run its bookings; guests manage their own bookings."""

from __future__ import annotations

from booking_core.domain.commands import Actor
from booking_core.domain.errors import Forbidden


def require_manager(actor: Actor, action: str) -> None:
    if not actor.runs_venue:
        raise Forbidden(action)


def require_staff(actor: Actor, action: str) -> None:
    if not actor.is_staff:
        raise Forbidden(action)
