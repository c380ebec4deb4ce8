"""Pacing: how many guests and parties may start together.

A venue's `SlotSettings.pacing` is a list of `PacingRule`s. A rule covers the starts of
the service days of its weekday (every day when it names none) between its `from_time`
and `to_time`, venue-local (the whole service day when it names neither). Among the starts
it covers, at most `max_covers` guests and at most `max_bookings` parties may start in
*any* window of `per_minutes` minutes: a sliding window, not a grid of buckets, so with
"20 covers per 30 minutes" a party of 20 at 19:10 leaves nothing for 18:45 or 19:35.

Rules enforced here:

- a start is accepted when, for every rule that covers it, every window of the rule's
  length that contains it holds at most the rule's covers and bookings, itself included;
- a booking's own earlier start is not counted against it (a move within the evening);
- a refusal names the fullest window and, when the day has one, the next start on the
  venue's grid that pacing would accept;
- the rules themselves are checked when the slot settings are set (`check_rules`).

The stream: one per venue and service date (`pacing@{service_date}`), holding the starts
of that day that a rule covered when they were booked (`PacingTaken`) until the booking
is cancelled, marked a no-show or moved (`PacingReleased`). A paced booking appends to it
with its expected version in the same atomic append as its table reservations, so two
bookings on different tables cannot both take the last covers. One stream per service
day, rather than per window, because the windows slide: any two starts less than a
window apart share a window, and a stream per window bucket would have to be read with
its neighbours by every booking anyway (see `docs/architecture.md`). Rules are read from
the venue at decision time, so a change of the rules applies to bookings decided after
it; starts booked while no rule covered them are not in the stream and do not count.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Final, assert_never

from booking_core.domain import overrides
from booking_core.domain._maps import without
from booking_core.domain.commands import Actor
from booking_core.domain.decision import DecisionBuilder
from booking_core.domain.errors import InvalidSlotSettings, PacingLimitReached
from booking_core.domain.events import PacingEvent, PacingReleased, PacingTaken, ReleaseReason
from booking_core.domain.streams import VenueStreams
from booking_core.domain.time_rules import Slot
from booking_core.domain.values import PacingRule

__all__ = [
    "MAX_PER_MINUTES",
    "MAX_RULES",
    "MIN_PER_MINUTES",
    "PacedStart",
    "PacingDay",
    "check",
    "check_rules",
    "covering",
    "evolve",
    "hold",
    "initial_state",
    "let_go",
    "local_start",
    "refusal",
    "release",
    "rule_problems",
    "stream",
    "take",
]

MIN_PER_MINUTES: Final = 5
MAX_PER_MINUTES: Final = 24 * 60
MAX_RULES: Final = 50
_MAX_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class PacedStart:
    local: datetime
    """Venue-local wall clock (naive)."""
    covers: int


@dataclass(frozen=True, slots=True)
class PacingDay:
    """The starts of one service day that count towards pacing, by booking id."""

    starts: Mapping[str, PacedStart] = field(default_factory=dict)


initial_state: Final = PacingDay()


def evolve(state: PacingDay, event: PacingEvent) -> PacingDay:
    match event:
        case PacingTaken():
            start = PacedStart(event.local_start, event.covers)
            return PacingDay({**state.starts, event.booking_id: start})
        case PacingReleased():
            return PacingDay(without(state.starts, event.booking_id))
        case _:
            assert_never(event)


def local_start(day: date, at: time) -> datetime:
    return datetime.combine(day, at)


def _minutes_into(service_date: date, local: datetime) -> int:
    """Minutes from the service date's midnight: 1470 for 00:30 after a late shift."""
    return (local - datetime.combine(service_date, time())) // timedelta(minutes=1)


def _covers(rule: PacingRule, service_date: date, local: datetime) -> bool:
    if rule.weekday is not None and rule.weekday != service_date.weekday():
        return False
    minutes = _minutes_into(service_date, local)
    if rule.from_time is not None and minutes < rule.from_time.hour * 60 + rule.from_time.minute:
        return False
    return rule.to_time is None or minutes < rule.to_time.hour * 60 + rule.to_time.minute


def covering(rules: Sequence[PacingRule], service_date: date, local: datetime) -> list[PacingRule]:
    """The rules that cover a start of `service_date` at `local`."""
    return [rule for rule in rules if _covers(rule, service_date, local)]


@dataclass(frozen=True, slots=True)
class _Counted:
    """One rule's counted starts, sorted, with running sums of covers."""

    locals: list[datetime]
    covers: list[int]  # covers[i] = covers of the first i starts


def _counted(
    rule: PacingRule, service_date: date, starts: Iterable[tuple[datetime, int]]
) -> _Counted:
    mine = sorted((s for s in starts if _covers(rule, service_date, s[0])), key=lambda s: s[0])
    return _Counted([s[0] for s in mine], [0, *accumulate(s[1] for s in mine)])


def _fullest(
    rule: PacingRule, counted: _Counted, local: datetime, covers: int
) -> tuple[datetime, int, int, str] | None:
    """The first window of the rule holding `local` that a start of `covers` would
    overflow: (its start, used, limit, unit); None when every window has room.

    Only windows starting at a counted start, or at `local` itself, need looking at: any
    other window holding `local` holds no more than the one starting at the first counted
    start inside it (or at `local`)."""
    per = timedelta(minutes=rule.per_minutes)
    starts = counted.locals
    first = bisect_right(starts, local - per)
    anchors = [*starts[first : bisect_right(starts, local)], local]
    for anchor in anchors:
        low = bisect_left(starts, anchor)
        high = bisect_left(starts, anchor + per)
        if rule.max_covers is not None:
            used = counted.covers[high] - counted.covers[low]
            if used + covers > rule.max_covers:
                return anchor, used, rule.max_covers, "covers"
        if rule.max_bookings is not None:
            used = high - low
            if used + 1 > rule.max_bookings:
                return anchor, used, rule.max_bookings, "bookings"
    return None


def refusal(
    rules: Sequence[PacingRule],
    service_date: date,
    starts: Iterable[tuple[datetime, int]],
    local: datetime,
    covers: int,
) -> tuple[PacingRule, datetime, int, int, str] | None:
    """Why pacing refuses a start of `covers` at `local` given the day's other `starts`
    (local wall clock, covers); None when it accepts it."""
    applying = covering(rules, service_date, local)
    if not applying:
        return None
    others = list(starts)
    for rule in applying:
        found = _fullest(rule, _counted(rule, service_date, others), local, covers)
        if found is not None:
            return (rule, *found)
    return None


def check(
    rules: Sequence[PacingRule],
    state: PacingDay,
    *,
    booking_id: str,
    service_date: date,
    local: datetime,
    covers: int,
    later: Callable[[], Iterable[datetime]] = lambda: (),
) -> None:
    """Raise `PacingLimitReached` if the start breaks a rule. `later`: the day's starts
    after this one to suggest instead (asked only on a refusal)."""
    others = [(s.local, s.covers) for b, s in state.starts.items() if b != booking_id]
    found = refusal(rules, service_date, others, local, covers)
    if found is None:
        return
    rule, anchor, used, limit, unit = found
    suggestion = next(
        (
            start
            for start in later()
            if start > local and refusal(rules, service_date, others, start, covers) is None
        ),
        None,
    )
    window = (anchor, anchor + timedelta(minutes=rule.per_minutes))
    asked = covers if unit == "covers" else 1
    raise PacingLimitReached(window, used, limit, unit, asked, suggestion)


def take(
    state: PacingDay,
    *,
    booking_id: str,
    service_date: date,
    local: datetime,
    starts_at: datetime,
    covers: int,
) -> list[PacingEvent]:
    current = state.starts.get(booking_id)
    if current == PacedStart(local, covers):
        return []
    return [
        PacingTaken(
            booking_id=booking_id,
            service_date=service_date,
            local_start=local,
            starts_at=starts_at,
            covers=covers,
        )
    ]


def release(
    state: PacingDay, *, booking_id: str, service_date: date, reason: ReleaseReason
) -> list[PacingEvent]:
    if booking_id not in state.starts:
        return []
    return [PacingReleased(booking_id=booking_id, service_date=service_date, reason=reason)]


def check_rules(rules: Sequence[PacingRule]) -> None:
    """Raise `InvalidSlotSettings` for rules no venue could mean, naming each at fault."""
    InvalidSlotSettings.check(rule_problems(rules))


def rule_problems(rules: Sequence[PacingRule]) -> list[tuple[str, str]]:
    """What is wrong with each rule, as `(pacing[i].field, message)`."""
    if len(rules) > MAX_RULES:
        return [("pacing", f"at most {MAX_RULES} rules")]
    problems: list[tuple[str, str]] = []
    for index, rule in enumerate(rules):
        where = f"pacing[{index}]"
        if not MIN_PER_MINUTES <= rule.per_minutes <= MAX_PER_MINUTES:
            problems.append(
                (f"{where}.per_minutes", f"must be from {MIN_PER_MINUTES} to {MAX_PER_MINUTES}")
            )
        if rule.max_covers is None and rule.max_bookings is None:
            problems.append(
                (
                    f"{where}.max_covers",
                    "give a limit on guests (max_covers), on parties (max_bookings), or both",
                )
            )
        for name, limit in (("max_covers", rule.max_covers), ("max_bookings", rule.max_bookings)):
            if limit is not None and not 1 <= limit <= _MAX_LIMIT:
                problems.append((f"{where}.{name}", f"must be from 1 to {_MAX_LIMIT}"))
        if rule.weekday is not None and not 0 <= rule.weekday <= 6:
            problems.append((f"{where}.weekday", "must be monday to sunday (0 to 6)"))
        if (
            rule.from_time is not None
            and rule.to_time is not None
            and rule.from_time >= rule.to_time
        ):
            problems.append(
                (
                    f"{where}.to",
                    "must be after the start (from); a rule covers a range within one day",
                )
            )
    return problems


def hold(
    decision: DecisionBuilder,
    streams: VenueStreams,
    rules: Sequence[PacingRule],
    days: Mapping[str, PacingDay],
    *,
    booking_id: str,
    slot: Slot,
    covers: int,
    actor: Actor,
    override: str | None,
    later: Callable[[], Iterable[datetime]],
) -> bool:
    """Take the start's place in its day's pacing, in `decision`, when a rule covers it.

    Answers whether it did (the booking is then `paced`). Staff may go past a full window
    with a reason (`overrides`: recorded in the booking's event); staff without one hear
    `OverrideRequired`, guests the `PacingLimitReached` itself. `days` holds the `stream`
    of the slot's service date (missing: empty)."""
    local = local_start(slot.date, slot.time)
    if not covering(rules, slot.service_date, local):
        return False
    stream_id = streams.pacing(slot.service_date)
    state = days.get(stream_id, initial_state)
    if state.starts.get(booking_id) != PacedStart(local, covers):  # else: already holds it
        try:
            check(
                rules,
                state,
                booking_id=booking_id,
                service_date=slot.service_date,
                local=local,
                covers=covers,
                later=later,
            )
        except PacingLimitReached as error:
            overrides.enforce(error, actor, overrides.override_of(actor, override))
    events = take(
        state,
        booking_id=booking_id,
        service_date=slot.service_date,
        local=local,
        starts_at=slot.starts_at,
        covers=covers,
    )
    decision.add(stream_id, events)
    return True


def let_go(
    decision: DecisionBuilder,
    streams: VenueStreams,
    days: Mapping[str, PacingDay],
    *,
    booking_id: str,
    service_date: date,
    reason: ReleaseReason,
) -> None:
    """Release a paced booking's start, in `decision`."""
    stream_id = streams.pacing(service_date)
    state = days.get(stream_id, initial_state)
    events = release(state, booking_id=booking_id, service_date=service_date, reason=reason)
    decision.add(stream_id, events)


def stream(streams: VenueStreams, service_date: date) -> str:
    return streams.pacing(service_date)
