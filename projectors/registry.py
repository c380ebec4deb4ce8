"""Every projection the daemon runs, and the codec it decodes events with."""

from __future__ import annotations

from typing import Final

from booking_core.domain.events import codec
from projectors.availability import AvailabilityProjection
from projectors.base import RedisProjection, SqlProjection
from projectors.bookings import BookingsProjection
from projectors.live_status import LiveStatusProjection
from projectors.stats import StatsProjection
from projectors.venue import VenueProjection

__all__ = ["REDIS_PROJECTIONS", "SQL_PROJECTIONS", "codec", "names"]

SQL_PROJECTIONS: Final[tuple[SqlProjection, ...]] = (
    BookingsProjection(),
    VenueProjection(),
    StatsProjection(),
)
REDIS_PROJECTIONS: Final[tuple[RedisProjection, ...]] = (
    AvailabilityProjection(),
    LiveStatusProjection(),
)


def names() -> list[str]:
    return [p.name for p in SQL_PROJECTIONS] + [p.name for p in REDIS_PROJECTIONS]
