"""Every projection the daemon runs, and the codec it decodes events with.

Read models (`SQL_PROJECTIONS`, `REDIS_PROJECTIONS`) can be rebuilt from the first event;
process managers (`process_managers()`) record what they did to the outside world, so
they run beside them but are never rebuilt.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from booking_core.codec import codec
from projectors.availability import AvailabilityProjection
from projectors.base import RedisProjection, SqlProjection
from projectors.bookings import BookingsProjection
from projectors.combinations import CombinationsProjection
from projectors.guests import GuestsProjection
from projectors.live_status import LiveStatusProjection
from projectors.notifications import DEFAULT_REMINDER_LEAD, NotificationsProjection
from projectors.stats import StatsProjection
from projectors.venue import VenueProjection
from projectors.venues import VenuesProjection
from projectors.waitlist import WaitlistProjection
from read_models.projection_lag import Followed

__all__ = [
    "PROCESS_MANAGER_NAMES",
    "REDIS_PROJECTIONS",
    "SQL_PROJECTIONS",
    "codec",
    "followed",
    "names",
    "process_managers",
]

SQL_PROJECTIONS: Final[tuple[SqlProjection, ...]] = (
    BookingsProjection(),
    VenueProjection(),
    StatsProjection(),
    VenuesProjection(),
    WaitlistProjection(),
    CombinationsProjection(),
    GuestsProjection(),
)
REDIS_PROJECTIONS: Final[tuple[RedisProjection, ...]] = (
    AvailabilityProjection(),
    LiveStatusProjection(),
)

PROCESS_MANAGER_NAMES: Final[tuple[str, ...]] = (NotificationsProjection.name,)


def process_managers(
    reminder_lead: timedelta = DEFAULT_REMINDER_LEAD,
) -> tuple[SqlProjection, ...]:
    return (NotificationsProjection(reminder_lead),)


def names() -> list[str]:
    return (
        [p.name for p in SQL_PROJECTIONS]
        + [p.name for p in REDIS_PROJECTIONS]
        + list(PROCESS_MANAGER_NAMES)
    )


def followed() -> Followed:
    """Every projection the daemon runs, by where its checkpoint lives (for its lag)."""
    return Followed(
        sql=tuple(p.name for p in (*SQL_PROJECTIONS, *process_managers())),
        redis=tuple(p.name for p in REDIS_PROJECTIONS),
    )
