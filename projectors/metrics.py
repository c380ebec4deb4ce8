"""What the projector daemon counts for its `/metrics` (see `tablebook.metrics`).

Batches and events applied per projection, how long a batch took, failed rounds (a
server unavailable, or a projection's own code failing), venues parked, and the
notification sender's deliveries by outcome. Labels are projection and channel names and
fixed outcome words: nothing from an event's data.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram, disable_created_metrics

__all__ = [
    "APPLY_SECONDS",
    "BATCHES",
    "EVENTS",
    "FAILURES",
    "NOTIFICATIONS",
    "PARKS",
    "batch_applied",
    "round_failed",
]

disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series

BATCHES = Counter("tablebook_projector_batches", "Batches applied, by projection", ["projection"])
EVENTS = Counter("tablebook_projector_events", "Events applied, by projection", ["projection"])
APPLY_SECONDS = Histogram(
    "tablebook_projector_batch_duration_seconds",
    "Time to apply one batch (with its checkpoint move), by projection",
    ["projection"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)
FAILURES = Counter(
    "tablebook_projector_failures",
    "Rounds that failed, by projection and cause: `unavailable` (PostgreSQL or Redis"
    " away: retried with backoff) or `error` (the projection's code: retried, or set apart)",
    ["projection", "cause"],
)
PARKS = Counter(
    "tablebook_projector_parks",
    "Venues parked because a projection could not apply one of their events",
    ["projection"],
)
NOTIFICATIONS = Counter(
    "tablebook_notifications",
    "Notification deliveries by channel and outcome: sent, skipped, retry (will be tried"
    " again), failed (given up)",
    ["channel", "outcome"],
)


def batch_applied(projection: str, events: int, seconds: float) -> None:
    BATCHES.labels(projection).inc()
    EVENTS.labels(projection).inc(events)
    APPLY_SECONDS.labels(projection).observe(seconds)


def round_failed(projection: str, *, unavailable: bool) -> None:
    FAILURES.labels(projection, "unavailable" if unavailable else "error").inc()
