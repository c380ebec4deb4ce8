"""Which person each personal event of an append is sealed under, and with which key.

An event with personal fields (`PERSONAL_FIELDS`) names its person, or is resolved to one
by its identity (`booking_core.domain.identity`): the venue's person of that identity if
there is one, else a fresh person, whose key the append creates. A named person whose key
is gone (erased) is never given a new key: its fields are sealed with none, and read as
erased.

The `Keyring` remembers keys and identities it has seen, for sealing only (never for
opening: a read always fetches the key from the table, so an erased key stops opening at
once). A remembered key may be stale — the person was erased since, or a concurrent
append claimed the identity first — and the append function checks every one in its own
transaction; on a mismatch (TB412) the append forgets them and seals again from a fresh
look-up. Person ids are never reused, so a stale entry can never seal under someone
else's key.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

from booking_core.domain.identity import identity_digest, payload_identity
from booking_core.domain.personal import PERSONAL_FIELDS, new_person_id
from booking_core.domain.streams import venue_of
from booking_core.store.records import NewEvent, StreamAppend
from booking_core.store.sealing import new_key, seal

__all__ = ["Keyring", "PersonSlot", "PersonalEvent", "Wanted", "personal_events"]

_CAPACITY: Final = 50_000

_decode = msgspec.json.Decoder(dict[str, Any]).decode
_encode = msgspec.json.Encoder().encode


@dataclass(slots=True)
class PersonalEvent:
    """An event of an append that carries personal fields."""

    stream: int
    """Its stream's index in the append."""
    index: int
    """Its index among the append's events (in append order)."""
    venue_id: str
    event: NewEvent
    payload: dict[str, Any]


def personal_events(streams: Sequence[StreamAppend]) -> list[PersonalEvent]:
    found: list[PersonalEvent] = []
    index = 0
    for number, stream in enumerate(streams):
        for event in stream.events:
            if event.type in PERSONAL_FIELDS:
                payload = _decode(event.data)
                found.append(
                    PersonalEvent(number, index, venue_of(stream.stream_id), event, payload)
                )
            index += 1
    return found


@dataclass(slots=True)
class PersonSlot:
    """A person an append seals under, as the append function is told about it."""

    person: str
    venue_id: str
    key: bytes | None
    """None: the person was erased; their fields are sealed as erased."""
    digest: bytes | None = None
    """The identity the person was resolved from (claimed when `fresh`)."""
    fresh: bool = False
    """Made by this append: its key is created, its identity claimed."""


@dataclass(slots=True)
class Wanted:
    """What one event needs: a named person's key, or the person of an identity."""

    venue_id: str
    person: str | None = None
    digest: bytes | None = None


Lookup = Callable[[list[Wanted]], Awaitable[list[tuple[str | None, str | None, bytes | None]]]]
"""For each wanted: (person, its venue, its key); (None, None, None) when an identity has
no person or a named person has no key."""


@dataclass(slots=True)
class Plan:
    slots: list[PersonSlot]
    sealed: dict[int, bytes]
    """Event index in the append → its sealed payload."""
    persons: dict[int, str]
    """Event index in the append → the person it is sealed under."""


@dataclass
class Keyring:
    """Remembered keys (`person → (venue, key or None)`) and identities
    (`(venue, digest) → person`), least recently used out."""

    capacity: int = _CAPACITY
    _keys: OrderedDict[str, tuple[str, bytes | None]] = field(default_factory=OrderedDict)
    _identities: OrderedDict[tuple[str, bytes], str] = field(default_factory=OrderedDict)

    def forget(self, slots: Sequence[PersonSlot]) -> None:
        for slot in slots:
            self._keys.pop(slot.person, None)
            if slot.digest is not None:
                self._identities.pop((slot.venue_id, slot.digest), None)

    async def plan(self, events: Sequence[PersonalEvent], lookup: Lookup) -> Plan:
        """Resolve and seal each event: remembered answers first, one `lookup` for the rest."""
        wants = [self._want(event) for event in events]
        missing: dict[tuple[str, str | None, bytes | None], Wanted] = {}
        for want in wants:
            if not self._known(want):
                missing.setdefault((want.venue_id, want.person, want.digest), want)
        if missing:
            answers = await lookup(list(missing.values()))
            for want, (person, venue_id, key) in zip(missing.values(), answers, strict=True):
                self._learn(want, person, venue_id, key)
        slots: dict[tuple[str, str | None, bytes | None], PersonSlot] = {}
        sealed: dict[int, bytes] = {}
        persons: dict[int, str] = {}
        for event, want in zip(events, wants, strict=True):
            slot = slots.get((want.venue_id, want.person, want.digest))
            if slot is None:
                slot = slots[(want.venue_id, want.person, want.digest)] = self._slot(want)
            payload = {**event.payload, "person": slot.person}
            sealed[event.index] = _encode(seal(event.event.type, payload, slot.key))
            persons[event.index] = slot.person
        return Plan(list(slots.values()), sealed, persons)

    def remember(self, slots: Sequence[PersonSlot]) -> None:
        """The append committed: its fresh persons exist now."""
        for slot in slots:
            if slot.fresh:
                self._put_key(slot.person, slot.venue_id, slot.key)
                if slot.digest is not None:
                    self._put_identity(slot.venue_id, slot.digest, slot.person)

    @staticmethod
    def _want(event: PersonalEvent) -> Wanted:
        person = event.payload.get("person")
        if isinstance(person, str):
            return Wanted(event.venue_id, person=person)
        identity = payload_identity(event.payload, event.event.account)
        digest = identity_digest(identity) if identity is not None else None
        return Wanted(event.venue_id, digest=digest)

    def _known(self, want: Wanted) -> bool:
        if want.person is not None:
            return want.person in self._keys
        if want.digest is None:
            return True  # a person of their own: nothing to look up
        person = self._identities.get((want.venue_id, want.digest))
        return person is not None and person in self._keys

    def _learn(
        self, want: Wanted, person: str | None, venue_id: str | None, key: bytes | None
    ) -> None:
        if person is None or venue_id is None:
            if want.person is not None:  # named, without a key: erased (or never made)
                self._put_key(want.person, want.venue_id, None)
            return
        self._put_key(person, venue_id, key)
        if want.digest is not None:
            self._put_identity(want.venue_id, want.digest, person)

    def _slot(self, want: Wanted) -> PersonSlot:
        if want.person is not None:
            venue_id, key = self._keys[want.person]
            if venue_id != want.venue_id:
                raise ValueError(f"person {want.person!r} belongs to another venue")
            return PersonSlot(want.person, want.venue_id, key)
        if want.digest is not None:
            person = self._identities.get((want.venue_id, want.digest))
            if person is not None and person in self._keys:
                return PersonSlot(person, want.venue_id, self._keys[person][1], want.digest)
        return PersonSlot(new_person_id(), want.venue_id, new_key(), want.digest, fresh=True)

    def _put_key(self, person: str, venue_id: str, key: bytes | None) -> None:
        self._keys[person] = (venue_id, key)
        self._keys.move_to_end(person)
        while len(self._keys) > self.capacity:
            self._keys.popitem(last=False)

    def _put_identity(self, venue_id: str, digest: bytes, person: str) -> None:
        self._identities[(venue_id, digest)] = person
        self._identities.move_to_end((venue_id, digest))
        while len(self._identities) > self.capacity:
            self._identities.popitem(last=False)
