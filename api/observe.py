"""Every request: a request id, one access-log line, and its count in `/metrics`.

Wrapped around the whole app (outside routing, so a 404 for no route, a 405 and a 400
from `api.wire_text` are seen too). The request id is the client's `X-Request-ID` when it
is 1 to 64 of `A-Z a-z 0-9 . _ -`, else a new one; it is sent back on every response,
bound to every log line written while the request runs, and put in problem details
(`request_id`).

The access-log line names the route by its template and the signed-in user by id: never
the path (ids, a manage token's booking), the query string (an email searched for) or
anything a guest typed.
"""

from __future__ import annotations

import json
import logging
import re
import time

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api import request_id as request_ids
from api.accounts.users import User
from api.metrics import BOOKING_ACTION, BOOKINGS, LATENCY, REQUESTS

__all__ = ["access_log", "observed", "route_of"]

_TYPED_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):[^}]*\}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_KIND = re.compile(r"/problems/([a-z0-9-]{1,60})$")
_DONE = {"book": "booked", "change": "changed", "cancel": "cancelled"}

access_log: structlog.stdlib.BoundLogger = structlog.wrap_logger(
    logging.getLogger("tablebook.access"),
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.render_to_log_kwargs,
    ],
    wrapper_class=structlog.stdlib.BoundLogger,
)
"""Through the standard library's logging, so its lines are formatted like every other
(`tablebook.logs`); the request id comes from structlog's context."""


def _given_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            return str(value.decode("latin-1"))
    return None


def route_of(scope: Scope) -> str:
    """The matched route's template with plain `{name}` parameters; `unmatched` if none."""
    template = scope.get("path_template")
    if not isinstance(template, str) or not template:
        return "unmatched"
    return _TYPED_PARAMETER.sub(r"{\1}", template)


def _user_id(scope: Scope) -> str | None:
    user = scope.get("state", {}).get("user")
    return user.id if isinstance(user, User) else None


class _Answer:
    """What the app sent: status, when its head went, and a refusal's problem type."""

    def __init__(self) -> None:
        self.status = 500
        self.head_at: float | None = None
        self.replayed = False
        self.problem = False
        self.body = bytearray()

    def wants_body(self, action: str | None) -> bool:
        """Keep a booking refusal's body (small problem details) to read its type."""
        return self.problem and action is not None and len(self.body) < 4096

    def kind(self) -> str:
        try:
            problem_type = json.loads(bytes(self.body)).get("type", "")
        except (ValueError, AttributeError):
            return "unknown"
        found = _KIND.search(problem_type) if isinstance(problem_type, str) else None
        return found.group(1) if found else "unknown"


def _count_booking(action: str, answer: _Answer) -> None:
    if answer.replayed:  # the answer kept for an earlier request, counted then
        return
    if answer.status < 400:
        BOOKINGS.labels(action, _DONE.get(action, action), "none").inc()
    elif answer.status == 503:
        BOOKINGS.labels(action, "unavailable", answer.kind()).inc()
    elif answer.status >= 500:
        BOOKINGS.labels(action, "error", "none").inc()
    else:
        BOOKINGS.labels(action, "refused", answer.kind()).inc()


def observed(app: ASGIApp) -> ASGIApp:
    """The app, with request ids, access log and request metrics around it."""

    async def observing(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        request_id = request_ids.request_id_from(_given_request_id(scope))
        started = time.perf_counter()
        answer = _Answer()
        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        entered = request_ids.enter(request_id)

        def action() -> str | None:
            handler = scope.get("route_handler")
            opt = getattr(handler, "opt", None) or {}
            found = opt.get(BOOKING_ACTION)
            return found if isinstance(found, str) else None

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = int(message["status"])
                answer.head_at = time.perf_counter()
                headers = list(message.get("headers", []))
                for name, value in headers:
                    lowered = name.lower()
                    if lowered == b"idempotent-replayed" and value == b"true":
                        answer.replayed = True
                    elif lowered == b"content-type" and value.startswith(b"application/problem"):
                        answer.problem = True
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            elif message["type"] == "http.response.body" and answer.wants_body(action()):
                answer.body += message.get("body", b"")
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            ended = time.perf_counter()
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route, status = route_of(scope), str(answer.status)
            REQUESTS.labels(method, route, status).inc()
            LATENCY.labels(method, route, status).observe((answer.head_at or ended) - started)
            booking = action()
            if booking is not None:
                _count_booking(booking, answer)
            fields: dict[str, object] = {
                "method": method,
                "route": route,
                "status": answer.status,
                "duration_ms": round((ended - started) * 1000, 1),
            }
            user_id = _user_id(scope)
            if user_id is not None:
                fields["user_id"] = user_id
            access_log.info("request", **fields)
            structlog.contextvars.reset_contextvars(**bound)
            request_ids.leave(entered)

    return observing
