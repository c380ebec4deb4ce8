"""Staff setting a venue rule aside for one decision.

Rules enforced here:

- Only staff (admin, manager, host) may override, and only with a reason that says
  something; the event keeps the reason and who gave it (`Override`).
- A rule that staff break without a reason is refused as `OverrideRequired`, carrying the
  rule's own refusal, so a console can ask the host for a reason and try again. A guest
  hears the rule's own refusal.
- What may be overridden is each rule's owner's call (opening hours, closures, the slot
  grid, a party too large or small for its tables, pacing, the seating window). Two
  parties on one table at once, and a blocked table, are never allowed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from booking_core.domain._access import require_staff
from booking_core.domain.commands import Actor
from booking_core.domain.errors import DomainError, InvalidBooking, OverrideRequired
from booking_core.domain.values import Override

__all__ = ["MAX_REASON", "enforce", "overridable", "override_of"]

MAX_REASON = 500


def override_of(actor: Actor, reason: str | None) -> Override | None:
    """The override a command asks for, checked; None when it asks for none."""
    if reason is None:
        return None
    require_staff(actor, "override the venue's rules")
    reason = reason.strip()
    if not reason:
        raise InvalidBooking("override", "give a reason for the override")
    if len(reason) > MAX_REASON:
        raise InvalidBooking("override", f"the reason may be at most {MAX_REASON} characters")
    return Override(reason=reason, given_by=actor.user_id)


def enforce(error: DomainError, actor: Actor, override: Override | None) -> None:
    """A rule is broken: return when staff gave a reason to set it aside, else refuse."""
    if override is not None and actor.is_staff:
        return
    if actor.is_staff:
        raise OverrideRequired(error) from error
    raise error


@contextmanager
def overridable(
    actor: Actor, override: Override | None, rules: tuple[type[DomainError], ...]
) -> Iterator[None]:
    """Run a check whose refusals of `rules` staff may set aside (see `enforce`)."""
    try:
        yield
    except rules as error:
        enforce(error, actor, override)
