"""Folded stream states kept between commands, so a decision costs the same however long
the streams it reads have grown.

A `Session` folds a stream once, and the next session that reads the stream asks the
store only for the events from the version it folded: the first one returned must be
the very event the state was folded up to (same version, position, transaction and
recording instant: its `StreamMark`), and the rest are folded on top. Any other answer
(the store was truncated, restored, or a stream was written again from scratch) drops
the entry and the stream is read whole. So a state is never staler than a plain read,
and the cost of a read is the tail, not the history. A session that appends folds its
own events into the entries of the streams it wrote, marked as the append reported them,
so the process's next decision on those streams starts from where it left them.

Entries are immutable and shared by every session of the process: a fold builds new
states, never changes one in place. The cache is bounded (least recently used out), and
there is one per store object, so two stores never see each other's states.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from booking_core.store import ConsistencyToken, RecordedEvent, StreamMark

__all__ = ["DEFAULT_CAPACITY", "Folded", "StateCache", "cache_for"]

DEFAULT_CAPACITY: Final = 20_000
"""Streams kept per process: a venue's tables, its days in the booking window, and the
bookings being worked on. A venue state with 10,000 events is a few megabytes."""


@dataclass(frozen=True, slots=True)
class Folded:
    """A stream folded up to the event `mark` names, the event at its `version`; or,
    with no mark, a stream that was empty when read (every event found later is new)."""

    mark: StreamMark | None
    """Compared (version, position, transaction, time) with what the store holds at that
    version: a truncated store restarts positions and versions, and a restored one may
    hold other events there, but not at the same position in the same transaction at the
    same instant."""
    state: Any
    commands: Mapping[str, ConsistencyToken]
    """Each command id in the stream's metadata, with the token of its latest event."""
    last: RecordedEvent | None = None
    """The event itself, when the fold was read rather than written: compared whole
    (bytes too) as well."""

    @classmethod
    def read(
        cls, last: RecordedEvent, state: Any, commands: Mapping[str, ConsistencyToken]
    ) -> Folded:
        return cls(StreamMark.of(last), state, commands, last)

    @property
    def version(self) -> int:
        return 0 if self.mark is None else self.mark.version

    def is_folded_up_to(self, record: RecordedEvent) -> bool:
        if self.mark is None:
            return False
        return self.mark.marks(record) and (self.last is None or record == self.last)


class StateCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("a cache holds at least one stream")
        self._capacity = capacity
        self._entries: OrderedDict[str, Folded] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, stream_id: str) -> Folded | None:
        entry = self._entries.get(stream_id)
        if entry is not None:
            self._entries.move_to_end(stream_id)
        return entry

    def put(self, stream_id: str, entry: Folded) -> None:
        self._entries[stream_id] = entry
        self._entries.move_to_end(stream_id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def forget(self, stream_id: str) -> None:
        self._entries.pop(stream_id, None)


_caches: weakref.WeakKeyDictionary[object, StateCache] = weakref.WeakKeyDictionary()


def cache_for(store: object) -> StateCache:
    """The process's cache for `store`, made on first use and dropped with the store."""
    cache = _caches.get(store)
    if cache is None:
        cache = _caches[store] = StateCache()
    return cache
