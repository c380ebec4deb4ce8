"""Who may do what: admins run the venue and the floor; guests manage their own bookings."""

from __future__ import annotations

from booking_core.domain.commands import Actor
from booking_core.domain.errors import Forbidden


def require_admin(actor: Actor, action: str) -> None:
    if not actor.is_admin:
        raise Forbidden(action)
