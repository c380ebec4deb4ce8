"""A LISTEN connection that outlives PostgreSQL's restarts.

A notification only reaches a connection that is listening when it is sent. When the
server restarts or the connection is cut, the listener connects again with backoff
(`resilience.backoff`, one log line per attempt) and LISTENs again; meanwhile, and once
more when it is back, it wakes its waiters, because whatever was announced while it was
away is lost: a waiter must look for itself (read the log, claim rows) rather than trust
that no news means nothing happened. Losing the connection never ends the listener.

Notifications are sent by the primary only: with a URL of several hosts
(`booking_core.store.connecting`), the listener connects where writes go, and a server
that refuses LISTEN as a standby (25006) is one more lost connection, tried again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from booking_core.store.connecting import connection_options
from resilience.backoff import Backoff, log_retry

__all__ = ["Listener"]

log = logging.getLogger("tablebook.listen")

_LOST = (psycopg.OperationalError, psycopg.InterfaceError, psycopg.errors.ReadOnlySqlTransaction)


class Listener:
    """LISTENs on `channel`; `on_payload` sees each notification's payload, and `wait`
    returns as soon as one (or a reconnection) arrives."""

    def __init__(
        self,
        conninfo: str,
        channel: str,
        on_payload: Callable[[str], None] = lambda _: None,
        backoff: Backoff | None = None,
    ) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._on_payload = on_payload
        self._backoff = backoff or Backoff()
        self._signal = asyncio.Event()
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self.connections = 0
        """How many times it has connected and listened: what one connection saw, the
        next may not have (notices sent in between are lost)."""

    @property
    def listening(self) -> bool:
        return self._connection is not None and not self._connection.closed

    async def start(self) -> None:
        """LISTEN now if the server answers (so nothing sent from here on is missed),
        else keep trying in the background."""
        with contextlib.suppress(*_LOST):
            await self._connect()
        self._task = asyncio.create_task(self._run())

    async def wait(self, timeout: float) -> bool:
        """True when woken within `timeout` seconds, False when they passed."""
        try:
            await asyncio.wait_for(self._signal.wait(), timeout)
        except TimeoutError:
            return False
        self._signal.clear()
        return True

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close()

    async def _connect(self) -> None:
        connection = await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, **connection_options(self._conninfo)
        )
        try:
            await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self.connections += 1

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(psycopg.Error):
                await connection.close()

    async def _run(self) -> None:
        while True:
            try:
                if self._connection is None:
                    await self._connect()
                    if self._backoff.attempt:
                        log.info("listening again", extra={"channel": self._channel})
                    self._backoff.succeeded()
                    self._signal.set()  # what was announced meanwhile is lost: look
                await self._follow(self._connection)
            except _LOST as error:
                await self._close()
                self._signal.set()
                delay = self._backoff.failed()
                log_retry(log, "PostgreSQL", self._backoff, delay, error, channel=self._channel)
                await asyncio.sleep(delay)

    async def _follow(self, connection: psycopg.AsyncConnection[Any] | None) -> None:
        assert connection is not None
        async for notice in connection.notifies():
            self._on_payload(notice.payload)
            self._signal.set()
        raise psycopg.OperationalError("the LISTEN connection stopped reading")
