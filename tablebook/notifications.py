"""The notification sender: claims due outbox rows and delivers them, at least once.

A batch is claimed in one short transaction (`FOR UPDATE SKIP LOCKED`, so several senders
share the work): each row turns `sending`, its attempt is counted and it is leased until
`next_attempt_at`. Each message is then delivered and its outcome recorded on its own:

- `sent`, with the provider's reference;
- `pending` again after a transient failure, `backoff x 2^(attempts-1)` later;
- `failed` with the last error after `max_attempts`, or at once when retrying is futile
  (staff may put a failed row back to `pending`, `read_models.notifications.
  retry_notification`: `attempts` keeps counting, so a row that had used them all gets
  one more);
- `skipped` with the reason: the channel is not configured, the event is older than
  `max_age` (a first deployment over an old history), the booking has started, or the
  account an email was to go to is gone, deactivated or a staff member's. Skips are
  logged as one line per sweep (until nothing due is left), counted by reason: a
  deployment without SMTP or Twilio skips every message, and a line each would bury the
  rest.

An email whose recipient is `account:{user_id}` (an online booking made from an account
without `guest_email`) goes to that account's address as the users table has it when the
message is sent; the address is never written to the outbox. It goes only to a guest's
account: one that is active, no admin, and no staff of the booking's venue (staff who
book for a guest book under their own account). The venue's name, address and slug come
from the venue directory (`read_models.venues`) when sent, so the manage link names the slug the
booking page answers to now. The manage token of a booking made without an account is a
credential: the outbox never holds it. For a `placed` or `changed` message the sender reads
it from the booking's first event, where it is sealed under the guest's key, and only while
the booking is confirmed and has not ended; it is put in the message and nowhere else (no
log line, no error text carries it). An erased guest's token reads as None: no link.

A sender killed between delivering and recording leaves its rows `sending`; once the
lease runs out another sender takes them again, so those (and only those) messages may
arrive twice. The projection's NOTIFY wakes the sender as rows commit; polling is the
fallback and finds reminders and retries as they fall due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import msgspec
from psycopg_pool import AsyncConnectionPool

from booking_core.codec import codec
from booking_core.domain.booking import Confirmed
from booking_core.domain.events import BookingPlaced
from booking_core.domain.folding import BOOKING
from booking_core.domain.streams import streams_of
from booking_core.store.listener import Listener
from booking_core.store.postgres import PostgresEventStore
from projectors.metrics import NOTIFICATIONS
from projectors.notifications import ACCOUNT_RECIPIENT, WAKE_CHANNEL, BookingDetails
from read_models import venues
from resilience.backoff import Backoff, log_retry
from resilience.faults import POSTGRES, SERVER_FAULTS, unavailable_server
from tablebook.database import SERVICE_POOL_WAIT_SECONDS, open_pool
from tablebook.notifications_messages import MessageContext, manage_link
from tablebook.notifications_transports import (
    DeliveryError,
    SmtpTransport,
    Transport,
    TwilioTransport,
)
from tablebook.settings import DEVELOPMENT_PUBLIC_BASE_URL, NotificationSettings, Settings

__all__ = ["Claimed", "Sender", "open_sender", "run_sender", "transports"]

log = logging.getLogger("tablebook.notifications")

BATCH_SIZE = 20
_LINKED_KINDS = frozenset({"placed", "changed"})
"""The messages that carry the manage link."""
_decode_details = msgspec.json.Decoder(BookingDetails).decode

_CLAIM = """
UPDATE notifications SET status = 'sending', attempts = attempts + 1,
    next_attempt_at = %(now)s + make_interval(secs => %(lease)s), updated_at = now()
WHERE id IN (
    SELECT id FROM notifications
    WHERE status IN ('pending', 'sending') AND next_attempt_at <= %(now)s
    ORDER BY next_attempt_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING id, kind, channel, recipient, details::text, attempts, created_at, expires_at,
    booking_id, booking_version, venue_id
"""


_ACCOUNT = """
SELECT u.email, u.is_active, u.role = 'admin' OR EXISTS (
    SELECT 1 FROM venue_staff s WHERE s.venue_id = %(venue)s AND s.user_id = u.id
) FROM users u WHERE u.id = %(user)s
"""

_SENT = """
UPDATE notifications SET status = 'sent', sent_at = now(), provider_ref = %s,
    last_error = NULL, updated_at = now()
WHERE id = %s AND status = 'sending'
"""

_RETRY = """
UPDATE notifications SET status = 'pending', last_error = %s,
    next_attempt_at = %s + make_interval(secs => %s), updated_at = now()
WHERE id = %s AND status = 'sending'
"""

_FINISHED = """
UPDATE notifications SET status = %s, last_error = %s, reason = %s, updated_at = now()
WHERE id = %s AND status = 'sending'
"""


def _now() -> datetime:
    """The sender's clock, which also decides what is due: the instants it compares with
    (a reminder's due time, a booking's start) come from the events, stamped by the
    application's clock, so a database server whose clock differs cannot hold them back."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claimed:
    id: str
    kind: str
    channel: str
    recipient: str | None
    details: BookingDetails
    attempts: int
    created_at: datetime
    expires_at: datetime | None
    booking_id: str
    version: int
    venue_id: str


class Sender:
    """Delivers due notifications; `channels` maps a channel to its transport, or to the
    reason it is skipped."""

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        database_url: str,
        channels: dict[str, Transport | str],
        config: NotificationSettings,
        *,
        batch_size: int = BATCH_SIZE,
        public_base_url: str = DEVELOPMENT_PUBLIC_BASE_URL,
    ) -> None:
        self._pool = pool
        self._store = PostgresEventStore(pool, database_url)
        self._base_url = public_base_url
        self._host = urlsplit(public_base_url).hostname or "localhost"
        self._database_url = database_url
        self._channels = channels
        self._config = config
        self._batch_size = batch_size
        self._lease = config.lease_seconds
        self._skipped: Counter[str] = Counter()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set. A lost server never ends it: the batch is tried
        again after a backoff (`resilience.backoff`), and the LISTEN connection
        reconnects on its own (`Listener`)."""
        log.info("sender started", extra={"channels": _describe(self._channels)})
        listener = Listener(self._database_url, WAKE_CHANNEL)
        await listener.start()
        backoff = Backoff()
        try:
            while not stop.is_set():
                try:
                    handled = await self.step()
                except SERVER_FAULTS as error:
                    delay = backoff.failed()
                    log_retry(log, unavailable_server(error) or POSTGRES, backoff, delay, error)
                    await _sleep_or_stop(stop, delay)
                    continue
                except Exception:
                    log.exception("sender batch failed; retrying")
                    handled = 0
                backoff.succeeded()
                if handled < self._batch_size:
                    self._log_skipped()
                    await _wait(listener, stop, self._config.poll_seconds)
        finally:
            self._log_skipped()
            await listener.stop()
        log.info("sender stopped")

    async def step(self) -> int:
        """Claim one batch and deliver it; return how many rows it held."""
        claimed = await self._claim()
        # Every delivery runs to its end before a failure is raised: none is left
        # running (and failing unseen) into the next batch.
        outcomes = await asyncio.gather(
            *(self._deliver(message) for message in claimed), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome
        return len(claimed)

    async def drain(self) -> int:
        """Deliver every row due now (retries included as they fall due); for tests."""
        total = 0
        while handled := await self.step():
            total += handled
        self._log_skipped()
        return total

    async def _claim(self) -> list[Claimed]:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(
                _CLAIM, {"now": _now(), "lease": self._lease, "limit": self._batch_size}
            )
            rows = await cursor.fetchall()
        return [
            Claimed(
                r[0], r[1], r[2], r[3], _decode_details(r[4]), r[5], r[6], r[7], r[8], r[9], r[10]
            )
            for r in rows
        ]

    async def _deliver(self, message: Claimed) -> None:
        reason = self._skip_reason(message)
        address: str | None = None
        if reason is None:
            address, reason = await self._address(message)
        if reason is not None or address is None:
            await self._finish(message, "skipped", reason=reason or "no recipient")
            NOTIFICATIONS.labels(message.channel, "skipped").inc()
            return
        transport = self._channels[message.channel]
        assert not isinstance(transport, str)
        context = await self._context(message)
        try:
            # No outer deadline: cancelling a send that may still complete would only make
            # duplicates. Each transport bounds its own network calls.
            reference = await transport.send(
                message.id, message.kind, message.details, address, context
            )
        except DeliveryError as error:
            await self._failed(message, error)
            return
        await self._execute(_SENT, (reference, message.id))
        NOTIFICATIONS.labels(message.channel, "sent").inc()
        log.info("sent", extra=_fields(message))

    def _skip_reason(self, message: Claimed) -> str | None:
        now = _now()
        transport = self._channels.get(message.channel)
        if transport is None or isinstance(transport, str):
            return transport or f"no transport for {message.channel}"
        if message.expires_at is not None and message.expires_at <= now:
            return "the booking had started before the reminder could be sent"
        # The age rule keeps a first deployment over an old history quiet; it judges a
        # message when first tried. A later attempt (a backoff's, or staff retrying a
        # failed one from the console) was judged then and goes.
        max_age = timedelta(minutes=self._config.max_age_minutes)
        first_attempt = message.attempts == 1
        if first_attempt and message.expires_at is None and message.created_at < now - max_age:
            return f"the booking event is older than {self._config.max_age_minutes} minutes"
        return None

    async def _address(self, message: Claimed) -> tuple[str | None, str | None]:
        """Where the message goes, or why it goes nowhere."""
        recipient = message.recipient
        if not recipient:
            return None, "no recipient"
        if not recipient.startswith(ACCOUNT_RECIPIENT):
            return recipient, None
        user_id = recipient.removeprefix(ACCOUNT_RECIPIENT)
        async with self._pool.connection() as connection:
            cursor = await connection.execute(
                _ACCOUNT, {"venue": message.venue_id, "user": user_id}
            )
            row = await cursor.fetchone()
        if row is None:
            return None, "the account that made the booking no longer exists"
        email, active, staff = row
        if not active:
            return None, "the account that made the booking is deactivated"
        if staff:
            return None, "the booking was made from a staff account, not the guest's"
        return str(email), None

    async def _context(self, message: Claimed) -> MessageContext:
        venue = await venues.resolve(self._pool, message.venue_id)
        token = await self._manage_token(message)
        link: str | None = None
        if token and venue is not None:
            link = manage_link(self._base_url, venue.slug, message.booking_id, token)
        elif token:
            log.warning("no manage link: the venue is not in the directory", extra=_fields(message))
        return MessageContext(
            booking_id=message.booking_id,
            version=message.version,
            stamp=message.created_at,
            host=self._host,
            venue_name=venue.name if venue else None,
            venue_address=venue.address if venue else None,
            manage_link=link,
        )

    async def _manage_token(self, message: Claimed) -> str | None:
        """The token for the message's manage link, if it carries one: that of a booking
        made without an account, confirmed and not yet ended."""
        if message.kind not in _LINKED_KINDS:
            return None
        stream_id = streams_of(message.venue_id).booking(message.booking_id)
        events = [codec.decode(record) for record in await self._store.read_stream(stream_id)]
        state = BOOKING.fold(events)
        if not isinstance(state, Confirmed) or state.details.slot.ends_at <= _now():
            return None
        placed = next((e for e in events if isinstance(e, BookingPlaced)), None)
        return placed.manage_token if placed else None

    async def _failed(self, message: Claimed, error: DeliveryError) -> None:
        text = str(error) or type(error).__name__
        given_up = error.permanent or message.attempts >= self._config.max_attempts
        NOTIFICATIONS.labels(message.channel, "failed" if given_up else "retry").inc()
        if given_up:
            await self._finish(message, "failed", error=text)
            log.warning("failed", extra={**_fields(message), "error": text})
            return
        delay = self._config.backoff_seconds * 2 ** (message.attempts - 1)
        await self._execute(_RETRY, (text, _now(), delay, message.id))
        log.info("will retry", extra={**_fields(message), "in_s": delay, "error": text})

    async def _finish(
        self, message: Claimed, status: str, *, error: str | None = None, reason: str | None = None
    ) -> None:
        await self._execute(_FINISHED, (status, error, reason, message.id))
        if status == "skipped":
            self._skipped[reason or "no reason given"] += 1

    def _log_skipped(self) -> None:
        """One line for the messages skipped since the last, counted by reason (the
        reasons name settings and rules, never a guest)."""
        if not self._skipped:
            return
        reasons = "; ".join(f"{reason}: {n}" for reason, n in sorted(self._skipped.items()))
        log.info("skipped", extra={"count": self._skipped.total(), "reasons": reasons})
        self._skipped.clear()

    async def _execute(self, query: str, params: tuple[Any, ...]) -> None:
        async with self._pool.connection() as connection:
            await connection.execute(query, params)


def _fields(message: Claimed) -> dict[str, object]:
    return {"notification": message.id, "attempt": message.attempts}


def _describe(channels: dict[str, Transport | str]) -> str:
    return ",".join(f"{c}:{'off' if isinstance(t, str) else 'on'}" for c, t in channels.items())


async def _wait(listener: Listener, stop: asyncio.Event, seconds: float) -> None:
    """Until a NOTIFY arrives, `stop` is set or `seconds` pass."""
    notified = asyncio.ensure_future(listener.wait(seconds))
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({notified, stopped}, return_when=asyncio.FIRST_COMPLETED)
    for task in (notified, stopped):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def transports(settings: Settings) -> dict[str, Transport | str]:
    """Each channel's transport, or why it is off."""
    timeout = settings.notifications.timeout_seconds
    channels: dict[str, Transport | str] = {
        "email": "email is not configured (SMTP_HOST is unset)",
        "sms": "SMS is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM)",
    }
    if settings.smtp.host:
        channels["email"] = SmtpTransport(settings.smtp.host, settings.smtp, timeout, BATCH_SIZE)
    twilio = settings.twilio
    if twilio.account_sid and twilio.auth_token and twilio.sender:
        channels["sms"] = TwilioTransport(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            sender=twilio.sender,
            api_base=twilio.api_base,
            timeout=timeout,
        )
    return channels


@contextlib.asynccontextmanager
async def open_sender(
    settings: Settings, pool: AsyncConnectionPool[Any], database_url: str
) -> AsyncIterator[Sender]:
    channels = transports(settings)
    try:
        yield Sender(
            pool,
            database_url,
            channels,
            settings.notifications,
            public_base_url=settings.public_base_url,
        )
    finally:
        for transport in channels.values():
            if not isinstance(transport, str):
                await transport.aclose()


async def run_sender(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """`tablebook notifications run`: until SIGTERM/SIGINT (or `stop`)."""
    database_url = settings.database_url
    assert database_url
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    pool = await open_pool(
        database_url, min_size=1, max_size=BATCH_SIZE + 2, wait_seconds=SERVICE_POOL_WAIT_SECONDS
    )
    try:
        async with open_sender(settings, pool, database_url) as sender:
            await sender.run(stop)
    finally:
        await pool.close()
