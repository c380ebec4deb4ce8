"""Follow the event log: batches of new events, woken by notifications, polling as fallback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection

from booking_core.store.protocol import EventStore
from booking_core.store.records import ORIGIN, ConsistencyToken, RecordedEvent

__all__ = ["subscribe"]


async def subscribe(
    store: EventStore,
    *,
    after: ConsistencyToken = ORIGIN,
    batch_size: int = 1000,
    poll_interval: float = 1.0,
    stop: asyncio.Event | None = None,
    types: Collection[str] | None = None,
) -> AsyncIterator[list[RecordedEvent]]:
    """Yield every event after `after`, in order, in batches, until `stop` is set.

    A notification that arrives while a batch is being handled is kept, so the next
    empty read is followed at once by another read instead of a wait. Events held back
    by an older transaction that is still running are picked up by the poll.
    """
    stop = stop or asyncio.Event()
    async with store.wakeups() as wakeups:
        while not stop.is_set():
            batch = await store.read_all(after, batch_size, types=types)
            if batch:
                after = batch[-1].token
                yield batch
                continue
            stopping = asyncio.ensure_future(stop.wait())
            waking = asyncio.ensure_future(wakeups.wait(poll_interval))
            await asyncio.wait({stopping, waking}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            waking.cancel()
