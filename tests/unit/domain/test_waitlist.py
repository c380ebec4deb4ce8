"""The waitlist, rule by rule: given the Harbour Bistro's list for Christmas Eve, when the
host adds, notifies, seats or removes a party, then these events, or the rule broken."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from booking_core.domain import placement
from booking_core.domain import waitlist as decider
from booking_core.domain.commands import (
    Actor,
    AddToWaitlist,
    NotifyWaitlistGuest,
    RemoveFromWaitlist,
    SeatFromWaitlist,
    WaitlistCommand,
)
from booking_core.domain.decision import Decision
from booking_core.domain.errors import (
    DomainError,
    Forbidden,
    InvalidWaitlistEntry,
    NoTableAvailable,
    WaitlistEntryAlreadyExists,
    WaitlistEntryClosed,
    WaitlistEntryNotFound,
)
from booking_core.domain.events import (
    BookingPlaced,
    BookingSeated,
    TableReserved,
    WaitlistEntryAdded,
    WaitlistEntryRemoved,
    WaitlistEntrySeated,
    WaitlistGuestNotified,
)
from booking_core.domain.values import OpeningHours, Shift
from booking_core.domain.waitlist import Waitlist
from tests.support.scope import STREAMS, TEST_VENUE
from tests.unit.domain.world import ADA, ADMIN, CHRISTMAS_EVE, HOURS, World, bistro, book

EVE_ARRIVAL = datetime(2026, 12, 24, 19, 2, tzinfo=UTC)
LIST = STREAMS.waitlist(CHRISTMAS_EVE)
ADA_ENTRY = decider.entry_id_for(CHRISTMAS_EVE, "ada")
GRACE_ENTRY = decider.entry_id_for(CHRISTMAS_EVE, "grace")


def add(
    entry_id: str = ADA_ENTRY,
    *,
    party_size: int = 2,
    guest_name: str = "Ada Lovelace",
    quote: int | None = 20,
    now: datetime = EVE_ARRIVAL,
    service_date: date = CHRISTMAS_EVE,
    actor: Actor = ADMIN,
) -> AddToWaitlist:
    return AddToWaitlist(
        venue_id=TEST_VENUE,
        command_id=f"add-{entry_id}",
        actor=actor,
        now=now,
        entry_id=entry_id,
        service_date=service_date,
        party_size=party_size,
        guest_name=guest_name,
        guest_phone="+44 20 7946 0000",
        notes="high chair",
        quoted_wait_minutes=quote,
        token_hash="c0ffee",
    )


def notify(entry_id: str = ADA_ENTRY, now: datetime = EVE_ARRIVAL) -> NotifyWaitlistGuest:
    return NotifyWaitlistGuest(
        venue_id=TEST_VENUE, command_id="notify", actor=ADMIN, now=now, entry_id=entry_id
    )


def remove(entry_id: str = ADA_ENTRY, reason: str = "went to the pub") -> RemoveFromWaitlist:
    return RemoveFromWaitlist(
        venue_id=TEST_VENUE,
        command_id="remove",
        actor=ADMIN,
        now=EVE_ARRIVAL + timedelta(minutes=10),
        entry_id=entry_id,
        reason=reason,
    )


def seat_command(
    entry_id: str = ADA_ENTRY,
    *,
    booking_id: str = "b-walk-in",
    table_ids: tuple[str, ...] = (),
    now: datetime = EVE_ARRIVAL + timedelta(minutes=25),
) -> SeatFromWaitlist:
    return SeatFromWaitlist(
        venue_id=TEST_VENUE,
        command_id=f"seat-{booking_id}",
        actor=ADMIN,
        now=now,
        entry_id=entry_id,
        booking_id=booking_id,
        table_ids=table_ids,
    )


def the_list(world: World) -> Waitlist:
    state: Waitlist = world.state(LIST)
    return state


def on_list(world: World, command: WaitlistCommand) -> Decision:
    """Decide a command about the list alone, as the handler does, and apply it."""
    events = decider.decide(command, the_list(world))
    return world.apply(Decision(events={LIST: tuple(events)}, reads=frozenset({LIST})))


def seat(world: World, command: SeatFromWaitlist) -> Decision:
    """Decide seating from the list as the handler does: the walk-in, then the list."""
    booking = decider.walk_in(command, the_list(world), "Europe/London")
    placed = placement.decide_first_free(
        booking,
        booking=world.booking(command.booking_id),
        venue=world.venue,
        tables=world.tables,
        days=world.days,
    )
    return world.apply(decider.seat(command, the_list(world), placed))


def test_a_party_joins_the_list_with_its_quote() -> None:
    decision = on_list(bistro(), add())

    assert decision.events[LIST] == (
        WaitlistEntryAdded(
            entry_id=ADA_ENTRY,
            service_date=CHRISTMAS_EVE,
            party_size=2,
            guest_name="Ada Lovelace",
            guest_phone="+44 20 7946 0000",
            notes="high chair",
            quoted_wait_minutes=20,
            token_hash="c0ffee",
            added_at=EVE_ARRIVAL,
            added_by=ADMIN.user_id,
        ),
    )


def test_parties_wait_in_the_order_they_came_and_one_that_leaves_frees_its_place() -> None:
    world = bistro()
    on_list(world, add(ADA_ENTRY))
    on_list(world, add(GRACE_ENTRY, guest_name="Grace Hopper"))
    assert the_list(world).position(GRACE_ENTRY) == 2

    on_list(world, remove(ADA_ENTRY))

    assert the_list(world).position(GRACE_ENTRY) == 1
    assert the_list(world).position(ADA_ENTRY) is None


def test_telling_a_party_its_table_is_ready_keeps_its_place_and_may_be_repeated() -> None:
    world = bistro()
    on_list(world, add())

    first = on_list(world, notify())
    again = on_list(world, notify(now=EVE_ARRIVAL + timedelta(minutes=5)))

    assert first.events[LIST] == (
        WaitlistGuestNotified(
            entry_id=ADA_ENTRY,
            service_date=CHRISTMAS_EVE,
            party_size=2,
            guest_name="Ada Lovelace",
            guest_phone="+44 20 7946 0000",
            notified_at=EVE_ARRIVAL,
            notified_by=ADMIN.user_id,
        ),
    )
    assert len(again.events[LIST]) == 1
    assert the_list(world).position(ADA_ENTRY) == 1


def test_a_removal_records_its_reason() -> None:
    world = bistro()
    on_list(world, add())

    decision = on_list(world, remove(reason="  went to the pub "))

    assert decision.events[LIST] == (
        WaitlistEntryRemoved(
            entry_id=ADA_ENTRY,
            service_date=CHRISTMAS_EVE,
            reason="went to the pub",
            removed_at=EVE_ARRIVAL + timedelta(minutes=10),
            removed_by=ADMIN.user_id,
        ),
    )


def test_seating_from_the_list_places_a_seated_walk_in_and_the_party_leaves_the_list() -> None:
    world = bistro()
    on_list(world, add(party_size=2))
    seated_at = EVE_ARRIVAL + timedelta(minutes=25)

    decision = seat(world, seat_command(table_ids=("t-window",), now=seated_at))

    booking_events = decision.events[STREAMS.booking("b-walk-in")]
    placed = next(e for e in booking_events if isinstance(e, BookingPlaced))
    assert (placed.source, placed.party_size, placed.guest_name) == ("walk_in", 2, "Ada Lovelace")
    assert placed.special_requests == "high chair"
    assert any(isinstance(e, BookingSeated) for e in booking_events)
    day = decision.events[STREAMS.service_day("t-window", CHRISTMAS_EVE)]
    assert [type(e) for e in day] == [TableReserved]
    assert decision.events[LIST] == (
        WaitlistEntrySeated(
            entry_id=ADA_ENTRY,
            service_date=CHRISTMAS_EVE,
            booking_id="b-walk-in",
            table_ids=("t-window",),
            party_size=2,
            seated_at=seated_at,
            waited_minutes=25,
            quoted_wait_minutes=20,
        ),
    )
    assert LIST in decision.reads
    assert the_list(world).entries[ADA_ENTRY].status == "seated"


def test_without_tables_named_the_smallest_free_table_that_fits_is_taken() -> None:
    world = bistro()
    on_list(world, add(party_size=2))

    decision = seat(world, seat_command())

    (seated,) = decision.events[LIST]
    assert isinstance(seated, WaitlistEntrySeated)
    assert seated.table_ids == ("t-bar",)


def test_a_party_is_seated_from_the_list_once() -> None:
    world = bistro()
    on_list(world, add())
    seat(world, seat_command(booking_id="b-first"))

    with pytest.raises(WaitlistEntryClosed):
        seat(world, seat_command(booking_id="b-second"))
    assert world.booking("b-second").status == "none"


def test_when_no_table_is_free_nothing_changes_on_the_list() -> None:
    world = bistro((("t-bar", "BAR-2", 2, 1),))
    world.book(book("b-grace", at=time(19), table_ids=("t-bar",)))
    on_list(world, add())

    with pytest.raises(NoTableAvailable):
        seat(world, seat_command(now=datetime(2026, 12, 24, 19, 30, tzinfo=UTC)))
    assert the_list(world).position(ADA_ENTRY) == 1


def _seated(world: World) -> None:
    seat(world, seat_command())


def _removed(world: World) -> None:
    on_list(world, remove())


CLOSED = [
    pytest.param(_seated, notify(), id="a seated party is not told again its table is ready"),
    pytest.param(_removed, notify(), id="a removed party is not told its table is ready"),
    pytest.param(_seated, remove(), id="a seated party cannot be removed"),
    pytest.param(_removed, remove(), id="a removed party cannot be removed again"),
]


@pytest.mark.parametrize(("before", "command"), CLOSED)
def test_a_party_that_left_the_list_is_closed(before: object, command: WaitlistCommand) -> None:
    world = bistro()
    on_list(world, add())
    assert callable(before)
    before(world)

    with pytest.raises(WaitlistEntryClosed):
        on_list(world, command)


REFUSALS = [
    pytest.param(add(actor=ADA), Forbidden, id="a guest may not put a party on the list"),
    pytest.param(add(party_size=0), InvalidWaitlistEntry, id="a party has at least one person"),
    pytest.param(add(party_size=101), InvalidWaitlistEntry, id="a party has at most 100"),
    pytest.param(add(guest_name="  "), InvalidWaitlistEntry, id="a party has a name"),
    pytest.param(add(quote=-5), InvalidWaitlistEntry, id="a quote is never negative"),
    pytest.param(
        add(service_date=CHRISTMAS_EVE + timedelta(days=1)),
        InvalidWaitlistEntry,
        id="an entry id names its list's day",
    ),
    pytest.param(notify(GRACE_ENTRY), WaitlistEntryNotFound, id="an unknown party is not found"),
    pytest.param(remove(reason=" "), InvalidWaitlistEntry, id="a removal gives its reason"),
]


@pytest.mark.parametrize(("command", "error"), REFUSALS)
def test_refusals(command: WaitlistCommand, error: type[DomainError]) -> None:
    world = bistro()
    if not isinstance(command, AddToWaitlist):
        on_list(world, add())

    with pytest.raises(error):
        on_list(world, command)


def test_the_same_entry_is_added_once() -> None:
    world = bistro()
    on_list(world, add())

    with pytest.raises(WaitlistEntryAlreadyExists):
        on_list(world, add())


@pytest.mark.parametrize(
    "entry_id",
    [
        "wl-20261324-x",
        "booking-1",
        "wl-2026122-x",
        "wl-20261224-",
        "wl-\u0662\u0660\u0662\u0666\u0661\u0662\u0662\u0664-x",  # Arabic-Indic digits
    ],
)
def test_an_id_that_names_no_day_is_no_entry(entry_id: str) -> None:
    with pytest.raises(WaitlistEntryNotFound):
        decider.service_date_of(entry_id)


def test_an_entry_id_names_its_service_day() -> None:
    assert decider.service_date_of(decider.entry_id_for(CHRISTMAS_EVE, "x_1")) == CHRISTMAS_EVE


def test_after_midnight_a_walk_in_waits_on_last_nights_list() -> None:
    late = datetime(2026, 12, 5, 0, 30, tzinfo=UTC)  # Saturday 00:30: Friday's shift to 01:00

    assert decider.service_date_at(HOURS, "Europe/London", late) == date(2026, 12, 4)


def test_while_closed_a_walk_in_waits_on_the_calendar_day() -> None:
    morning = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)
    closed_all_week = OpeningHours.every_day(Shift(opens=time(17), closes=time(18)))

    assert decider.service_date_at(closed_all_week, "Europe/London", morning) == CHRISTMAS_EVE
