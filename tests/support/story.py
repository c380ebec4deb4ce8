"""A restaurant's history written as events, for read-side tests: the venue opens, the
floor is laid, guests book, move, cancel, sit down, leave or never come.

`Story` keeps just enough memory to write consistent events (which table a booking holds,
on which service date) and hands back `StreamAppend`s for the real store. It decides
nothing: the deciders have their own tests. Bookings never overlap because each table's
day is cut into fixed two-hour sittings.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking_core.codec import Event, EventMetadata, codec
from booking_core.domain.events import (
    BookingCancelled,
    BookingChanged,
    BookingCompleted,
    BookingMarkedNoShow,
    BookingPlaced,
    BookingSeated,
    ClosureAdded,
    GuestProfileNoted,
    GuestProfilesMerged,
    OpeningHoursChanged,
    PacingReleased,
    PacingTaken,
    PersonErased,
    SlotSettingsChanged,
    TableAdded,
    TableBlocked,
    TableCombinationDefined,
    TableCombinationRemoved,
    TableReleased,
    TableReserved,
    WaitlistEntryAdded,
    WaitlistEntryRemoved,
    WaitlistEntrySeated,
    WaitlistGuestNotified,
)
from booking_core.domain.streams import VenueStreams
from booking_core.domain.values import OpeningHours, PacingRule, Shift, TurnTime
from booking_core.store import ANY, NewEvent, StreamAppend
from booking_core.store.postgres import PostgresEventStore
from tests.support.scope import STREAMS

ZONE = "Europe/Amsterdam"
TZ = ZoneInfo(ZONE)
SITTINGS = (time(12, 0), time(14, 0), time(18, 0), time(20, 0))
TABLES = {  # id: (name, capacity, min_capacity, area)
    "T1": ("WINDOW-1", 2, 1, "window"),
    "T2": ("WINDOW-2", 2, 1, "window"),
    "T3": ("WINDOW-4", 4, 2, "window"),
    "T4": ("GARDEN-4", 4, 2, "garden"),
    "T5": ("GARDEN-6", 6, 3, "garden"),
    "T6": ("BOOTH-8", 8, 4, "booth"),
}


def guest_of(counter: int) -> str:
    """The email of the guest of the story's booking made at `counter`: seven guests come
    back, and the store resolves each email to one person of the venue."""
    return f"guest{counter % 7}@example.org"


async def tell_guest_profiles(
    store: PostgresEventStore,
    story: Story,
    venue_id: str,
    place: Callable[[list[StreamAppend]], list[StreamAppend]] = list,
) -> None:
    """Tag, note and merge the story's first guests at `venue_id`, then erase the second
    (its key deleted, `PersonErased` appended, as an erasure does). `place` moves the
    story's writes into the venue's streams when the story was not told there."""
    persons = await story_persons(store, venue_id)
    for writes in story.guest_profiles(persons):
        await store.append(place(writes))
    await store.erase({venue_id: [persons[1]]}, story.erased)


async def story_persons(store: PostgresEventStore, venue_id: str, count: int = 3) -> list[str]:
    """The venue's persons of the story's first `count` guests, as the store resolved
    them (for `Story.guest_profiles`)."""
    persons: list[str] = []
    for n in range(count):
        found = await store.persons_of([f"email:{guest_of(n)}"])
        persons += [person for venue, person in found if venue == venue_id]
    return persons


@dataclass
class _Held:
    table_id: str
    service_date: date
    sitting: time
    party_size: int
    status: str = "confirmed"
    guest: str = ""
    """The guest's email: who they are to the store."""


@dataclass
class Story:
    start: date = date(2026, 12, 1)
    days: int = 14
    now: datetime = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    seed: int = 7
    bookings: dict[str, _Held] = field(default_factory=dict)
    free: set[tuple[str, date, time]] = field(default_factory=set)
    counter: int = 0
    closed: set[date] = field(default_factory=set)
    streams: VenueStreams = STREAMS
    """The venue the story happens at (the suite's venue unless told)."""
    erased_guests: set[str] = field(default_factory=set)
    """The guests (emails) `erase` chose."""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.free = {
            (t, self.start + timedelta(days=d), s)
            for t in TABLES
            for d in range(self.days)
            for s in SITTINGS
        }

    def erase(self) -> tuple[str, str] | None:
        """A guest with bookings to erase, as `(venue_id, identity)`: the test erases the
        person the store resolved the identity to. Their later changes read as erased
        (they name that person); a booking they make afterwards is a new person's."""
        guests = {h.guest for h in self.bookings.values() if h.guest}
        left = sorted(guests - self.erased_guests)
        if not left:
            return None
        guest = self.rng.choice(left)
        self.erased_guests.add(guest)
        return self.streams.venue_id, f"email:{guest}"

    def _append(self, *parts: tuple[str, list[Event]]) -> list[StreamAppend]:
        meta = EventMetadata(user_id="u-staff", command_id=f"c-{self.counter}")
        self.counter += 1
        return [
            StreamAppend(stream, ANY, [codec.encode(e, meta) for e in events])
            for stream, events in parts
        ]

    def opening(self) -> list[list[StreamAppend]]:
        hours = OpeningHours.every_day(
            Shift(opens=time(12, 0), closes=time(16, 0)),
            Shift(opens=time(18, 0), closes=time(23, 0)),
        )
        writes = [
            self._append(
                (self.streams.venue, [OpeningHoursChanged(hours=hours, changed_at=self.now)])
            ),
            self._append(
                (
                    self.streams.venue,
                    [
                        SlotSettingsChanged(
                            interval_minutes=15,
                            turn_times=(
                                TurnTime(max_party_size=4, minutes=120),
                                TurnTime(max_party_size=8, minutes=120),
                            ),
                            buffer_minutes=0,
                            min_lead_minutes=60,
                            max_days_ahead=90,
                            time_zone=ZONE,
                            pacing=(PacingRule(per_minutes=30, max_covers=60),),
                        )
                    ],
                )
            ),
        ]
        for table_id, (name, capacity, minimum, area) in TABLES.items():
            added = TableAdded(
                table_id=table_id,
                name=name,
                capacity=capacity,
                min_capacity=minimum,
                area=area,
                added_at=self.now,
            )
            writes.append(self._append((self.streams.table(table_id), [added])))
        combined = [
            TableCombinationDefined(
                combination_id="c-windows",
                table_ids=("T1", "T2"),
                min_capacity=3,
                capacity=4,
                name="WINDOW-1+2",
                defined_at=self.now,
            ),
            TableCombinationDefined(
                combination_id="c-garden",
                table_ids=("T4", "T5"),
                min_capacity=7,
                capacity=10,
                defined_at=self.now,
            ),
            TableCombinationDefined(
                combination_id="c-gone",
                table_ids=("T3", "T4"),
                min_capacity=5,
                capacity=8,
                defined_at=self.now,
            ),
            TableCombinationRemoved(combination_id="c-gone", reason="removed"),
        ]
        writes.append(self._append((self.streams.venue, combined)))
        return writes

    def _slot(self, day: date, sitting: time) -> tuple[datetime, datetime]:
        starts = datetime.combine(day, sitting, TZ).astimezone(UTC)
        return starts, starts + timedelta(minutes=120)

    def _reserved(self, booking_id: str, held: _Held) -> TableReserved:
        starts, ends = self._slot(held.service_date, held.sitting)
        return TableReserved(
            table_id=held.table_id,
            service_date=held.service_date,
            booking_id=booking_id,
            date=held.service_date,
            time=held.sitting,
            end_date=held.service_date,
            end_time=(
                datetime.combine(held.service_date, held.sitting) + timedelta(hours=2)
            ).time(),
            starts_at=starts,
            ends_at=ends,
            party_size=held.party_size,
        )

    def _released(self, booking_id: str, held: _Held, reason: str) -> TableReleased:
        r = self._reserved(booking_id, held)
        return TableReleased(
            table_id=r.table_id,
            service_date=r.service_date,
            booking_id=booking_id,
            reason=reason,  # type: ignore[arg-type]
            date=r.date,
            time=r.time,
            end_date=r.end_date,
            end_time=r.end_time,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            party_size=r.party_size,
            released_at=self.now,
        )

    def _paced(self, booking_id: str, held: _Held) -> PacingTaken:
        return PacingTaken(
            booking_id=booking_id,
            service_date=held.service_date,
            local_start=datetime.combine(held.service_date, held.sitting),
            starts_at=self._slot(held.service_date, held.sitting)[0],
            covers=held.party_size,
        )

    def place(self, guest: str = "Ada Lovelace") -> list[StreamAppend] | None:
        if not self.free:
            return None
        table_id, day, sitting = self.rng.choice(sorted(self.free))
        self.free.discard((table_id, day, sitting))
        capacity, minimum = TABLES[table_id][1], TABLES[table_id][2]
        held = _Held(table_id, day, sitting, self.rng.randint(minimum, capacity))
        booking_id = f"b{self.counter:05d}"
        held.guest = guest_of(self.counter)
        self.bookings[booking_id] = held
        reserved = self._reserved(booking_id, held)
        placed = BookingPlaced(
            booking_id=booking_id,
            table_ids=(table_id,),
            service_date=day,
            date=day,
            time=sitting,
            end_date=reserved.end_date,
            end_time=reserved.end_time,
            starts_at=reserved.starts_at,
            ends_at=reserved.ends_at,
            party_size=held.party_size,
            duration_minutes=120,
            guest_name=f"{guest} {booking_id}",
            guest_phone="+44 20 7946 0000",
            guest_email=held.guest,
            user_id=f"u-{self.rng.randint(1, 5)}",
            source=self.rng.choice(["online", "phone", "walk_in"]),
            placed_at=self.now,
            paced=True,
        )
        return self._append(
            (self.streams.booking(booking_id), [placed]),
            (self.streams.service_day(table_id, day), [reserved]),
            (self.streams.pacing(day), [self._paced(booking_id, held)]),
        )

    def _pick(self, status: str = "confirmed") -> tuple[str, _Held] | None:
        candidates = sorted(b for b, h in self.bookings.items() if h.status == status)
        if not candidates:
            return None
        booking_id = self.rng.choice(candidates)
        return booking_id, self.bookings[booking_id]

    def move(self) -> list[StreamAppend] | None:
        picked = self._pick()
        fitting = [
            f
            for f in sorted(self.free)
            if picked and TABLES[f[0]][2] <= picked[1].party_size <= TABLES[f[0]][1]
        ]
        if picked is None or not fitting:
            return None
        booking_id, old = picked
        table_id, day, sitting = self.rng.choice(fitting)
        self.free.discard((table_id, day, sitting))
        self.free.add((old.table_id, old.service_date, old.sitting))
        new = _Held(table_id, day, sitting, old.party_size, guest=old.guest)
        self.bookings[booking_id] = new
        reserved = self._reserved(booking_id, new)
        changed = BookingChanged(
            booking_id=booking_id,
            table_ids=(table_id,),
            service_date=day,
            date=day,
            time=sitting,
            end_date=reserved.end_date,
            end_time=reserved.end_time,
            starts_at=reserved.starts_at,
            ends_at=reserved.ends_at,
            party_size=new.party_size,
            duration_minutes=120,
            guest_name=f"Ada Lovelace {booking_id}",
            guest_phone="+44 20 7946 0000",
            guest_email=new.guest,
            changed_at=self.now,
            changed_by="u-staff",
            previous_table_ids=(old.table_id,),
            previous_service_date=old.service_date,
            previous_party_size=old.party_size,
            previous_duration_minutes=120,
            paced=True,
        )
        parts: list[tuple[str, list[Event]]] = [
            (self.streams.booking(booking_id), [changed]),
            (
                self.streams.service_day(old.table_id, old.service_date),
                [self._released(booking_id, old, "moved")],
            ),
        ]
        if (old.table_id, old.service_date) == (table_id, day):
            parts[1][1].append(reserved)
        else:
            parts.append((self.streams.service_day(table_id, day), [reserved]))
        if old.service_date != day:
            released = PacingReleased(
                booking_id=booking_id, service_date=old.service_date, reason="moved"
            )
            parts.append((self.streams.pacing(old.service_date), [released]))
        parts.append((self.streams.pacing(day), [self._paced(booking_id, new)]))
        return self._append(*parts)

    def finish(self, how: str) -> list[StreamAppend] | None:
        """`how`: cancel, seat, complete (a seated booking), no_show."""
        picked = self._pick("seated" if how == "complete" else "confirmed")
        if picked is None:
            return None
        booking_id, held = picked
        day_stream = self.streams.service_day(held.table_id, held.service_date)
        ids = (held.table_id,)
        if how == "seat":
            held.status = "seated"
            seated = BookingSeated(
                booking_id=booking_id,
                table_ids=ids,
                service_date=held.service_date,
                party_size=held.party_size,
                seated_at=self.now,
            )
            return self._append((self.streams.booking(booking_id), [seated]))
        self.free.add((held.table_id, held.service_date, held.sitting))
        event: Event
        if how == "cancel":
            held.status = "cancelled"
            event = BookingCancelled(
                booking_id=booking_id,
                table_ids=ids,
                service_date=held.service_date,
                starts_at=self._slot(held.service_date, held.sitting)[0],
                party_size=held.party_size,
                duration_minutes=120,
                cancelled_at=self.now,
                cancelled_by="u-staff",
            )
            reason = "cancelled"
        elif how == "complete":
            held.status = "completed"
            event = BookingCompleted(
                booking_id=booking_id,
                table_ids=ids,
                service_date=held.service_date,
                party_size=held.party_size,
                completed_at=self.now,
            )
            reason = "completed"
        else:
            held.status = "no_show"
            event = BookingMarkedNoShow(
                booking_id=booking_id,
                table_ids=ids,
                service_date=held.service_date,
                party_size=held.party_size,
                duration_minutes=120,
                marked_at=self.now,
            )
            reason = "no_show"
        parts: list[tuple[str, list[Event]]] = [
            (self.streams.booking(booking_id), [event]),
            (day_stream, [self._released(booking_id, held, reason)]),
        ]
        if how != "complete":
            given_back = PacingReleased(
                booking_id=booking_id,
                service_date=held.service_date,
                reason="cancelled" if how == "cancel" else "no_show",
            )
            parts.append((self.streams.pacing(held.service_date), [given_back]))
        return self._append(*parts)

    def block(self) -> list[StreamAppend] | None:
        if not self.free:
            return None
        table_id, day, sitting = self.rng.choice(sorted(self.free))
        self.free.discard((table_id, day, sitting))
        starts, ends = self._slot(day, sitting)
        block_id = f"k{self.counter:05d}"
        blocked = TableBlocked(
            table_id=table_id,
            service_date=day,
            block_id=block_id,
            start_date=day,
            start_time=sitting,
            end_date=day,
            end_time=(datetime.combine(day, sitting) + timedelta(hours=2)).time(),
            starts_at=starts,
            ends_at=ends,
            reason="Private party",
        )
        return self._append((self.streams.service_day(table_id, day), [blocked]))

    def closure(self, day: date) -> list[StreamAppend]:
        self.closed.add(day)
        return self._append((self.streams.venue, [ClosureAdded(date=day, reason="Staff party")]))

    def waitlist_evening(self, day: date | None = None) -> list[list[StreamAppend]]:
        """Four walk-in parties on one evening's waitlist: one is told its table is ready
        and seated, one gives up and is removed, two still wait (one of them told)."""
        day = day or self.start
        stream = self.streams.waitlist(day)
        at = datetime.combine(day, time(19, 0), tzinfo=TZ).astimezone(UTC)
        ids = [f"wl-{day:%Y%m%d}-{self.counter}{i}" for i in range(4)]
        writes = []
        for i, (entry_id, name) in enumerate(
            zip(ids, ("Ada", "Grace", "Alan", "Edsger"), strict=True)
        ):
            added = WaitlistEntryAdded(
                entry_id=entry_id,
                service_date=day,
                party_size=2 + i,
                guest_name=f"{name}, walk-in",
                guest_phone="+31 20 555 0000" if i % 2 else None,
                notes="by the window" if i == 0 else None,
                quoted_wait_minutes=10 * i,
                token_hash=f"hash-{entry_id}",
                added_at=at + timedelta(minutes=i),
                added_by="u-host",
            )
            writes.append(self._append((stream, [added])))

        def told(entry_id: str, party_size: int, minutes: int) -> WaitlistGuestNotified:
            return WaitlistGuestNotified(
                entry_id=entry_id,
                service_date=day,
                party_size=party_size,
                guest_name="walk-in",
                notified_at=at + timedelta(minutes=minutes),
                notified_by="u-host",
            )

        seated = WaitlistEntrySeated(
            entry_id=ids[0],
            service_date=day,
            booking_id=f"b-walk-in-{ids[0]}",
            table_ids=("T1",),
            party_size=2,
            seated_at=at + timedelta(minutes=14),
            waited_minutes=14,
            quoted_wait_minutes=0,
        )
        removed = WaitlistEntryRemoved(
            entry_id=ids[1],
            service_date=day,
            reason="went elsewhere",
            removed_at=at + timedelta(minutes=20),
            removed_by="u-host",
        )
        writes.append(self._append((stream, [told(ids[0], 2, 12), seated])))
        writes.append(self._append((stream, [removed, told(ids[2], 4, 21)])))
        return writes

    def guest_profiles(self, persons: Sequence[str]) -> list[list[StreamAppend]]:
        """Staff tag and note two guests and merge a third into the first. `persons`: the
        persons of the first three guests (`story_persons`); `erase_second` then erases
        the second as the store does."""
        first, second, third = persons

        def noted(person: str, tags: tuple[str, ...], notes: str) -> GuestProfileNoted:
            return GuestProfileNoted(
                person=person, tags=tags, notes=notes, noted_by="u-staff", noted_at=self.now
            )

        merged = GuestProfilesMerged(
            person=first, merged=third, merged_by="u-staff", merged_at=self.now
        )
        return [
            self._append((self.streams.person(first), [noted(first, ("VIP",), "window")])),
            self._append((self.streams.person(second), [noted(second, ("nuts",), "allergy")])),
            self._append(
                (self.streams.person(first), [merged]), (self.streams.person(third), [merged])
            ),
        ]

    def erased(self, venue_id: str, person: str) -> NewEvent:
        """The `PersonErased` the store appends when a person of the story is erased."""
        event = PersonErased(person=person, erased_at=self.now, erased_by="u-staff")
        return codec.encode(event, EventMetadata(user_id="u-staff"))

    def random_step(self) -> list[StreamAppend] | None:
        roll = self.rng.random()
        if roll < 0.5:
            return self.place()
        if roll < 0.62:
            return self.move()
        if roll < 0.72:
            return self.finish("cancel")
        if roll < 0.84:
            return self.finish("seat")
        if roll < 0.93:
            return self.finish("complete")
        if roll < 0.975:
            return self.finish("no_show")
        if roll < 0.99:
            return self.block()
        return self.closure(self.start + timedelta(days=self.rng.randrange(self.days)))
