"""Load, decide, append, and decide again when someone wrote first.

One attempt is a `Session`: it reads each stream at most once, remembers the version it
read, and folds the events into state. The decision names the streams it wrote and the
ones it depends on; all of them go into one append, each at the version the session
read. A `ConcurrencyError` means some of them moved: the command is decided again from
fresh reads, a bounded number of times, after a jittered pause that keeps competing
writers from colliding in lockstep.

Streams are read through the process's `StateCache`: a stream folded by an earlier
session is read from the version it was folded to, and only its new events are folded
(see `_state_cache`). Decisions are therefore made on states as fresh as a whole read,
at the cost of the tail. A session that appends leaves the streams it wrote in the cache
as it wrote them.

A command may go further (`execute(..., trust_cache=True)`): its first attempt decides
on the cached states as they are, without reading them, and takes the streams named
`fresh` (a booking the server has just numbered) as empty, so a process deciding on
streams it wrote last reads nothing at all before it appends. The append checks every
one of those states, as it checks any read, by its expected version: a state that was
stale fails the append, and the command is decided again at once on fresh reads. Only
an append can accept a decision made that way: a refusal, or a decision that writes
nothing, is made again on fresh reads before it is the answer. A stale cache therefore
costs a second attempt, never a different answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import msgspec

from booking_core.codec import Event, EventMetadata, codec
from booking_core.domain.booking import BookingState
from booking_core.domain.commands import Command
from booking_core.domain.decision import Decision
from booking_core.domain.errors import DomainError, TooMuchContention
from booking_core.domain.folding import BOOKING, SERVICE_DAY, SLUG, TABLE, VENUE_KIND, StreamKind
from booking_core.domain.personal import PERSONAL_FIELDS
from booking_core.domain.registry import SlugHold
from booking_core.domain.service_day import ServiceDay
from booking_core.domain.streams import (
    DEFAULT_STREAMS,
    VenueStreams,
    is_registry_stream,
    slug_stream,
    streams_of,
)
from booking_core.domain.table import TableState
from booking_core.domain.venue import VenueState
from booking_core.handlers._state_cache import Folded, StateCache, cache_for
from booking_core.store import (
    AppendResult,
    ConcurrencyError,
    ConsistencyToken,
    EventStore,
    IdempotencyKey,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    StreamMark,
)

__all__ = [
    "DEFAULT_RETRY",
    "CommandResult",
    "Decide",
    "RetryPolicy",
    "Session",
    "StaleRead",
    "execute",
]

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


_Read = tuple[Folded | None, list[RecordedEvent]]
"""A stream as read: the cached fold it continues (None: read whole) and the events after."""


class Session:
    """One attempt's reads: every stream at one version, folded into state, all of one
    venue (a read of another venue's stream is a bug, refused) or of the registry, which
    is no venue's (the slug claims that opening a venue or renaming it takes)."""

    def __init__(
        self,
        store: EventStore,
        cache: StateCache | None = None,
        streams: VenueStreams = DEFAULT_STREAMS,
        *,
        trusting: bool = False,
        fresh: Collection[str] = (),
    ) -> None:
        """`trusting`: take cached states as they are, and the `fresh` streams as empty,
        without reading them (see the module's docstring)."""
        self._store = store
        self.streams = streams
        self._cache = cache_for(store) if cache is None else cache
        self._trusting = trusting
        self._fresh = frozenset(fresh) if trusting else frozenset()
        self.unread: set[str] = set()
        """The streams this session took without reading them."""
        self._unread_marks: dict[str, StreamMark] = {}
        self._versions: dict[str, int] = {}
        self._states: dict[str, Any] = {}
        self._kinds: dict[str, StreamKind[Any]] = {}
        self._commands: dict[str, Mapping[str, ConsistencyToken]] = {}
        self._prefetched: dict[str, _Read] = {}

    @property
    def versions(self) -> Mapping[str, int]:
        return dict(self._versions)

    async def load(self, stream_id: str, kind: StreamKind[S]) -> S:
        if stream_id not in self._states:
            read = self._prefetched.pop(stream_id, None)
            if read is None:
                read = (await self._read([stream_id]))[stream_id]
            if stream_id not in self._states:  # another task of this session may have won
                self._remember(stream_id, kind, *read)
        state_read: S = self._states[stream_id]
        return state_read

    async def _read(self, stream_ids: list[str]) -> dict[str, _Read]:
        """Each stream's tail after its cached fold, in one round trip; a stream whose
        cached fold no longer matches the store (truncated, restored) is read whole."""
        foreign = [s for s in stream_ids if not (self.streams.owns(s) or is_registry_stream(s))]
        if foreign:
            raise ValueError(f"a decision for {self.streams.venue_id!r} read {foreign[0]!r}")
        cached = {stream_id: self._cache.get(stream_id) for stream_id in stream_ids}
        if self._trusting:
            taken = [s for s, entry in cached.items() if entry is not None or s in self._fresh]
            self.unread.update(taken)
            self._unread_marks.update(
                (s, entry.mark) for s in taken if (entry := cached[s]) and entry.mark
            )
            unread: dict[str, _Read] = {s: (cached[s], []) for s in taken}
            rest = [s for s in stream_ids if s not in unread]
            return {**unread, **(await self._read_through(rest, cached) if rest else {})}
        return await self._read_through(stream_ids, cached)

    async def _read_through(
        self, stream_ids: list[str], cached: Mapping[str, Folded | None]
    ) -> dict[str, _Read]:
        cached = {stream_id: cached[stream_id] for stream_id in stream_ids}
        starts = {s: entry.version for s, entry in cached.items() if entry and entry.mark}
        found = await self._store.read_streams(stream_ids, starts)
        reads: dict[str, _Read] = {}
        stale: list[str] = []
        for stream_id, entry in cached.items():
            records = found[stream_id]
            if entry is None or entry.mark is None:  # read whole, or empty when cached
                reads[stream_id] = (entry, records)
            elif records and entry.is_folded_up_to(records[0]):
                reads[stream_id] = (entry, records[1:])
            else:
                stale.append(stream_id)
        if stale:
            for stream_id in stale:
                self._cache.forget(stream_id)
            again = await self._store.read_streams(stale)
            reads.update((stream_id, (None, again[stream_id])) for stream_id in stale)
        return reads

    def _remember(
        self,
        stream_id: str,
        kind: StreamKind[S],
        folded: Folded | None,
        records: list[RecordedEvent],
    ) -> None:
        state: S = kind.fold(
            (codec.decode(record) for record in records),
            kind.initial if folded is None else folded.state,
        )
        commands: Mapping[str, ConsistencyToken] = {} if folded is None else folded.commands
        seen = [(codec.metadata(record).command_id, record.token) for record in records]
        if any(command_id is not None for command_id, _ in seen):
            grown = dict(commands)
            for command_id, token in seen:
                if command_id is not None:
                    grown[command_id] = max(token, grown.get(command_id, token))
            commands = grown
        if records:
            self._cache.put(stream_id, Folded.read(records[-1], state, commands))
        elif folded is None:  # empty: remembered as such, so the next read is of new events
            self._cache.put(stream_id, Folded(None, state, commands))
        self._kinds[stream_id] = kind
        self._versions[stream_id] = (
            records[-1].version if records else 0 if folded is None else folded.version
        )
        self._states[stream_id] = state
        self._commands[stream_id] = commands

    async def prefetch(self, stream_ids: Iterable[str]) -> None:
        """Read the streams not read yet in one round trip; `load` then folds them."""
        wanted = [
            stream_id
            for stream_id in dict.fromkeys(stream_ids)
            if stream_id not in self._states and stream_id not in self._prefetched
        ]
        if wanted:
            found = await self._read(wanted)
            for stream_id in wanted:
                self._prefetched.setdefault(stream_id, found[stream_id])

    async def load_many(self, stream_ids: Iterable[str], kind: StreamKind[S]) -> dict[str, S]:
        wanted = list(dict.fromkeys(stream_ids))
        await self.prefetch(wanted)
        return {stream_id: await self.load(stream_id, kind) for stream_id in wanted}

    async def venue(self) -> VenueState:
        return await self.load(self.streams.venue, VENUE_KIND)

    async def table(self, table_id: str) -> TableState:
        return await self.load(self.streams.table(table_id), TABLE)

    async def tables(self, table_ids: Iterable[str]) -> dict[str, TableState]:
        wanted = list(dict.fromkeys(table_ids))
        states = await self.load_many((self.streams.table(t) for t in wanted), TABLE)
        return {table_id: states[self.streams.table(table_id)] for table_id in wanted}

    async def days(self, stream_ids: Iterable[str]) -> dict[str, ServiceDay]:
        return await self.load_many(stream_ids, SERVICE_DAY)

    async def booking(self, booking_id: str) -> BookingState:
        return await self.load(self.streams.booking(booking_id), BOOKING)

    async def slug(self, slug: str) -> SlugHold:
        return await self.load(slug_stream(slug), SLUG)

    def forget(self, stream_id: str) -> None:
        """Drop the stream's cached fold: an append found it moved on, so the next read
        of it starts afresh rather than from a fold that may belong to another history."""
        self._cache.forget(stream_id)

    def last_unread(self, stream_id: str) -> StreamMark | None:
        """The last event of the state taken unread for the stream, for the append to
        check it is still there (None: the stream was read, or taken as empty)."""
        return self._unread_marks.get(stream_id)

    def version(self, stream_id: str) -> int:
        if stream_id not in self._versions:
            raise LookupError(f"the decision used {stream_id!r} without loading it")
        return self._versions[stream_id]

    def applied(self, command_id: str) -> ConsistencyToken | None:
        """The token of the command's write, if a stream read so far shows it was applied."""
        tokens = [c[command_id] for c in self._commands.values() if command_id in c]
        return max(tokens) if tokens else None

    def state_after(self, stream_id: str, kind: StreamKind[S], decision: Decision) -> S:
        """The stream's state as read, with the decision's events applied."""
        loaded: S = self._states.get(stream_id, kind.initial)
        return kind.fold(decision.events.get(stream_id, ()), loaded)

    def appended(
        self,
        decision: Decision,
        result: AppendResult,
        command_id: str,
        personal: Collection[str] = (),
    ) -> None:
        """Keep each stream the append wrote in the cache with the decision's events
        folded in, marked where the store put its last one, so the next decision on it
        in this process reads only what others wrote since. The `personal` streams (they
        got someone's name, phone or email) are dropped instead: their next read must
        compare the stored event whole, which an erasure changes without a new event."""
        for stream_id, events in decision.events.items():
            mark = result.marks.get(stream_id)
            kind = self._kinds.get(stream_id)
            if stream_id in personal:
                self._cache.forget(stream_id)
                continue
            if not events or mark is None or kind is None:
                continue
            if mark.version != self._versions[stream_id] + len(events):
                self._cache.forget(stream_id)  # someone else's events are in between
                continue
            commands = {
                **self._commands[stream_id],
                command_id: ConsistencyToken(mark.tx, mark.position),
            }
            state = kind.fold(events, self._states[stream_id])
            self._cache.put(stream_id, Folded(mark, state, commands))


class StaleRead(Exception):
    """A decision found that a stream it read earlier in this attempt has moved on since
    (a later read contradicts it): the attempt is lost like a lost append, and the
    command is decided again from fresh reads."""

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        super().__init__(f"{stream_id!r} moved on after it was read")


Decide = Callable[[Session], Awaitable[Decision]]


def _with_persons(decision: Decision, persons: Mapping[int, str]) -> Decision:
    """The decision's events as stored: each with the person the store resolved for it
    (`persons`: by the event's index in the append, which follows `decision.streams()`)."""
    if not persons:
        return decision
    events: dict[str, tuple[Event, ...]] = {}
    index = 0
    for stream_id in decision.streams():
        stored: list[Event] = []
        for event in decision.events.get(stream_id, ()):
            person = persons.get(index)
            index += 1
            if person is not None and getattr(event, "person", person) != person:
                event = msgspec.structs.replace(event, person=person)
            stored.append(event)
        events[stream_id] = tuple(stored)
    return Decision(events=events, reads=decision.reads)


def _encode(event: Event, metadata: EventMetadata, account: str | None) -> NewEvent:
    """The event for the store. A guest (not staff) writes their own details: an event
    that starts a booking of theirs belongs to their account's person
    (`booking_core.domain.identity`); staff write other people's, resolved by email or
    phone."""
    encoded = codec.encode(event, metadata)
    if account is None or encoded.type not in PERSONAL_FIELDS:
        return encoded
    return msgspec.structs.replace(encoded, account=account)


async def _duplicate(
    store: EventStore,
    decide: Decide,
    command_id: str,
    token: ConsistencyToken,
    attempt: int,
    payload: bytes = b"null",
    *,
    streams: VenueStreams,
) -> tuple[CommandResult, Session, Decision]:
    """The answer to a command applied before: states read again, not as this attempt
    read them. Concurrent retries of one request decide side by side; one that read some
    streams before the first request committed and others after (or whose append found
    the idempotency key taken) would otherwise answer with states from before that
    write. Every read that starts now sees all of it (it committed as one transaction).
    The token is the latest of that write's events seen by either session."""
    session = Session(store, streams=streams)
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
    trust_cache: bool = False,
    fresh: Collection[str] = (),
) -> tuple[CommandResult, Session, Decision]:
    """Decide and append `command`, again after each lost race, up to `retry.attempts`.

    Domain errors propagate at once: a decision that fails on fresh state is the answer.
    A command whose id is already in the metadata of a stream it reads was applied
    before (its events were appended atomically): it is answered as a duplicate, with the
    first write's token, whatever deciding it again would say.

    With `trust_cache`, the first attempt decides on the cached states unread and takes
    the `fresh` streams as empty (see the module's docstring); whatever it decides other
    than an append that succeeds is decided again on fresh reads.
    """
    metadata = EventMetadata(command_id=command.command_id, user_id=command.actor.user_id)
    account = command.actor.account
    streams = streams_of(command.venue_id)
    trusting = trust_cache
    last = retry.attempts + (1 if trust_cache else 0)  # a trusting attempt comes on top
    losses = 0  # races lost: the pauses grow with them, not with stale caches
    for attempt in range(1, last + 1):
        session = Session(store, streams=streams, trusting=trusting, fresh=fresh)
        trusted, trusting = trusting, False
        try:
            decision = await decide(session)
        except DomainError:
            if trusted and session.unread:
                continue  # refused on states not read now: decide again on fresh reads
            if session.applied(command.command_id) is None:
                raise
            decision = Decision()
        except StaleRead as error:
            session.forget(error.stream_id)
            if attempt == last:
                raise TooMuchContention(attempt) from error
            await retry.sleep(retry.delay(losses))
            losses += 1
            continue
        first = session.applied(command.command_id)
        if trusted and session.unread and (decision.is_empty or first is not None):
            continue  # nothing to write, or written before, on states not read now
        if first is not None:
            return await _duplicate(
                store, decide, command.command_id, first, attempt, streams=streams
            )
        if decision.is_empty:
            result = CommandResult(versions=session.versions, attempts=attempt)
            return result, session, decision
        appends = [
            StreamAppend(
                stream_id,
                session.version(stream_id),
                [_encode(event, metadata, account) for event in decision.events.get(stream_id, ())],
                session.last_unread(stream_id),
            )
            for stream_id in decision.streams()
        ]
        try:
            appended = await store.append(appends, idempotency=idempotency)
        except ConcurrencyError as error:
            stale = trusted and error.stream_id in session.unread
            if not stale:  # a stale cached fold is still a prefix: the next read extends it
                session.forget(error.stream_id)
            if attempt == last:
                raise TooMuchContention(attempt) from error
            if not stale:  # a race, not a stale cache: back off
                await retry.sleep(retry.delay(losses))
                losses += 1
            continue
        if appended.duplicate:  # the key's first request was written, not this decision
            return await _duplicate(
                store,
                decide,
                command.command_id,
                appended.token,
                attempt,
                appended.payload,
                streams=streams,
            )
        decision = _with_persons(decision, appended.persons)
        personal = [
            a.stream_id for a in appends if any(e.type in PERSONAL_FIELDS for e in a.events)
        ]
        session.appended(decision, appended, command.command_id, personal)
        result = CommandResult(
            events={s: events for s, events in decision.events.items() if events},
            token=appended.token,
            versions={**session.versions, **appended.versions},
            attempts=attempt,
        )
        return result, session, decision
    raise AssertionError("unreachable: the last attempt returns or raises")
