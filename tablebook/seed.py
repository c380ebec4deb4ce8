"""`tablebook seed-demo`: the demo restaurants, written through the command handlers.

Two venues in two time zones (`DEMO_VENUES`): the default venue in London (its zone is
the `TABLEBOOK_TIME_ZONE` setting) and another in New York, each with its own floor,
hours and bookings. The plan comes from `tablebook.demo_plan`; this module only carries
it out, as an admin and a guest would through the API, so every event is one the domain
decided:

- a venue is opened in the directory unless it is already (a default venue of before
  the directory keeps its entry); one that already has tables, hours or layouts is left
  as it is (and the summary says so): the seed never reshapes a restaurant someone set up;
- every command has a fixed id (and each venue's bookings ids of their own), so a second
  run is answered with duplicates and writes nothing;
- a booking refused because its slot is taken (or for any other rule of the venue as it
  stands) is skipped and counted, never retried elsewhere.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from api.accounts import UserStore
from booking_core.domain.commands import (
    ActivateLayout,
    Actor,
    AddTable,
    BookTable,
    CancelBooking,
    ChangeSlotSettings,
    CreateLayout,
    DefineTableCombination,
    OpenVenue,
    SetOpeningHours,
    VenueCommand,
)
from booking_core.domain.errors import (
    DomainError,
    NoTableAvailable,
    TableAlreadyBooked,
    VenueAlreadyOpen,
)
from booking_core.domain.streams import DEFAULT_VENUE_ID
from booking_core.domain.time_rules import local_today
from booking_core.domain.venue import VenueState
from booking_core.handlers import (
    add_table,
    book_table,
    cancel_booking,
    change_registry,
    change_venue,
    load_venue,
)
from booking_core.store import EventStore
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import open_pool
from tablebook.demo_plan import DemoBooking, DemoPlan, demo_id, demo_plan

__all__ = [
    "DEMO_ADMIN_EMAIL",
    "DEMO_GUEST_ID",
    "DEMO_VENUES",
    "DemoVenue",
    "SeedSummary",
    "demo_admin",
    "is_configured",
    "plan_for",
    "seed_demo",
    "seed_demo_in",
    "seed_with_progress",
    "steps",
]

DEMO_ADMIN_EMAIL = "admin@tablebook.local"
DEMO_GUEST_ID = "usr_demo_guest"
"""Whose online demo bookings are: an id with no account behind it, nobody signs in as it."""
DEMO_ADMIN_ID = "usr_demo_admin"
"""Who takes the demo's phone bookings when there is no demo admin account (yet)."""

Advance = Callable[[int], None]
"""Told how many more steps are done."""


@dataclass(frozen=True, slots=True)
class DemoVenue:
    venue_id: str
    name: str
    slug: str
    address: str
    time_zone: str | None
    """None: the deployment's demo time zone (`TABLEBOOK_TIME_ZONE`)."""

    def ids(self, label: str) -> str:
        """The demo's id for `label` in this venue (the default venue's are the ids the
        single-venue demo always had)."""
        return demo_id(label if self.venue_id == DEFAULT_VENUE_ID else f"{self.venue_id}/{label}")


DEMO_VENUES: tuple[DemoVenue, ...] = (
    DemoVenue(DEFAULT_VENUE_ID, "The Riverside", "london", "1 Bankside, London SE1", None),
    DemoVenue(
        f"ven_{demo_id('venue-new-york').replace('-', '')}",
        "Hudson & Vine",
        "new-york",
        "210 Hudson Street, New York, NY 10013",
        "America/New_York",
    ),
)
"""The demo's venues: London, the default venue, and New York."""


@dataclass(slots=True)
class SeedSummary:
    venue_was_configured: bool = False
    venue: str = "The Riverside"
    tables: int = 0
    areas: int = 0
    layout: str | None = None
    made: int = 0
    already: int = 0
    cancelled: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        venue = (
            "venue already configured, left as it is"
            if self.venue_was_configured
            else f"{self.tables} tables in {self.areas} areas, layout {self.layout!r} active"
        )
        skipped = sum(self.skipped.values())
        reasons = ", ".join(f"{code} {n}" for code, n in sorted(self.skipped.items()))
        return (
            f"{self.venue}: {venue}; bookings: {self.made} made, {self.already} already"
            f" there, {skipped} skipped{f' ({reasons})' if reasons else ''},"
            f" {self.cancelled} cancelled"
        )


def is_configured(venue: VenueState) -> bool:
    """Whether someone (the seed or an admin) has set the venue up already."""
    return bool(venue.tables or venue.layouts or any(venue.hours.by_weekday()))


def plan_for(now: datetime, time_zone: str, seed: int = 7) -> DemoPlan:
    """The demo plan whose bookings start tomorrow, venue-local."""
    return demo_plan(
        local_today(now, time_zone) + timedelta(days=1), time_zone=time_zone, seed=seed
    )


def steps(plan: DemoPlan, venue: VenueState) -> int:
    """How many commands `seed_demo` will send: for a progress bar."""
    setup = 0 if is_configured(venue) else len(plan.tables) + len(plan.combinations) + 4
    return setup + len(plan.bookings)


async def seed_demo(
    store: EventStore,
    plan: DemoPlan,
    *,
    admin: Actor,
    guest: Actor,
    now: datetime,
    progress: Advance = lambda _: None,
    at: DemoVenue = DEMO_VENUES[0],
) -> SeedSummary:
    """Open the venue `at` (unless it is), set it up (unless it is already) and place the
    plan's bookings."""
    await _open(store, at, plan, admin, now)
    venue, _ = await load_venue(store, at.venue_id)
    summary = SeedSummary(venue_was_configured=is_configured(venue), venue=at.name)
    if not summary.venue_was_configured:
        await _set_up_venue(store, plan, admin, now, progress, at)
        summary.layout = plan.layout.name
    for booking in plan.bookings:
        await _place(store, booking, admin if booking.by_admin else guest, now, summary, at)
        progress(1)
    venue, _ = await load_venue(store, at.venue_id)
    summary.tables = len(venue.tables)
    summary.areas = len({area.name for layout in venue.layouts.values() for area in layout.areas})
    return summary


async def _open(
    store: EventStore, at: DemoVenue, plan: DemoPlan, admin: Actor, now: datetime
) -> None:
    """Open the venue in the directory; one open already (by this seed, or a default venue
    of before the directory) keeps its entry."""
    command = OpenVenue(
        venue_id=at.venue_id,
        command_id=at.ids("command-open"),
        actor=admin,
        now=now,
        name=at.name,
        slug=at.slug,
        time_zone=plan.settings.time_zone,
        address=at.address,
    )
    with contextlib.suppress(VenueAlreadyOpen):
        await change_registry(store, command)


async def _set_up_venue(
    store: EventStore,
    plan: DemoPlan,
    admin: Actor,
    now: datetime,
    progress: Advance,
    at: DemoVenue,
) -> None:
    def command_id(label: str) -> str:
        return at.ids(f"command-{label}")

    venue_commands: list[VenueCommand] = [
        ChangeSlotSettings(
            command_id=command_id("slot-settings"),
            actor=admin,
            venue_id=at.venue_id,
            now=now,
            interval_minutes=plan.settings.interval_minutes,
            turn_times=plan.settings.turn_times,
            buffer_minutes=plan.settings.buffer_minutes,
            min_lead_minutes=plan.settings.min_lead_minutes,
            max_days_ahead=plan.settings.max_days_ahead,
            time_zone=plan.settings.time_zone,
        ),
        SetOpeningHours(
            command_id=command_id("hours"),
            actor=admin,
            venue_id=at.venue_id,
            now=now,
            hours=plan.hours,
        ),
    ]
    for command in venue_commands:
        await change_venue(store, command)
        progress(1)
    for table in plan.tables:
        await add_table(
            store,
            AddTable(
                command_id=command_id(f"table-{table.label}"),
                actor=admin,
                venue_id=at.venue_id,
                now=now,
                table_id=table.table_id,
                name=table.name,
                capacity=table.capacity,
                min_capacity=table.min_capacity,
                area=table.area,
                x=table.x,
                y=table.y,
                width=table.width,
                height=table.height,
                shape=table.shape,
            ),
        )
        progress(1)
    layout = plan.layout
    for command in (
        CreateLayout(
            command_id=command_id("layout"),
            actor=admin,
            venue_id=at.venue_id,
            now=now,
            layout_id=layout.layout_id,
            name=layout.name,
            tables=tuple(table.placed() for table in plan.tables),
            areas=layout.areas,
            canvas=layout.canvas,
        ),
        ActivateLayout(
            command_id=command_id("layout-active"),
            actor=admin,
            venue_id=at.venue_id,
            now=now,
            layout_id=layout.layout_id,
        ),
    ):
        await change_venue(store, command)
        progress(1)
    for combination in plan.combinations:
        await change_venue(
            store,
            DefineTableCombination(
                command_id=command_id(f"combination-{combination.label}"),
                actor=admin,
                venue_id=at.venue_id,
                now=now,
                combination_id=combination.combination_id,
                table_ids=combination.table_ids,
                min_capacity=combination.min_capacity,
                capacity=combination.capacity,
                name=combination.name,
            ),
        )
        progress(1)


async def _place(
    store: EventStore,
    booking: DemoBooking,
    actor: Actor,
    now: datetime,
    summary: SeedSummary,
    at: DemoVenue,
) -> None:
    try:
        result = await book_table(
            store,
            BookTable(
                command_id=at.ids(f"command-book-{booking.number}"),
                actor=actor,
                now=now,
                venue_id=at.venue_id,
                booking_id=at.ids(f"booking-{booking.number}"),
                date=booking.date,
                time=booking.time,
                party_size=booking.party_size,
                guest_name=booking.guest_name,
                guest_phone=booking.guest_phone,
                guest_email=booking.guest_email,
                special_requests=booking.special_requests,
                source=booking.source,
            ),
        )
    except (NoTableAvailable, TableAlreadyBooked):
        summary.skipped["slot taken"] += 1
        return
    except DomainError as error:
        summary.skipped[error.code] += 1
        return
    if result.duplicate:
        summary.already += 1
    else:
        summary.made += 1
    if booking.cancelled:
        cancelled = await cancel_booking(
            store,
            CancelBooking(
                command_id=at.ids(f"command-cancel-{booking.number}"),
                actor=actor,
                now=now,
                venue_id=at.venue_id,
                booking_id=at.ids(f"booking-{booking.number}"),
                reason="Plans changed",
            ),
        )
        summary.cancelled += 0 if cancelled.duplicate else 1


async def demo_admin(pool: AsyncConnectionPool[Any]) -> Actor:
    """The demo admin account (`DEMO_ADMIN_EMAIL`) as an actor, if it exists and is an admin."""
    found = await UserStore(pool).credentials(DEMO_ADMIN_EMAIL)
    user_id = found[0].id if found is not None and found[0].is_admin else DEMO_ADMIN_ID
    return Actor(user_id=user_id, role="admin")


async def seed_with_progress(
    store: EventStore, *, time_zone: str, admin: Actor, now: datetime | None = None
) -> list[SeedSummary]:
    """`seed_demo` of today's plan at every demo venue (`time_zone` is London's), with a
    progress bar on stderr when it is a terminal."""
    now = now or datetime.now(UTC)
    plans = [
        (at, plan_for(now, at.time_zone or time_zone, seed=7 + n))
        for n, at in enumerate(DEMO_VENUES)
    ]
    total = 0
    for at, plan in plans:
        venue, _ = await load_venue(store, at.venue_id)
        total += steps(plan, venue)
    console = Console(stderr=True)
    with Progress(
        TextColumn("seeding the demo restaurants"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    ) as bar:
        task = bar.add_task("seed", total=total)
        return [
            await seed_demo(
                store,
                plan,
                admin=admin,
                guest=Actor(user_id=DEMO_GUEST_ID),
                now=now,
                progress=lambda n: bar.advance(task, n),
                at=at,
            )
            for at, plan in plans
        ]


async def seed_demo_in(database_url: str, *, time_zone: str) -> list[SeedSummary]:
    """`seed_with_progress` with a pool of its own: for the command line."""
    pool = await open_pool(database_url, min_size=1, max_size=4)
    try:
        store = PostgresEventStore(pool, database_url)
        return await seed_with_progress(store, time_zone=time_zone, admin=await demo_admin(pool))
    finally:
        await pool.close()
