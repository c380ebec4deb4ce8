"""Follow the event log: batches of new events, woken by notifications, polling as fallback.

An announced event can still be invisible for a moment: `read_all` holds back what
committed after an older transaction that is still open, and that transaction may not
announce anything when it ends (it need not write events at all). So a reader that knows
where it stands keeps looking, quickly at first (2 ms, 4 ms, ... then every 128 ms), for
as long as an announced position lies beyond what it has read; only then does it wait
for the next notification or the poll interval. A reader that cannot say where it stands
(one that filters by type, say) looks again the same way for a short while after each
notification that found nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection

from booking_core.store.protocol import EventStore, Wakeups
from booking_core.store.records import ORIGIN, ConsistencyToken, RecordedEvent

__all__ = ["Follower", "subscribe"]

FIRST_RETRY = 0.002
LAST_RETRY = 0.128


class Follower:
    """When to look at the log again, given what the last look found."""

    def __init__(self, wakeups: Wakeups, poll_interval: float) -> None:
        self._wakeups = wakeups
        self._poll_interval = poll_interval
        self._retry: float | None = None

    def found(self) -> None:
        self._retry = None

    def behind(self, read_up_to: ConsistencyToken | None) -> bool:
        """Whether an announced event lies beyond `read_up_to` (None: not known)."""
        announced = self._wakeups.announced
        return read_up_to is not None and announced is not None and announced > read_up_to

    async def wait(self, stop: asyncio.Event, read_up_to: ConsistencyToken | None = None) -> None:
        """Wait for a notification, a quick retry, the poll interval, or `stop`.

        `read_up_to`, the token of the last event read (or the checkpoint), lets the
        follower keep retrying while an announced event is still held back.
        """
        if self.behind(read_up_to):
            self._retry = min(self._retry * 2, LAST_RETRY) if self._retry else FIRST_RETRY
        elif read_up_to is not None:
            self._retry = None
        timeout = self._poll_interval if self._retry is None else self._retry
        waking = asyncio.ensure_future(self._wakeups.wait(timeout))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waking, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not waking.done():
            waking.cancel()
            return
        if read_up_to is not None:
            return
        if waking.result():
            self._retry = FIRST_RETRY
        elif self._retry is not None:
            self._retry = self._retry * 2 if self._retry < LAST_RETRY else None


async def subscribe(
    store: EventStore,
    *,
    after: ConsistencyToken = ORIGIN,
    batch_size: int = 1000,
    poll_interval: float = 1.0,
    stop: asyncio.Event | None = None,
    types: Collection[str] | None = None,
) -> AsyncIterator[list[RecordedEvent]]:
    """Yield every event after `after`, in order, in batches, until `stop` is set."""
    stop = stop or asyncio.Event()
    async with store.wakeups() as wakeups:
        follower = Follower(wakeups, poll_interval)
        while not stop.is_set():
            batch = await store.read_all(after, batch_size, types=types)
            if batch:
                follower.found()
                after = batch[-1].token
                yield batch
                continue
            # Filtered by type, the last event read says nothing about what is left.
            await follower.wait(stop, None if types else after)
