"""Stand-ins for the outside world on loopback: an SMTP server (aiosmtpd) that keeps every
email it accepts, and an HTTP server playing Twilio's Messages API that keeps every
request. Both run in threads, so a sender in another process can reach them too."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["FakeTwilio", "Mailbox", "SmsRequest", "free_port"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """An SMTP server on 127.0.0.1 that stores what it accepts; `delay` slows each one."""

    def __init__(self, delay: float = 0.0) -> None:
        self.messages: list[EmailMessage] = []
        self.delay = delay
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(parsed)
        return "250 OK"

    def __enter__(self) -> Mailbox:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()


@dataclass(frozen=True)
class SmsRequest:
    path: str
    authorization: str
    form: dict[str, str]

    @property
    def credentials(self) -> tuple[str, str]:
        user, _, password = base64.b64decode(self.authorization.split()[1]).decode().partition(":")
        return user, password


@dataclass
class FakeTwilio:
    """Answers `POST .../Messages.json` with 201 (or `status` when set to fail)."""

    status: int = 201
    delay: float = 0.0
    requests: list[SmsRequest] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:
                    # The sender died mid-request (a kill -9 test): like Twilio, a message
                    # whose body never fully arrived is not sent.
                    self.close_connection = True
                    return
                body = raw.decode()
                form = {k: v[0] for k, v in parse_qs(body).items()}
                if fake.delay:
                    time.sleep(fake.delay)
                fake.requests.append(
                    SmsRequest(self.path, self.headers.get("Authorization", ""), form)
                )
                reply: dict[str, Any] = (
                    {"sid": f"SM{len(fake.requests):032d}"}
                    if fake.status == 201
                    else {"code": 20500, "message": f"refused with {fake.status}"}
                )
                payload = json.dumps(reply).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
