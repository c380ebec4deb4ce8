"""Random histories of one venue, decided by the pure deciders as the handlers would
decide them: tables added, changed and retired; opening hours with shifts past midnight;
slot settings with their interval, turn times, buffer, lead time, booking window and a
time zone with daylight-saving changes; closures, blocks, bookings, moves, cancellations
and the evening's steps. A refused step changes nothing, as in a real week.

`History` keeps every decision in the order it was made, to be appended to a real event
store and projected."""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import strategies as st

from booking_core.domain import floor
from booking_core.domain import venue as venue_decider
from booking_core.domain.commands import (
    Actor,
    AddClosure,
    AddTable,
    BlockTable,
    BookTable,
    CancelBooking,
    ChangeBooking,
    ChangeSlotSettings,
    ChangeTable,
    CompleteBooking,
    DefineTableCombination,
    LiftBlock,
    RemoveClosure,
    RemoveTableCombination,
    RetireTable,
    SeatBooking,
    SetOpeningHours,
    VenueCommand,
)
from booking_core.domain.decision import Decision
from booking_core.domain.errors import DomainError
from booking_core.domain.table import ActiveTable, TableState
from booking_core.domain.time_rules import bookable_starts, to_local
from booking_core.domain.values import OpeningHours, Shift, TurnTime
from booking_core.domain.venue import VenueState
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import World

ADMIN = Actor(user_id="u-maitre-d", role="admin")
GUEST = Actor(user_id="u-ada")
TABLE_IDS = ("t-window", "t-bar", "t-booth", "t-terrace")
GHOST = "t-never-added"
COMBINABLE = (
    ("t-window", "t-bar"),
    ("t-bar", "t-booth"),
    ("t-window", "t-bar", "t-booth"),
    ("t-booth", "t-terrace"),
    ("t-window", GHOST),
)
"""Sets of tables staff may combine: overlapping, one with a table added late, one with a
table that never is."""
BOOKING_IDS = ("b-ada", "b-grace", "b-alan", "b-edsger", "b-barbara")
ZONES = ("Europe/London", "America/New_York", "Australia/Lord_Howe", "Europe/Berlin", "UTC")
CLOCK_CHANGES = (  # Europe, the US, and Lord Howe (which moves its clocks by half an hour)
    (date(2026, 3, 29), "Europe/London"),
    (date(2026, 3, 29), "Europe/Berlin"),
    (date(2026, 10, 25), "Europe/London"),
    (date(2026, 3, 8), "America/New_York"),
    (date(2026, 11, 1), "America/New_York"),
    (date(2026, 4, 5), "Australia/Lord_Howe"),
    (date(2026, 10, 4), "Australia/Lord_Howe"),
)
QUARTERS = st.integers(0, 24 * 4 - 1).map(lambda q: time(q // 4, q % 4 * 15))
MINUTES = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))
SMALL_HOURS = st.sampled_from((time(0, 30), time(1, 30), time(2, 0), time(2, 15), time(2, 45)))
EVENINGS = st.integers(17 * 4, 24 * 4 - 1).map(lambda q: time(q // 4, q % 4 * 15))
TIMES = st.one_of(EVENINGS, QUARTERS, SMALL_HOURS, MINUTES)
SHIFT_SHAPES = (
    (Shift(opens=time(17), closes=time(23)),),
    (Shift(opens=time(18), closes=time(1, 30)),),  # past midnight
    (Shift(opens=time(12), closes=time(15)), Shift(opens=time(17), closes=time(22))),
    (Shift(opens=time(22), closes=time(4)),),  # over the small hours, where clocks change
    (Shift(opens=time(0), closes=time(0)),),  # round the clock
    (Shift(opens=time(1), closes=time(3)), Shift(opens=time(19, 10), closes=time(0, 40))),
)


@st.composite
def shifts(draw: st.DrawFn) -> tuple[Shift, ...]:
    if draw(st.booleans()):
        return draw(st.sampled_from(SHIFT_SHAPES))
    return tuple(
        Shift(opens=draw(TIMES), closes=draw(TIMES)) for _ in range(draw(st.integers(0, 2)))
    )


@st.composite
def opening_hours(draw: st.DrawFn) -> OpeningHours:
    if draw(st.booleans()):
        return OpeningHours.every_day(*draw(shifts()))
    week = [draw(shifts()) for _ in range(7)]
    return OpeningHours(
        monday=week[0],
        tuesday=week[1],
        wednesday=week[2],
        thursday=week[3],
        friday=week[4],
        saturday=week[5],
        sunday=week[6],
    )


@st.composite
def slot_settings(draw: st.DrawFn, zone: str) -> dict[str, Any]:
    turns = draw(
        st.lists(
            st.builds(
                TurnTime,
                max_party_size=st.sampled_from((2, 4, 8, 12)),
                minutes=st.sampled_from((30, 50, 90, 120, 150, 240)),
            ),
            min_size=1,
            max_size=3,
            unique_by=lambda turn: turn.max_party_size,
        )
    )
    return {
        "interval_minutes": draw(st.sampled_from((15, 20, 30, 45, 60, 7))),
        "turn_times": tuple(turns),
        "buffer_minutes": draw(st.sampled_from((0, 15, 30, 60, 240))),
        "min_lead_minutes": draw(st.sampled_from((60, 60, 0, 30, 240, 1440))),
        "max_days_ahead": draw(st.sampled_from((30, 30, 30, 5, 2, 1, 0))),
        "time_zone": draw(st.sampled_from((zone, zone, zone, *ZONES))),
    }


@dataclass(frozen=True)
class Venue:
    """The history's setting: the days it happens on, in which zone."""

    first_day: date
    zone: str

    def day(self, offset: int) -> date:
        return self.first_day + timedelta(days=offset)

    def moment(self, minutes: int, seconds: float = 0) -> datetime:
        """An instant `minutes` after the first day's midnight, UTC."""
        return datetime.combine(self.first_day, time(), UTC) + timedelta(
            minutes=minutes, seconds=seconds
        )


def days(venue: Venue) -> st.SearchStrategy[date]:
    return st.integers(-1, 2).map(venue.day)


def moments(venue: Venue) -> st.SearchStrategy[datetime]:
    """Instants around the history's days: when it is asked about them."""
    return st.builds(
        venue.moment, st.integers(-3 * 24 * 60, 2 * 24 * 60), st.sampled_from((0, 0, 0, 29))
    )


def beforehand(venue: Venue) -> st.SearchStrategy[datetime]:
    """Instants in the days before: when guests book, move and cancel."""
    return st.builds(venue.moment, st.integers(-2 * 24 * 60, 0))


@st.composite
def operations(draw: st.DrawFn, venue: Venue) -> list[tuple[Any, ...]]:
    """The first steps open the venue, so that most of what follows can happen."""
    found: list[tuple[Any, ...]] = [
        ("hours", OpeningHours.every_day(*draw(st.sampled_from(SHIFT_SHAPES)))),
        ("settings", draw(slot_settings(venue.zone))),
        *(("add", table_id, draw(st.integers(1, 8))) for table_id in TABLE_IDS[:3]),
    ]
    tables = st.sampled_from((*TABLE_IDS, GHOST))
    bookings = st.sampled_from(BOOKING_IDS)
    parties = st.sampled_from((2, 2, 4, 1, 3, 6, 8, 10, 12))
    joined = st.sampled_from(COMBINABLE)
    steps: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
        "book": st.tuples(
            st.just("book"),
            bookings,
            days(venue),
            TIMES,
            parties,
            st.sampled_from(((), (), ("t-window",), ("t-bar",), ("t-booth",))) | joined,
            st.sampled_from((None, None, None, 15, 60, 240, 600)),
            beforehand(venue),
            st.none() | st.integers(0, 200),  # else the nth start of the day's grid
        ),
        "change": st.tuples(
            st.just("change"),
            bookings,
            st.none() | days(venue),
            st.none() | TIMES,
            st.none() | parties,
            st.none() | tables.map(lambda t: (t,)),
            beforehand(venue),
            st.none() | st.integers(0, 200),
        ),
        "cancel": st.tuples(st.just("cancel"), bookings, beforehand(venue)),
        "seat": st.tuples(st.just("seat"), bookings, beforehand(venue)),
        "complete": st.tuples(st.just("complete"), bookings, beforehand(venue)),
        "hours": st.tuples(st.just("hours"), opening_hours()),
        "settings": st.tuples(st.just("settings"), slot_settings(venue.zone)),
        "close": st.tuples(st.just("close"), days(venue)),
        "reopen": st.tuples(st.just("reopen"), days(venue)),
        "add": st.tuples(st.just("add"), st.sampled_from(TABLE_IDS), st.integers(1, 8)),
        "resize": st.tuples(st.just("resize"), tables, st.integers(1, 8), st.integers(1, 4)),
        "retire": st.tuples(st.just("retire"), tables, st.booleans(), moments(venue)),
        "block": st.tuples(
            st.just("block"),
            tables,
            st.integers(-24 * 60, 3 * 24 * 60),
            st.sampled_from((0, 0, 30, 0.5)),  # some blocks start or end mid-second
            st.sampled_from((15, 45, 90, 300, 24 * 60)),
            st.booleans(),  # on the venue's wall clock, or as instants
        ),
        "lift": st.tuples(st.just("lift"), tables, st.integers(0, 9)),
        "combine": st.tuples(st.just("combine"), joined, st.integers(1, 8), st.integers(0, 8)),
        "uncombine": st.tuples(st.just("uncombine"), joined),
    }
    # Mostly guests booking, moving and cancelling, as in a restaurant's week.
    kinds = (
        ["book"] * 16 + ["change"] * 3 + ["cancel"] * 2 + ["block"] * 2 + ["combine"] * 2
    ) + list(steps)
    step = st.sampled_from(kinds).flatmap(lambda kind: steps[kind])
    found += draw(st.lists(step, min_size=8, max_size=30))
    return found


class History(World):
    """The pure deciders' world, keeping every decision in the order it was made."""

    def __init__(self) -> None:
        super().__init__()
        self.decisions: list[Decision] = []

    def apply(self, decision: Decision) -> Decision:
        self.decisions.append(decision)
        return super().apply(decision)


_ids = itertools.count()


def _id() -> str:
    return f"c-{next(_ids)}"


def _venue(history: History, command: VenueCommand) -> None:
    events = venue_decider.decide(command, history.venue)
    history.apply(Decision(events={STREAMS.venue: tuple(events)}, reads=frozenset({STREAMS.venue})))


def _run(history: History, venue: Venue, operation: tuple[Any, ...]) -> None:
    """One step, decided as the handlers would decide it; a refusal changes nothing."""
    kind, *args = operation
    early = venue.moment(-4 * 24 * 60)
    if kind == "hours":
        _venue(
            history,
            SetOpeningHours(
                venue_id=TEST_VENUE, command_id=_id(), actor=ADMIN, now=early, hours=args[0]
            ),
        )
    elif kind == "settings":
        _venue(
            history,
            ChangeSlotSettings(
                venue_id=TEST_VENUE, command_id=_id(), actor=ADMIN, now=early, **args[0]
            ),
        )
    elif kind == "close":
        _venue(
            history,
            AddClosure(
                venue_id=TEST_VENUE,
                command_id=_id(),
                actor=ADMIN,
                now=early,
                date=args[0],
                reason="a private party",
            ),
        )
    elif kind == "reopen":
        _venue(
            history,
            RemoveClosure(
                venue_id=TEST_VENUE, command_id=_id(), actor=ADMIN, now=early, date=args[0]
            ),
        )
    elif kind == "add":
        table_id, capacity = args
        command = AddTable(
            venue_id=TEST_VENUE,
            command_id=_id(),
            actor=ADMIN,
            now=early,
            table_id=table_id,
            name=table_id.removeprefix("t-").upper(),
            capacity=capacity,
            min_capacity=max(1, capacity // 3),
        )
        history.apply(
            floor.decide_add(command, venue=history.venue, table_state=_table(history, table_id))
        )
    elif kind == "resize":
        table_id, capacity, min_capacity = args
        change = ChangeTable(
            venue_id=TEST_VENUE,
            command_id=_id(),
            actor=ADMIN,
            now=early,
            table_id=table_id,
            capacity=capacity,
            min_capacity=min(min_capacity, capacity),
        )
        history.apply(
            floor.decide_change(change, venue=history.venue, table_state=_table(history, table_id))
        )
    elif kind == "retire":
        table_id, cancel, now = args
        retire = RetireTable(
            venue_id=TEST_VENUE,
            command_id=_id(),
            actor=ADMIN,
            now=now,
            table_id=table_id,
            cancel_bookings=cancel,
        )
        found = history.days
        upcoming = floor.upcoming_bookings(found, now)
        history.apply(
            floor.decide_retire(
                retire,
                venue=history.venue,
                table_state=_table(history, table_id),
                days=found,
                bookings={b: history.booking(b) for b in upcoming},
            )
        )
    elif kind == "block":
        table_id, minutes, seconds, length, local = args
        start = venue.moment(minutes, seconds)
        end = start + timedelta(minutes=length)
        if local:
            zone = history.venue.settings.time_zone
            start, end = to_local(start, zone), to_local(end, zone)
        block = BlockTable(
            venue_id=TEST_VENUE,
            command_id=_id(),
            actor=ADMIN,
            now=venue.moment(-4 * 24 * 60),
            table_id=table_id,
            block_id=f"k-{minutes}-{length}",
            start=start,
            end=end,
        )
        history.apply(
            floor.decide_block(
                block,
                venue=history.venue,
                table_state=_table(history, table_id),
                days=history.days,
            )
        )
    elif kind == "lift":
        table_id, nth = args
        state = _table(history, table_id)
        blocks = sorted(state.blocks) if isinstance(state, ActiveTable) else []
        block_id = blocks[nth % len(blocks)] if blocks else "k-none"
        lift = LiftBlock(
            venue_id=TEST_VENUE,
            command_id=_id(),
            actor=ADMIN,
            now=early,
            table_id=table_id,
            block_id=block_id,
        )
        history.apply(floor.decide_lift(lift, table_state=state, days=history.days))
    elif kind == "combine":
        table_ids, min_capacity, extra = args
        _venue(
            history,
            DefineTableCombination(
                venue_id=TEST_VENUE,
                command_id=_id(),
                actor=ADMIN,
                now=early,
                combination_id=_combination_id(table_ids),
                table_ids=table_ids,
                min_capacity=min_capacity,
                capacity=min_capacity + extra,
            ),
        )
    elif kind == "uncombine":
        _venue(
            history,
            RemoveTableCombination(
                venue_id=TEST_VENUE,
                command_id=_id(),
                actor=ADMIN,
                now=early,
                combination_id=_combination_id(args[0]),
            ),
        )
    elif kind == "book":
        booking_id, day, at, party, table_ids, duration, now, nth = args
        if nth is not None:
            at = on_the_grid(history.venue, day, party, nth) or at
        history.book(
            BookTable(
                venue_id=TEST_VENUE,
                command_id=_id(),
                actor=ADMIN if duration else GUEST,
                now=now,
                booking_id=booking_id,
                date=day,
                time=at,
                party_size=party,
                guest_name="Ada Lovelace, party of a few",
                table_ids=table_ids,
                duration_minutes=duration,
            )
        )
    elif kind == "change":
        booking_id, day, at, party, table_ids, now, nth = args
        if nth is not None and day is not None:
            at = on_the_grid(history.venue, day, party or 2, nth) or at
        fields = {"date": day, "time": at, "party_size": party, "table_ids": table_ids}
        history.change(
            ChangeBooking(
                venue_id=TEST_VENUE,
                command_id=_id(),
                actor=ADMIN,
                now=now,
                booking_id=booking_id,
                **{name: value for name, value in fields.items() if value is not None},
            )
        )
    elif kind in ("cancel", "seat", "complete"):
        booking_id, now = args
        step = {"cancel": CancelBooking, "seat": SeatBooking, "complete": CompleteBooking}[kind]
        history.step(
            step(venue_id=TEST_VENUE, command_id=_id(), actor=ADMIN, now=now, booking_id=booking_id)
        )
    else:
        raise AssertionError(kind)


def _combination_id(table_ids: tuple[str, ...]) -> str:
    return "c-" + "+".join(sorted(t.removeprefix("t-") for t in table_ids))


def on_the_grid(venue: VenueState, day: date, party: int, nth: int) -> time | None:
    """One of the day's starts, where guests who look at the grid book."""
    settings = venue.settings
    minutes = settings.turn_minutes(party)
    starts = bookable_starts(settings, venue.hours, venue.closures, day, minutes)
    return starts[nth % len(starts)].time() if starts else None


def _table(history: History, table_id: str) -> TableState:
    state: TableState = history.state(STREAMS.table(table_id))
    return state


def make_history(venue: Venue, steps: list[tuple[Any, ...]]) -> History:
    history = History()
    for operation in steps:
        with contextlib.suppress(DomainError):
            _run(history, venue, operation)
    return history


@st.composite
def venues(draw: st.DrawFn) -> Venue:
    """Half of the histories happen around a change of the clocks in their zone."""
    if draw(st.booleans()):
        first_day, zone = draw(st.sampled_from(CLOCK_CHANGES))
        return Venue(first_day=first_day, zone=zone)
    first_day = draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)))
    return Venue(first_day=first_day, zone=draw(st.sampled_from(ZONES)))
