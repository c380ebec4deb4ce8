"""How a notification leaves: email over SMTP (STARTTLS when the server offers it) and SMS
through Twilio's REST API. Each call has a timeout; a failure says whether trying again
could help (`DeliveryError.permanent`).
"""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from typing import Protocol

import httpx

from projectors.notifications import BookingDetails
from tablebook.notifications_messages import MessageContext, email_message, sms_text
from tablebook.settings import SmtpSettings

__all__ = ["DeliveryError", "SmtpTransport", "Transport", "TwilioTransport"]


class DeliveryError(Exception):
    """The provider refused or could not be reached; `permanent` when a retry is futile."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    async def send(
        self,
        notification_id: str,
        kind: str,
        details: BookingDetails,
        recipient: str,
        context: MessageContext | None = None,
    ) -> str:
        """Deliver; return the provider's reference for the message."""
        ...

    async def aclose(self) -> None: ...


class SmtpTransport:
    """smtplib in threads of its own (one per message of a batch, so none waits for a
    thread while its clock runs); the socket timeout bounds every SMTP command."""

    def __init__(self, host: str, settings: SmtpSettings, timeout: float, threads: int) -> None:
        self.host = host
        self.settings = settings
        self.timeout = timeout
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="smtp")

    async def send(
        self,
        notification_id: str,
        kind: str,
        details: BookingDetails,
        recipient: str,
        context: MessageContext | None = None,
    ) -> str:
        message = email_message(
            kind, details, sender=self.settings.sender, to=recipient, context=context
        )
        # The same id on a redelivery lets mail systems (and people) spot the repeat.
        digest = hashlib.sha256(notification_id.encode()).hexdigest()[:32]
        message["Message-ID"] = f"<{digest}@tablebook.notifications>"
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._threads, self._send, message)
        except smtplib.SMTPResponseException as error:
            text = f"SMTP {error.smtp_code}: {error.smtp_error!r}"
            raise DeliveryError(text, permanent=500 <= error.smtp_code < 600) from error
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(f"recipient refused: {error.recipients}", permanent=True) from error
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"SMTP: {type(error).__name__}: {error}") from error

    def _send(self, message: EmailMessage) -> str:
        with smtplib.SMTP(self.host, self.settings.port, timeout=self.timeout) as smtp:
            smtp.ehlo()
            if self.settings.starttls and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.settings.user and self.settings.password:
                smtp.login(self.settings.user, self.settings.password)
            smtp.send_message(message)
        return str(message["Message-ID"] or "")

    async def aclose(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)


class TwilioTransport:
    def __init__(
        self, *, account_sid: str, auth_token: str, sender: str, api_base: str, timeout: float
    ) -> None:
        self._sender = sender
        self._path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._client = httpx.AsyncClient(
            base_url=api_base.rstrip("/"), auth=(account_sid, auth_token), timeout=timeout
        )

    async def send(
        self,
        notification_id: str,
        kind: str,
        details: BookingDetails,
        recipient: str,
        context: MessageContext | None = None,
    ) -> str:
        form = {"To": recipient, "From": self._sender, "Body": sms_text(kind, details, context)}
        try:
            response = await self._client.post(self._path, data=form)
        except httpx.HTTPError as error:
            raise DeliveryError(f"Twilio: {type(error).__name__}: {error}") from error
        if response.is_success:
            return str(_json_field(response, "sid"))
        status = response.status_code
        detail = _json_field(response, "message") or response.text[:200]
        permanent = 400 <= status < 500 and status not in {408, 429}
        raise DeliveryError(f"Twilio {status}: {detail}", permanent=permanent)

    async def aclose(self) -> None:
        await self._client.aclose()


def _json_field(response: httpx.Response, name: str) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get(name, "")) if isinstance(body, dict) else ""
