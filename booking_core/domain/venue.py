"""The venue: when it is open, how bookings are laid out in time, what its floor is.

Rules enforced here:

- only an admin changes the venue;
- shifts never overlap and last at most a day (`time_rules.check_opening_hours`);
- slot settings stay within sane bounds and name a real time zone; pacing rules are
  checked by `pacing.check_rules`;
- a date is closed at most once, and only a closed date can be reopened;
- layouts have unique ids, place only tables the venue has, and place each table once;
  the active layout cannot be deleted;
- table names are unique among the venue's tables (`check_table_name`, used when a table
  is added or renamed);
- table combinations follow the rules of `combinations`.

Setting what is already set decides no events, so repeating a PUT writes nothing.

The venue always exists: before anything is set it has no opening hours (nothing is
bookable) and the default `SlotSettings`. Its directory entry (`entry`: name, slug,
address) comes from `VenueOpened` and `VenueDetailsChanged`; opening it and changing its
details are decided in `registry`, with the slug claims they take.

The venue also keeps the list of its tables (`TableRegistered`, `TableDeregistered`,
appended together with the table's own events). Auto-assign and unique names must be
decided from streams, never from a read model, and every booking already holds the
venue stream at its version, so the list costs a booking no extra read. It carries each
table's seats (`seats`), so auto-assign ranks and passes over tables without reading
their streams: a booking depends on the seats of the tables it did not take only through
the venue stream, which its append holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Final, NamedTuple, assert_never

from booking_core.domain import combinations, pacing
from booking_core.domain._access import require_manager
from booking_core.domain._maps import without
from booking_core.domain.combinations import TableCombination
from booking_core.domain.commands import (
    ActivateLayout,
    AddClosure,
    ChangeLayout,
    ChangeSlotSettings,
    CreateLayout,
    DefineTableCombination,
    DeleteLayout,
    RemoveClosure,
    RemoveTableCombination,
    SetOpeningHours,
    VenueCommand,
)
from booking_core.domain.errors import (
    ClosureAlreadyExists,
    ClosureNotFound,
    DuplicateTableName,
    InvalidLayout,
    InvalidSlotSettings,
    LayoutAlreadyExists,
    LayoutIsActive,
    LayoutNotFound,
    StaleVersion,
    UnknownTableInLayout,
)
from booking_core.domain.events import (
    ClosureAdded,
    ClosureRemoved,
    LayoutActivated,
    LayoutChanged,
    LayoutCreated,
    LayoutDeleted,
    OpeningHoursChanged,
    SlotSettingsChanged,
    TableCombinationDefined,
    TableCombinationRemoved,
    TableDeregistered,
    TableRegistered,
    VenueDetailsChanged,
    VenueEvent,
    VenueOpened,
)
from booking_core.domain.time_rules import check_opening_hours, is_time_zone
from booking_core.domain.values import Canvas, LayoutArea, LayoutTable, OpeningHours, SlotSettings

__all__ = [
    "Layout",
    "Ranked",
    "Seats",
    "VenueEntry",
    "VenueState",
    "check_table_name",
    "decide",
    "evolve",
    "initial_state",
]

_MAX_TURN_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class Layout:
    layout_id: str
    name: str
    tables: tuple[LayoutTable, ...]
    areas: tuple[LayoutArea, ...]
    canvas: Canvas | None
    version: int = 0
    """The venue stream's version at the layout's creation or last change: what a
    caller's `expected_version` (HTTP `If-Match`) is compared with."""


@dataclass(frozen=True, slots=True)
class Seats:
    """The party sizes a table takes alone: `min_capacity` to `capacity`."""

    capacity: int
    min_capacity: int

    def fit(self, party_size: int) -> bool:
        return self.min_capacity <= party_size <= self.capacity


class Ranked(NamedTuple):
    """A table in auto-assign's order: by capacity, then name (case folded), then id."""

    capacity: int
    name_key: str
    table_id: str
    min_capacity: int


@dataclass(frozen=True, slots=True)
class VenueEntry:
    """The venue as the directory shows it (its time zone is its slot settings')."""

    name: str
    slug: str
    address: str | None = None


@dataclass(frozen=True, slots=True)
class VenueState:
    """Mappings are never changed in place: evolve builds new ones."""

    hours: OpeningHours = field(default_factory=OpeningHours)
    settings: SlotSettings = field(default_factory=SlotSettings)
    closures: Mapping[date, str] = field(default_factory=dict)
    layouts: Mapping[str, Layout] = field(default_factory=dict)
    active_layout_id: str | None = None
    tables: Mapping[str, str] = field(default_factory=dict)
    """The venue's tables that are not retired, id to name."""
    seats: Mapping[str, Seats] = field(default_factory=dict)
    """The seats of the venue's tables whose `TableRegistered` told them (all but tables
    registered before the venue kept seats, until they next change)."""
    ranked: tuple[Ranked, ...] = ()
    """The tables in `seats` in auto-assign's order: smallest first, ties by name. Kept
    sorted as tables come and go, so a booking does not sort the venue's tables."""
    combinations: Mapping[str, TableCombination] = field(default_factory=dict)
    """The venue's table combinations by id (see `combinations`)."""
    entry: VenueEntry | None = None
    """Set by `VenueOpened`; None for a venue never opened (a default venue of before
    the registry has events all the same)."""
    version: int = 0
    """How many venue events have been folded: the venue stream's version (the stream is
    always folded whole, and its versions run 1, 2, 3, ...)."""


initial_state: Final = VenueState()


def decide(command: VenueCommand, state: VenueState) -> list[VenueEvent]:
    require_manager(command.actor, "change the venue")
    match command:
        case SetOpeningHours(hours=hours):
            check_opening_hours(hours)
            if hours == state.hours:
                return []
            return [OpeningHoursChanged(hours=hours, changed_at=command.now)]
        case ChangeSlotSettings():
            return _change_settings(command, state)
        case AddClosure(date=day, reason=reason):
            if day in state.closures:
                if state.closures[day] == reason:
                    return []
                raise ClosureAlreadyExists(day)
            return [ClosureAdded(date=day, reason=reason)]
        case RemoveClosure(date=day):
            if day not in state.closures:
                raise ClosureNotFound(day)
            return [ClosureRemoved(date=day)]
        case CreateLayout():
            if command.layout_id in state.layouts:
                raise LayoutAlreadyExists(command.layout_id)
            _check_layout_tables(command.tables, state)
            return [
                LayoutCreated(
                    layout_id=command.layout_id,
                    name=command.name,
                    tables=command.tables,
                    areas=command.areas,
                    canvas=command.canvas,
                )
            ]
        case ChangeLayout():
            current = state.layouts.get(command.layout_id)
            if current is None:
                raise LayoutNotFound(command.layout_id)
            _check_layout_version(current, command.expected_version)
            _check_layout_tables(command.tables, state)
            changed = Layout(
                command.layout_id,
                command.name,
                command.tables,
                command.areas,
                command.canvas,
                current.version,
            )
            if changed == current:
                return []
            return [
                LayoutChanged(
                    layout_id=command.layout_id,
                    name=command.name,
                    tables=command.tables,
                    areas=command.areas,
                    canvas=command.canvas,
                )
            ]
        case DeleteLayout(layout_id=layout_id):
            if layout_id not in state.layouts:
                raise LayoutNotFound(layout_id)
            _check_layout_version(state.layouts[layout_id], command.expected_version)
            if layout_id == state.active_layout_id:
                raise LayoutIsActive(layout_id)
            return [LayoutDeleted(layout_id=layout_id)]
        case ActivateLayout(layout_id=layout_id):
            if layout_id not in state.layouts:
                raise LayoutNotFound(layout_id)
            if layout_id == state.active_layout_id:
                return []
            return [LayoutActivated(layout_id=layout_id)]
        case DefineTableCombination():
            return list(combinations.decide_define(command, state))
        case RemoveTableCombination():
            return list(combinations.decide_remove(command, state))
        case _:
            assert_never(command)


def _check_layout_version(layout: Layout, expected: int | None) -> None:
    if expected is not None and expected != layout.version:
        raise StaleVersion(f"layout {layout.layout_id}", expected, layout.version)


def evolve(state: VenueState, event: VenueEvent) -> VenueState:
    return _apply(replace(state, version=state.version + 1), event)


def _apply(state: VenueState, event: VenueEvent) -> VenueState:
    match event:
        case VenueOpened() | VenueDetailsChanged():
            return replace(state, entry=VenueEntry(event.name, event.slug, event.address))
        case OpeningHoursChanged(hours=hours):
            return replace(state, hours=hours)
        case SlotSettingsChanged():
            settings = SlotSettings(
                interval_minutes=event.interval_minutes,
                turn_times=event.turn_times,
                buffer_minutes=event.buffer_minutes,
                min_lead_minutes=event.min_lead_minutes,
                max_days_ahead=event.max_days_ahead,
                time_zone=event.time_zone,
                pacing=event.pacing,
            )
            return replace(state, settings=settings)
        case ClosureAdded(date=day, reason=reason):
            return replace(state, closures={**state.closures, day: reason})
        case ClosureRemoved(date=day):
            return replace(state, closures=without(state.closures, day))
        case LayoutCreated() | LayoutChanged():
            layout = Layout(
                event.layout_id, event.name, event.tables, event.areas, event.canvas, state.version
            )
            return replace(state, layouts={**state.layouts, event.layout_id: layout})
        case LayoutDeleted(layout_id=layout_id):
            active = None if state.active_layout_id == layout_id else state.active_layout_id
            return replace(
                state, layouts=without(state.layouts, layout_id), active_layout_id=active
            )
        case LayoutActivated(layout_id=layout_id):
            return replace(state, active_layout_id=layout_id)
        case TableRegistered(table_id=table_id, name=name):
            tables = {**state.tables, table_id: name}
            ranked = tuple(entry for entry in state.ranked if entry.table_id != table_id)
            if event.capacity is None or event.min_capacity is None:
                # told no seats (an event of before): the table's own stream tells them
                seats = without(state.seats, table_id)
                return replace(state, tables=tables, seats=seats, ranked=ranked)
            entry = Ranked(event.capacity, name.casefold(), table_id, event.min_capacity)
            ranked = tuple(sorted((*ranked, entry)))
            seats = {**state.seats, table_id: Seats(event.capacity, event.min_capacity)}
            return replace(state, tables=tables, seats=seats, ranked=ranked)
        case TableCombinationDefined():
            combination = TableCombination(
                event.combination_id,
                event.table_ids,
                event.min_capacity,
                event.capacity,
                event.name,
                event.defined_at,
            )
            return replace(
                state, combinations={**state.combinations, event.combination_id: combination}
            )
        case TableCombinationRemoved(combination_id=combination_id):
            return replace(state, combinations=without(state.combinations, combination_id))
        case TableDeregistered(table_id=table_id):
            return replace(
                state,
                tables=without(state.tables, table_id),
                seats=without(state.seats, table_id),
                ranked=tuple(entry for entry in state.ranked if entry.table_id != table_id),
            )
        case _:
            assert_never(event)


def check_table_name(state: VenueState, table_id: str, name: str) -> None:
    """Raise `DuplicateTableName` if another of the venue's tables is called `name`."""
    wanted = name.strip().casefold()
    for other_id, other_name in state.tables.items():
        if other_id != table_id and other_name.strip().casefold() == wanted:
            raise DuplicateTableName(name, other_id)


def _change_settings(command: ChangeSlotSettings, state: VenueState) -> list[VenueEvent]:
    settings = SlotSettings(
        interval_minutes=command.interval_minutes,
        turn_times=tuple(sorted(command.turn_times, key=lambda turn: turn.max_party_size)),
        buffer_minutes=command.buffer_minutes,
        min_lead_minutes=command.min_lead_minutes,
        max_days_ahead=command.max_days_ahead,
        time_zone=command.time_zone,
        pacing=command.pacing,
    )
    _check_settings(settings)
    if settings == state.settings:
        return []
    return [
        SlotSettingsChanged(
            interval_minutes=settings.interval_minutes,
            turn_times=settings.turn_times,
            buffer_minutes=settings.buffer_minutes,
            min_lead_minutes=settings.min_lead_minutes,
            max_days_ahead=settings.max_days_ahead,
            time_zone=settings.time_zone,
            pacing=settings.pacing,
        )
    ]


def _check_settings(settings: SlotSettings) -> None:
    """Raise `InvalidSlotSettings` naming every field at fault at once."""
    problems: list[tuple[str, str]] = []
    if not 1 <= settings.interval_minutes <= 240:
        problems.append(("interval_minutes", "must be from 1 to 240"))
    if not settings.turn_times:
        problems.append(("turn_times", "at least one turn time is needed"))
    seen: set[int] = set()
    for index, turn in enumerate(settings.turn_times):
        where = f"turn_times[{index}]"
        if turn.max_party_size < 1:
            problems.append((f"{where}.max_party_size", "must be at least 1"))
        elif turn.max_party_size in seen:
            problems.append((f"{where}.max_party_size", "each party size may appear once"))
        seen.add(turn.max_party_size)
        if not 1 <= turn.minutes <= _MAX_TURN_MINUTES:
            problems.append((f"{where}.minutes", "must be from 1 to 1440"))
    if not 0 <= settings.buffer_minutes <= 240:
        problems.append(("buffer_minutes", "must be from 0 to 240"))
    if not 0 <= settings.min_lead_minutes <= 30 * 24 * 60:
        problems.append(("min_lead_minutes", "must be from 0 to 43200 (30 days)"))
    if not 0 <= settings.max_days_ahead <= 3 * 366:
        problems.append(("max_days_ahead", "must be from 0 to 1098 (three years)"))
    if not is_time_zone(settings.time_zone):
        problems.append(("time_zone", f"{settings.time_zone[:64]!r} is not a known zone"))
    problems += pacing.rule_problems(settings.pacing)
    InvalidSlotSettings.check(problems)


def _check_layout_tables(tables: tuple[LayoutTable, ...], state: VenueState) -> None:
    ids = [table.table_id for table in tables]
    unknown = set(ids) - set(state.tables)
    if unknown:
        raise UnknownTableInLayout(unknown)
    if len(set(ids)) != len(ids):
        raise InvalidLayout("a layout places each table at most once")
