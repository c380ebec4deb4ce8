"""Every event type has a stable name and survives the trip through the codec; every
decider's evolve takes any history of its events without raising."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking_core.codec import Event, codec
from booking_core.domain.events import (
    ALL_EVENTS,
    BookingEvent,
    ClosureAdded,
    PacingEvent,
    PersonEvent,
    ServiceDayEvent,
    SlugEvent,
    TableEvent,
    VenueEvent,
    WaitlistEvent,
)
from booking_core.domain.folding import (
    BOOKING,
    PERSON,
    SERVICE_DAY,
    SLUG,
    TABLE,
    VENUE_KIND,
    WAITLIST,
    StreamKind,
)
from booking_core.store import RecordedEvent
from tests.unit.domain.strategies import events_of, struct


def stored(event: Event) -> RecordedEvent:
    new = codec.encode(event)
    return RecordedEvent(
        position=1,
        tx=1,
        stream_id="booking-b-ada",
        version=1,
        type=new.type,
        schema_version=new.schema_version,
        data=new.data,
        metadata=new.metadata,
        recorded_at=datetime(2026, 12, 24, 19, tzinfo=UTC),
    )


def test_every_event_is_registered_under_its_class_name() -> None:
    assert codec.type_names == {cls.__name__ for cls in ALL_EVENTS}
    for cls in ALL_EVENTS:
        assert cls.__struct_config__.tag == cls.__name__


def test_every_stream_kinds_events_are_all_registered() -> None:
    unions: list[Any] = [
        VenueEvent,
        TableEvent,
        ServiceDayEvent,
        BookingEvent,
        SlugEvent,
        PacingEvent,
        WaitlistEvent,
        PersonEvent,
    ]
    kinds = {cls for union in unions for cls in getattr(union, "__args__", (union,))}
    assert kinds == set(ALL_EVENTS)


@pytest.mark.parametrize("event_type", ALL_EVENTS, ids=lambda cls: cls.__name__)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_event_round_trips_through_the_codec(
    event_type: type[Event], data: st.DataObject
) -> None:
    event = data.draw(struct(event_type))

    assert codec.decode(stored(event)) == event


@pytest.mark.parametrize(
    ("kind", "union"),
    [
        pytest.param(VENUE_KIND, VenueEvent, id="the venue folds any history"),
        pytest.param(TABLE, TableEvent, id="a table folds any history"),
        pytest.param(SERVICE_DAY, ServiceDayEvent, id="a service day folds any history"),
        pytest.param(BOOKING, BookingEvent, id="a booking folds any history"),
        pytest.param(SLUG, SlugEvent, id="a slug folds any history"),
        pytest.param(WAITLIST, WaitlistEvent, id="a waitlist folds any history"),
        pytest.param(PERSON, PersonEvent, id="a guest profile folds any history"),
    ],
)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_evolve_never_raises(kind: StreamKind[Any], union: Any, data: st.DataObject) -> None:
    history = data.draw(st.lists(events_of(union), max_size=12))

    once = kind.fold(history)
    replayed = kind.fold(codec.decode(stored(event)) for event in history)

    assert once == replayed


def test_an_event_in_the_wrong_kind_of_stream_is_refused_loudly() -> None:
    closed = ClosureAdded(date=date(2026, 12, 25), reason="Christmas")

    with pytest.raises(ValueError, match="does not belong"):
        TABLE.fold([closed])
