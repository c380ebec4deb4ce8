"""What a decision across streams comes to: events per stream, and the streams it read.

A handler appends every stream of a `Decision` in one atomic append: the streams with
events, and the streams it only read (the venue's rules, a table's capacity, a
neighbouring service day) at the versions it read them, without events. If any of them
moved meanwhile, the append fails and the command is decided again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from booking_core.domain.events import Event

__all__ = ["Decision", "DecisionBuilder"]


@dataclass(frozen=True, slots=True)
class Decision:
    events: Mapping[str, tuple[Event, ...]] = field(default_factory=dict)
    """New events by stream id, in the order they are to be appended."""
    reads: frozenset[str] = frozenset()
    """Streams the decision depends on, whether or not it writes to them."""

    @property
    def is_empty(self) -> bool:
        return not any(self.events.values())

    @property
    def all_events(self) -> tuple[Event, ...]:
        return tuple(event for events in self.events.values() for event in events)

    def streams(self) -> list[str]:
        """Every stream to append, those with events first, in a stable order."""
        written = [stream_id for stream_id, events in self.events.items() if events]
        return written + sorted(self.reads - set(written))


class DecisionBuilder:
    def __init__(self) -> None:
        self._events: dict[str, list[Event]] = {}
        self._reads: set[str] = set()

    def add(self, stream_id: str, events: Iterable[Event]) -> None:
        self._events.setdefault(stream_id, []).extend(events)
        self._reads.add(stream_id)

    def read(self, *stream_ids: str) -> None:
        self._reads.update(stream_ids)

    def build(self) -> Decision:
        return Decision(
            events={stream_id: tuple(events) for stream_id, events in self._events.items()},
            reads=frozenset(self._reads),
        )
