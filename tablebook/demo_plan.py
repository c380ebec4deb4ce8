"""The demo restaurant as data: its floor, its hours and two weeks of bookings.

Nothing here talks to a store: `demo_plan(first_day)` is a pure function of the first
booking day and a seed, so the same day gives the same plan, byte for byte.

- Twelve tables in two areas, the "Main room" and the "Terrace", seating 2 to 8, each
  with a minimum party that keeps a big table from going to a couple; two pairs of them
  join for larger parties (M4 + M5 for 5 to 8, T3 + T4 for 7 to 10).
- Closed on Mondays; lunch 12:00-15:00 and dinner 18:00-23:00 the other days.
- 210 booking requests over the fourteen days from `first_day` (about 195 find a table;
  the rest ask for a slot already taken on a busy evening): more at dinner than at
  lunch and more at weekends, parties of 1 to 8 (mostly couples and fours), starts on
  the quarter-hour grid that leave the turn inside the shift. Online bookings come from
  the demo guest account; phone bookings and walk-ins are taken by the admin. A few are
  cancelled afterwards.
- Guests are made up from name lists; phone numbers are in the UK range set aside for
  drama (07700 900000-900999) and emails are at example.com, so none reaches a person.

Every id is a UUID 5 of a fixed namespace and a label (`booking-17`), so running the seed
again names the same commands and the handlers answer them as duplicates.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Final, Literal

from booking_core.domain.values import (
    Canvas,
    LayoutArea,
    LayoutTable,
    OpeningHours,
    Shift,
    SlotSettings,
    TableShape,
    TurnTime,
)

__all__ = [
    "DEMO_BOOKINGS",
    "DEMO_DAYS",
    "DEMO_NAMESPACE",
    "DemoBooking",
    "DemoLayout",
    "DemoPlan",
    "DemoTable",
    "demo_id",
    "demo_plan",
]

DEMO_NAMESPACE: Final = uuid.UUID("6f1d2a4e-5b7c-4e0a-9c3d-7a8b9c0d1e2f")
DEMO_BOOKINGS: Final = 210
DEMO_DAYS: Final = 14

Source = Literal["online", "phone", "walk_in"]


def demo_id(label: str) -> str:
    """The demo's id for `label`: the same on every run."""
    return str(uuid.uuid5(DEMO_NAMESPACE, label))


@dataclass(frozen=True, slots=True)
class DemoTable:
    label: str
    name: str
    area: str
    capacity: int
    min_capacity: int
    x: float
    y: float
    width: float
    height: float
    shape: TableShape

    @property
    def table_id(self) -> str:
        return demo_id(f"table-{self.label}")

    def placed(self) -> LayoutTable:
        return LayoutTable(
            table_id=self.table_id,
            x=self.x,
            y=self.y,
            width=self.width,
            height=self.height,
            shape=self.shape,
        )


@dataclass(frozen=True, slots=True)
class DemoLayout:
    layout_id: str
    name: str
    areas: tuple[LayoutArea, ...]
    canvas: Canvas


@dataclass(frozen=True, slots=True)
class DemoCombination:
    """Tables the floor joins for a larger party, by their labels."""

    label: str
    name: str
    tables: tuple[str, ...]
    min_capacity: int
    capacity: int

    @property
    def combination_id(self) -> str:
        return demo_id(f"combination-{self.label}")

    @property
    def table_ids(self) -> tuple[str, ...]:
        return tuple(demo_id(f"table-{label}") for label in self.tables)


@dataclass(frozen=True, slots=True)
class DemoBooking:
    number: int
    date: date
    time: time
    party_size: int
    guest_name: str
    guest_phone: str | None
    guest_email: str | None
    special_requests: str | None
    source: Source
    cancelled: bool

    @property
    def booking_id(self) -> str:
        return demo_id(f"booking-{self.number}")

    @property
    def by_admin(self) -> bool:
        """Phone bookings and walk-ins are taken by staff; online ones by the guest."""
        return self.source != "online"


@dataclass(frozen=True, slots=True)
class DemoPlan:
    settings: SlotSettings
    hours: OpeningHours
    tables: tuple[DemoTable, ...]
    layout: DemoLayout
    bookings: tuple[DemoBooking, ...]
    combinations: tuple[DemoCombination, ...] = ()

    @property
    def areas(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(table.area for table in self.tables))


MAIN_ROOM: Final = "Main room"
TERRACE: Final = "Terrace"
LUNCH: Final = Shift(opens=time(12), closes=time(15))
DINNER: Final = Shift(opens=time(18), closes=time(23))

TABLES: Final = (
    DemoTable("M1", "M1", MAIN_ROOM, 2, 1, 60, 60, 80, 80, "round"),
    DemoTable("M2", "M2", MAIN_ROOM, 2, 1, 200, 60, 80, 80, "round"),
    DemoTable("M3", "M3", MAIN_ROOM, 2, 1, 340, 60, 80, 80, "round"),
    DemoTable("M4", "M4", MAIN_ROOM, 4, 2, 60, 260, 110, 110, "square"),
    DemoTable("M5", "M5", MAIN_ROOM, 4, 2, 240, 260, 110, 110, "square"),
    DemoTable("M6", "M6", MAIN_ROOM, 4, 2, 420, 260, 110, 110, "square"),
    DemoTable("M7", "M7", MAIN_ROOM, 6, 3, 60, 500, 200, 110, "rectangle"),
    DemoTable("M8", "M8", MAIN_ROOM, 8, 5, 340, 500, 280, 120, "rectangle"),
    DemoTable("T1", "T1", TERRACE, 2, 1, 850, 60, 80, 80, "round"),
    DemoTable("T2", "T2", TERRACE, 2, 1, 1010, 60, 80, 80, "round"),
    DemoTable("T3", "T3", TERRACE, 4, 2, 850, 260, 110, 110, "square"),
    DemoTable("T4", "T4", TERRACE, 6, 3, 850, 480, 240, 120, "oval"),
)

COMBINATIONS: Final = (
    DemoCombination("main-fours", "M4 + M5", ("M4", "M5"), 5, 8),
    DemoCombination("terrace-long", "T3 + T4", ("T3", "T4"), 7, 10),
)

LAYOUT: Final = DemoLayout(
    layout_id=demo_id("layout-main"),
    name="Everyday floor",
    areas=(
        LayoutArea(name=MAIN_ROOM, x=0, y=0, width=760, height=800, color="#f4ebdd"),
        LayoutArea(name=TERRACE, x=800, y=0, width=400, height=800, color="#e3f1e0"),
    ),
    canvas=Canvas(width=1200, height=800, background="#ffffff"),
)

TURN_TIMES: Final = (
    TurnTime(max_party_size=2, minutes=90),
    TurnTime(max_party_size=4, minutes=120),
    TurnTime(max_party_size=6, minutes=135),
    TurnTime(max_party_size=8, minutes=150),
)

# How busy each (weekday, shift) is; Monday (0) is closed.
_WEIGHTS: Final[dict[tuple[int, Shift], float]] = {
    **{(day, LUNCH): 1.0 for day in range(1, 5)},
    **{(day, DINNER): 2.0 for day in range(1, 5)},
    (4, DINNER): 3.2,
    (5, LUNCH): 1.8,
    (5, DINNER): 3.4,
    (6, LUNCH): 2.2,
    (6, DINNER): 1.8,
}
_PEAKS: Final = {LUNCH: time(12, 45), DINNER: time(19, 30)}
_PARTY_SIZES: Final = {1: 4, 2: 42, 3: 11, 4: 22, 5: 6, 6: 9, 7: 3, 8: 3}
_SOURCES: Final[dict[Source, int]] = {"online": 62, "phone": 30, "walk_in": 8}
_REQUESTS: Final = (
    "Window seat if possible",
    "Birthday: a candle on the dessert, please",
    "High chair for a toddler",
    "One guest has a nut allergy",
    "Gluten-free options, please",
    "Anniversary dinner",
    "Quiet table away from the door",
    "Arriving by wheelchair",
)
_FIRST_NAMES: Final = (
    "Ada", "Alan", "Amara", "Aisha", "Ben", "Carlos", "Chloe", "Daniel", "Eleanor", "Emeka",
    "Fatima", "Freya", "George", "Grace", "Hannah", "Hiro", "Isla", "James", "Jonas", "Kofi",
    "Leila", "Liam", "Lucia", "Mateo", "Maya", "Mei", "Noah", "Nina", "Oliver", "Olivia",
    "Priya", "Rafael", "Rosa", "Samir", "Sofia", "Tomasz", "Una", "Victor", "Yara", "Zoe",
)  # fmt: skip
_LAST_NAMES: Final = (
    "Adeyemi", "Bennett", "Campbell", "Chen", "Costa", "Dubois", "Evans", "Fischer", "Garcia",
    "Hughes", "Ibrahim", "Jensen", "Kaur", "Kowalski", "Lovelace", "Martin", "Murphy",
    "Nakamura", "Novak", "O'Brien", "Okafor", "Patel", "Quinn", "Rossi", "Santos", "Schmidt",
    "Silva", "Taylor", "Turner", "Walsh", "Williams", "Wright", "Yilmaz", "Zhang",
)  # fmt: skip


def demo_plan(
    first_day: date,
    *,
    time_zone: str,
    bookings: int = DEMO_BOOKINGS,
    days: int = DEMO_DAYS,
    seed: int = 7,
) -> DemoPlan:
    """The demo restaurant in `time_zone`, with `bookings` spread over `days` days."""
    settings = SlotSettings(
        interval_minutes=15,
        turn_times=TURN_TIMES,
        buffer_minutes=15,
        min_lead_minutes=60,
        max_days_ahead=90,
        time_zone=time_zone,
    )
    rng = random.Random(seed)  # noqa: S311 - made-up demo data, nothing secret
    services = [
        (day, shift)
        for day in (first_day + timedelta(days=n) for n in range(days))
        for shift in (LUNCH, DINNER)
        if (day.weekday(), shift) in _WEIGHTS
    ]
    weights = [_WEIGHTS[day.weekday(), shift] for day, shift in services]
    picked = sorted(
        rng.choices(range(len(services)), weights=weights, k=bookings) if services else []
    )
    planned = tuple(
        _booking(number, *services[index], settings, rng)
        for number, index in enumerate(picked, start=1)
    )
    return DemoPlan(
        settings=settings,
        hours=_hours(),
        tables=TABLES,
        layout=LAYOUT,
        bookings=planned,
        combinations=COMBINATIONS,
    )


def _hours() -> OpeningHours:
    both = (LUNCH, DINNER)
    return OpeningHours(
        tuesday=both, wednesday=both, thursday=both, friday=both, saturday=both, sunday=both
    )


def _booking(
    number: int, day: date, shift: Shift, settings: SlotSettings, rng: random.Random
) -> DemoBooking:
    party_size = rng.choices(list(_PARTY_SIZES), weights=list(_PARTY_SIZES.values()))[0]
    source = rng.choices(list(_SOURCES), weights=list(_SOURCES.values()))[0]
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    phone = f"+44 7700 900{rng.randrange(1000):03d}"
    email = f"{first}.{last}".lower().replace("'", "") + "@example.com"
    return DemoBooking(
        number=number,
        date=day,
        time=_start(shift, settings, party_size, rng),
        party_size=party_size,
        guest_name=f"{first} {last}",
        guest_phone=phone if source != "online" or rng.random() < 0.7 else None,
        guest_email=email if source == "online" or rng.random() < 0.4 else None,
        special_requests=rng.choice(_REQUESTS) if rng.random() < 0.15 else None,
        source=source,
        cancelled=rng.random() < 0.06,
    )


def _start(shift: Shift, settings: SlotSettings, party_size: int, rng: random.Random) -> time:
    """A start on the grid whose turn ends by closing, likelier near the shift's peak."""
    opens = shift.opens.hour * 60 + shift.opens.minute
    last = shift.closes.hour * 60 + shift.closes.minute - settings.turn_minutes(party_size)
    peak = _PEAKS[shift].hour * 60 + _PEAKS[shift].minute
    starts = list(range(opens, last + 1, settings.interval_minutes))
    weights = [1.0 / (1.0 + abs(start - peak) / 30) for start in starts]
    minutes = rng.choices(starts, weights=weights)[0]
    return time(minutes // 60, minutes % 60)
