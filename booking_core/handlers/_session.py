"""Load, decide, append, and decide again when someone wrote first.

One attempt is a `Session`: it reads each stream at most once, remembers the version it
read, and folds the events into state. The decision names the streams it wrote and the
ones it depends on; all of them go into one append, each at the version the session
read. A `ConcurrencyError` means some of them moved: the command is decided again from
fresh reads, a bounded number of times, after a jittered pause that keeps competing
writers from colliding in lockstep.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from booking_core.codec import Event, EventMetadata, codec
from booking_core.domain.booking import BookingState
from booking_core.domain.commands import Command
from booking_core.domain.decision import Decision
from booking_core.domain.errors import DomainError, TooMuchContention
from booking_core.domain.folding import BOOKING, SERVICE_DAY, TABLE, VENUE_KIND, StreamKind
from booking_core.domain.service_day import ServiceDay
from booking_core.domain.streams import VENUE, booking_stream, table_stream
from booking_core.domain.table import TableState
from booking_core.domain.venue import VenueState
from booking_core.store import (
    ConcurrencyError,
    ConsistencyToken,
    EventStore,
    IdempotencyKey,
    RecordedEvent,
    StreamAppend,
)

__all__ = ["DEFAULT_RETRY", "CommandResult", "Decide", "RetryPolicy", "Session", "execute"]

S = TypeVar("S")

_jitter = random.Random()  # noqa: S311 - spreads retries; nothing secret depends on it


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`attempts` decisions at most; before attempt n+1 a pause drawn uniformly from zero
    to `base_delay * 2**n` seconds, capped at `max_delay` ("full jitter")."""

    attempts: int = 8
    base_delay: float = 0.002
    max_delay: float = 0.1
    random: Callable[[], float] = _jitter.random
    sleep: Callable[[float], Awaitable[None]] = _sleep

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a command needs at least one attempt")

    def delay(self, attempt: int) -> float:
        return self.random() * min(self.max_delay, self.base_delay * 2.0**attempt)


DEFAULT_RETRY: Final = RetryPolicy()


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandResult:
    """What a command did. With no events (it asked for what already was), `token` is
    None and nothing was written."""

    events: Mapping[str, tuple[Event, ...]] = field(default_factory=dict)
    """New events by stream id, in append order."""
    token: ConsistencyToken | None = None
    """Where the append stands in the global order: pass it to a read to see this write."""
    versions: Mapping[str, int] = field(default_factory=dict)
    """Each stream's version after the append (or as read, if nothing was written)."""
    duplicate: bool = False
    """The command was applied before (same command id, or same idempotency key): nothing
    was written now, and `token` is the earlier write's."""
    payload: bytes = b"null"
    """With an idempotency key: the payload recorded with it (the first response, for a
    duplicate)."""
    attempts: int = 1

    @property
    def all_events(self) -> tuple[Event, ...]:
        return tuple(event for events in self.events.values() for event in events)


class Session:
    """One attempt's reads: every stream at one version, folded into state."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._versions: dict[str, int] = {}
        self._states: dict[str, Any] = {}
        self._commands: dict[str, ConsistencyToken] = {}
        self._prefetched: dict[str, list[RecordedEvent]] = {}

    @property
    def versions(self) -> Mapping[str, int]:
        return dict(self._versions)

    async def load(self, stream_id: str, kind: StreamKind[S]) -> S:
        if stream_id not in self._states:
            records = self._prefetched.pop(stream_id, None)
            if records is None:
                records = await self._store.read_stream(stream_id)
            if stream_id not in self._states:  # another task of this session may have won
                self._remember(stream_id, kind, records)
        state_read: S = self._states[stream_id]
        return state_read

    def _remember(self, stream_id: str, kind: StreamKind[S], records: list[RecordedEvent]) -> None:
        self._versions[stream_id] = records[-1].version if records else 0
        self._states[stream_id] = kind.fold(codec.decode(record) for record in records)
        for record in records:
            command_id = codec.metadata(record).command_id
            if command_id is not None:
                self._commands[command_id] = max(
                    record.token, self._commands.get(command_id, record.token)
                )

    async def prefetch(self, stream_ids: Iterable[str]) -> None:
        """Read the streams not read yet in one round trip; `load` then folds them."""
        wanted = [
            stream_id
            for stream_id in dict.fromkeys(stream_ids)
            if stream_id not in self._states and stream_id not in self._prefetched
        ]
        if wanted:
            found = await self._store.read_streams(wanted)
            for stream_id in wanted:
                self._prefetched.setdefault(stream_id, found[stream_id])

    async def load_many(self, stream_ids: Iterable[str], kind: StreamKind[S]) -> dict[str, S]:
        wanted = list(dict.fromkeys(stream_ids))
        await self.prefetch(wanted)
        return {stream_id: await self.load(stream_id, kind) for stream_id in wanted}

    async def venue(self) -> VenueState:
        return await self.load(VENUE, VENUE_KIND)

    async def table(self, table_id: str) -> TableState:
        return await self.load(table_stream(table_id), TABLE)

    async def tables(self, table_ids: Iterable[str]) -> dict[str, TableState]:
        wanted = list(dict.fromkeys(table_ids))
        states = await self.load_many((table_stream(t) for t in wanted), TABLE)
        return {table_id: states[table_stream(table_id)] for table_id in wanted}

    async def days(self, stream_ids: Iterable[str]) -> dict[str, ServiceDay]:
        return await self.load_many(stream_ids, SERVICE_DAY)

    async def booking(self, booking_id: str) -> BookingState:
        return await self.load(booking_stream(booking_id), BOOKING)

    def version(self, stream_id: str) -> int:
        if stream_id not in self._versions:
            raise LookupError(f"the decision used {stream_id!r} without loading it")
        return self._versions[stream_id]

    def applied(self, command_id: str) -> ConsistencyToken | None:
        """The token of the command's write, if a stream read so far shows it was applied."""
        return self._commands.get(command_id)

    def state_after(self, stream_id: str, kind: StreamKind[S], decision: Decision) -> S:
        """The stream's state as read, with the decision's events applied."""
        loaded: S = self._states.get(stream_id, kind.initial)
        return kind.fold(decision.events.get(stream_id, ()), loaded)


Decide = Callable[[Session], Awaitable[Decision]]


async def _duplicate(
    store: EventStore,
    decide: Decide,
    command_id: str,
    token: ConsistencyToken,
    attempt: int,
    payload: bytes = b"null",
) -> tuple[CommandResult, Session, Decision]:
    """The answer to a command applied before: states read again, not as this attempt
    read them. Concurrent retries of one request decide side by side; one that read some
    streams before the first request committed and others after (or whose append found
    the idempotency key taken) would otherwise answer with states from before that
    write. Every read that starts now sees all of it (it committed as one transaction).
    The token is the latest of that write's events seen by either session."""
    session = Session(store)
    with contextlib.suppress(DomainError):  # refused: the command's own write is there
        await decide(session)
    seen = session.applied(command_id)
    result = CommandResult(
        token=max(token, seen) if seen is not None else token,
        versions=session.versions,
        duplicate=True,
        payload=payload,
        attempts=attempt,
    )
    return result, session, Decision()


async def execute(
    store: EventStore,
    command: Command,
    decide: Decide,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    idempotency: IdempotencyKey | None = None,
) -> tuple[CommandResult, Session, Decision]:
    """Decide and append `command`, again after each lost race, up to `retry.attempts`.

    Domain errors propagate at once: a decision that fails on fresh state is the answer.
    A command whose id is already in the metadata of a stream it reads was applied
    before (its events were appended atomically): it is answered as a duplicate, with the
    first write's token, whatever deciding it again would say.
    """
    metadata = EventMetadata(command_id=command.command_id, user_id=command.actor.user_id)
    for attempt in range(1, retry.attempts + 1):
        session = Session(store)
        try:
            decision = await decide(session)
        except DomainError:
            if session.applied(command.command_id) is None:
                raise
            decision = Decision()
        first = session.applied(command.command_id)
        if first is not None:
            return await _duplicate(store, decide, command.command_id, first, attempt)
        if decision.is_empty:
            result = CommandResult(versions=session.versions, attempts=attempt)
            return result, session, decision
        appends = [
            StreamAppend(
                stream_id,
                session.version(stream_id),
                [codec.encode(event, metadata) for event in decision.events.get(stream_id, ())],
            )
            for stream_id in decision.streams()
        ]
        try:
            appended = await store.append(appends, idempotency=idempotency)
        except ConcurrencyError as error:
            if attempt == retry.attempts:
                raise TooMuchContention(attempt) from error
            await retry.sleep(retry.delay(attempt - 1))
            continue
        if appended.duplicate:  # the key's first request was written, not this decision
            return await _duplicate(
                store, decide, command.command_id, appended.token, attempt, appended.payload
            )
        result = CommandResult(
            events={s: events for s, events in decision.events.items() if events},
            token=appended.token,
            versions={**session.versions, **appended.versions},
            attempts=attempt,
        )
        return result, session, decision
    raise AssertionError("unreachable: the last attempt returns or raises")
