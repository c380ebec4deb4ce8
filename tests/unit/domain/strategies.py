"""Hypothesis strategies for any domain event, built from the events' own field types.

Ids come from a handful of names so arbitrary histories collide the way real ones do
(the same booking placed, changed and released); everything else is as wild as its type
allows.
"""

from __future__ import annotations

import types
from datetime import UTC, date, datetime, time
from typing import Any, Literal, Union, get_args, get_origin

import msgspec
from hypothesis import strategies as st

from booking_core.codec import Event

IDS = ("a", "b", "c")


def _for_type(annotation: Any, name: str = "") -> st.SearchStrategy[Any]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return st.one_of(*(_for_type(arg, name) for arg in get_args(annotation)))
    if origin is Literal:
        return st.sampled_from(get_args(annotation))
    if origin is tuple:
        item, _ = get_args(annotation)
        return st.lists(_for_type(item, name), max_size=3).map(tuple)
    if annotation is type(None):
        return st.none()
    if annotation is str:
        return st.sampled_from(IDS) if name.endswith(("_id", "_ids")) else st.text(max_size=12)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(min_value=-(2**31), max_value=2**31)
    if annotation is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if annotation is datetime:
        return st.datetimes(timezones=st.just(UTC))
    if annotation is date:
        return st.dates()
    if annotation is time:
        return st.times()
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return struct(annotation)
    raise TypeError(f"no strategy for {annotation!r}")


def struct(cls: type[msgspec.Struct]) -> st.SearchStrategy[Any]:
    fields = {
        field.name: _for_type(field.type, field.name) for field in msgspec.structs.fields(cls)
    }
    return st.builds(cls, **fields)


def events_of(union: Any) -> st.SearchStrategy[Event]:
    """Any event of a union of event types (`VenueEvent`, `BookingEvent`, ...)."""
    return st.one_of(*(struct(cls) for cls in get_args(union)))
