"""Accounts as last read, for the check every signed-in request makes, kept only while
PostgreSQL can say when one changes.

Every request with a token checks that its account is still active, at the token's
version and role (`api.accounts.security.session_of`). Reading the row each time is a
round trip per request. Instead each API process keeps the accounts it has read, and a
trigger on `users` (migration 0022) notifies `tablebook_accounts` with the id of every
row updated or deleted (and `*` on a truncation), in the changing transaction: the
process forgets the account when the notice arrives, and the next request reads the row
again.

What keeps this exact:

- An account is kept only while the LISTEN connection is up, and only one read after
  the connection was made: a notice for a change committed after the read started then
  reaches this process. While the connection is down, every check reads the row; when
  it comes back, everything kept before is forgotten (notices sent meanwhile are lost).
- A read that any notice, or a reconnection, overtook is answered but not kept: the
  change may have committed after the read's snapshot.
- The process that makes a change forgets the account at once (`UserStore`), so its own
  next request already sees it. Another process sees it when the notice arrives: a
  signed-out token may be taken there for that moment (milliseconds).
- Nothing is kept longer than 30 s, for a LISTEN connection cut off without noticing
  it yet (a failover to another server it has not seen).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from booking_core.store.listener import Listener

if TYPE_CHECKING:
    from api.accounts.users import User

__all__ = ["CHANNEL", "AccountCache"]

CHANNEL = "tablebook_accounts"
EVERY_ACCOUNT = "*"
"""The notice of a truncation of `users`: forget every account."""
_KEPT = 10_000
"""Accounts kept at most; the least recently used go first."""
_MAX_AGE = 30.0
"""Seconds an account is kept at most, whatever the notices say: a bound for a LISTEN
connection that has not yet noticed it is cut off (a failover it has not seen)."""


class AccountCache:
    def __init__(self, conninfo: str, *, kept: int = _KEPT) -> None:
        self._listener = Listener(conninfo, CHANNEL, self._changed)
        self._kept = kept
        self._users: OrderedDict[str, tuple[int, float, User]] = OrderedDict()
        self._connected = 0
        """The listener's connection the kept accounts were read under."""
        self._changes = 0
        """Bumped by every notice and every (re)connection: a read it overtook is not kept."""
        self.reads = 0
        """Rows read (misses, or while not listening)."""

    async def start(self) -> None:
        await self._listener.start()

    async def stop(self) -> None:
        await self._listener.stop()
        self._users.clear()

    async def user(
        self, user_id: str, read: Callable[[str], Awaitable[User | None]]
    ) -> User | None:
        """The account `user_id`, kept or else `read` now."""
        connected = self._listener.connections
        if connected != self._connected:  # what was kept may have changed unannounced
            self._users.clear()
            self._connected = connected
        if self._listener.listening:
            kept = self._users.get(user_id)
            if kept is not None:
                if kept[0] == connected and time.monotonic() < kept[1]:
                    self._users.move_to_end(user_id)
                    return kept[2]
                del self._users[user_id]
        changes = self._changes
        until = time.monotonic() + _MAX_AGE
        self.reads += 1
        found = await read(user_id)
        if (
            found is not None
            and self._listener.listening
            and self._listener.connections == connected
            and self._changes == changes
        ):
            self._users[user_id] = (connected, until, found)
            self._users.move_to_end(user_id)
            while len(self._users) > self._kept:
                self._users.popitem(last=False)
        return found

    def forget(self, user_id: str) -> None:
        """The account changed here: read it again on its next request."""
        self._changes += 1
        self._users.pop(user_id, None)

    def _changed(self, payload: str) -> None:
        self._changes += 1
        if payload == EVERY_ACCOUNT:
            self._users.clear()
        else:
            self._users.pop(payload, None)
