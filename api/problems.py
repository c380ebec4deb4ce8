"""RFC 9457 problem details for every refused request: never a stack trace.

Every 503 comes from one place (`unavailable_response`, with `Retry-After`): a read model
not ready or not caught up, and any fault of PostgreSQL or Redis (`resilience.faults`) on
any route, however deep it was raised: the client is told to come back, never given a
500 for a server that is restarting.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException

from api.accounts.limits import TooManyAttempts
from api.accounts.users import EmailTaken
from api.field_errors import InvalidRequest, ProblemField
from api.plain_words import plain
from api.refused import Refused
from api.request_id import current_request_id
from booking_core.domain.errors import DomainError, FieldProblems, OverrideRequired
from booking_core.store.errors import IdempotencyKeyReused
from read_models.availability import ModelNotReady
from read_models.consistency import NotCaughtUp, UnknownToken
from resilience.faults import SERVER_FAULTS, unavailable_server

__all__ = [
    "Problem",
    "ProblemField",
    "exception_handlers",
    "problem_response",
    "unavailable_response",
]

log = logging.getLogger("tablebook.api")

PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemField] | None = None
    rule: str | None = None
    """For `override-required`: the problem type's last part of the rule staff would
    set aside (`seating-window`, `outside-opening-hours`, ...)."""
    request_id: str | None = None
    """The request's `X-Request-ID`, to find it in the logs."""


def problem_response(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    errors: list[ProblemField] | None = None,
    headers: dict[str, str] | None = None,
    rule: str | None = None,
) -> Response[Problem]:
    title = _TITLES.get(status, "Error")
    problem = Problem(
        type=f"https://tablebook.dev/problems/{kind or title.lower().replace(' ', '-')}",
        title=title,
        status=status,
        detail=detail,
        errors=errors,
        rule=rule,
        request_id=current_request_id(),
    )
    return Response(problem, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_AT = re.compile(r" - at `\$\.?([^`]*)`$")
_MISSING_PARAMETER = re.compile(r"Missing required ([a-z]+) parameter '([^']*)'")
_FIELD_DETAIL = re.compile(r"([A-Za-z_][A-Za-z0-9_.\[\]-]*): (.+)", re.DOTALL)
_NAMED_FIELD = re.compile(r"field `([^`]+)`")


def _field(key: str, message: str) -> ProblemField:
    """One invalid field, named as the client sent it ("body" for the body itself)."""
    at = _AT.search(message)
    if at:
        key = at.group(1) or key
    if key == "data" and message.strip("'") == "data":
        return ProblemField(field="body", message="a JSON body is required")
    field = _NAMED_FIELD.search(message)
    if key in ("data", "body") and field:
        key = field.group(1)
    elif field:
        key = f"{key}.{field.group(1)}"
    return ProblemField(field="body" if key == "data" else key, message=plain(message))


def _validation_fields(extra: Any) -> list[ProblemField]:
    fields: list[ProblemField] = []
    if isinstance(extra, list):
        for item in extra:
            if isinstance(item, dict):
                key = str(item.get("key") or item.get("source") or "body")
                fields.append(_field(key, str(item.get("message", ""))))
    return fields


def _on_invalid(_: Request[Any, Any, Any], exc: InvalidRequest) -> Response[Problem]:
    # A 422 here is well-formed input holding a NUL: the contract's `unprocessable-request`.
    kind = "validation" if exc.status == 400 else "unprocessable-request"
    return problem_response(exc.status, exc.detail, kind=kind, errors=exc.errors)


def _on_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    fields = _validation_fields(exc.extra)
    missing = _MISSING_PARAMETER.match(str(exc.detail))
    if missing and not fields:
        fields = [ProblemField(missing.group(2), f"this {missing.group(1)} parameter is required")]
    detail = "; ".join(f"{f.field}: {f.message}" for f in fields) or "The request is not valid."
    return problem_response(400, detail, kind="validation", errors=fields or None)


def _on_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    headers = dict(exc.headers or {})
    if isinstance(exc.__cause__, SerializationException):
        detail = "The request body is not valid JSON."
        body = [ProblemField("body", "must be valid JSON")]
        return problem_response(
            400, detail, kind="malformed-body", errors=body, headers=headers or None
        )
    detail = str(exc.detail)
    one = _FIELD_DETAIL.fullmatch(detail) if exc.status_code in (400, 422) else None
    errors = [ProblemField(one.group(1), one.group(2))] if one else None
    kind = exc.kind if isinstance(exc, Refused) else None
    return problem_response(
        exc.status_code, detail, kind=kind, errors=errors, headers=headers or None
    )


_DOMAIN_STATUS = {"conflict": 409, "rule": 422, "not_found": 404, "forbidden": 403}


def _on_domain(_: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    rule = exc.rule.code if isinstance(exc, OverrideRequired) else None
    errors = None
    if isinstance(exc, FieldProblems):  # settings: every field at fault, each by its path
        errors = [ProblemField(field, message) for field, message in exc.problems]
    return problem_response(
        _DOMAIN_STATUS[exc.kind], exc.detail, kind=exc.code, rule=rule, errors=errors
    )


def _on_too_many(_: Request[Any, Any, Any], exc: TooManyAttempts) -> Response[Problem]:
    return problem_response(
        429, exc.detail, kind=exc.kind, headers={"Retry-After": str(exc.retry_after)}
    )


RETRY_AFTER_SECONDS = {
    "server-unavailable": 2,
    "model-not-ready": 2,
    "not-caught-up": 1,
    "not-ready": 5,
}
"""What `Retry-After` says for each kind of 503: a restart of PostgreSQL or Redis takes a
few seconds; a read model catching up with a write takes less; a load balancer's
readiness probe can wait longer."""


def _on_unknown_token(_: Request[Any, Any, Any], exc: UnknownToken) -> Response[Problem]:
    return problem_response(422, str(exc), kind="unknown-consistency-token")


def unavailable_response(detail: str, kind: str) -> Response[Problem]:
    """The one shape of every 503: problem details with `Retry-After`."""
    retry_after = RETRY_AFTER_SECONDS.get(kind, 2)
    return problem_response(503, detail, kind=kind, headers={"Retry-After": str(retry_after)})


def _unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem] | None:
    """The 503 for an error that means "try again shortly", None for any other error."""
    if isinstance(exc, NotCaughtUp):
        detail = "The read model has not caught up with the write yet; retry shortly."
        return unavailable_response(detail, "not-caught-up")
    if isinstance(exc, ModelNotReady):
        return unavailable_response(f"{exc}; retry shortly.", "model-not-ready")
    server = unavailable_server(exc)
    if server is None:
        return None
    # One line, no traceback: the cause is the server, not this request.
    log.warning(
        "server unavailable",
        extra={
            "server": server,
            "error": type(exc).__name__,
            "method": request.method,
            "path": request.url.path,
        },
    )
    return unavailable_response(f"{server} is unavailable; retry shortly.", "server-unavailable")


def _on_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    return _unavailable(request, exc) or _on_unexpected(request, exc)


def _on_key_reused(_: Request[Any, Any, Any], exc: IdempotencyKeyReused) -> Response[Problem]:
    return problem_response(
        422,
        "This Idempotency-Key was already used for a different request.",
        kind="idempotency-key-reused",
    )


def _on_email_taken(_: Request[Any, Any, Any], exc: EmailTaken) -> Response[Problem]:
    return problem_response(409, str(exc), kind="email-taken")


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    unavailable = _unavailable(request, exc)  # a fault wrapped in another error
    if unavailable is not None:
        return unavailable
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "The server failed to handle this request.")


exception_handlers: dict[Any, Any] = {
    404: _on_http,
    405: _on_http,
    DomainError: _on_domain,
    TooManyAttempts: _on_too_many,
    UnknownToken: _on_unknown_token,
    NotCaughtUp: _on_unavailable,
    ModelNotReady: _on_unavailable,
    **dict.fromkeys(SERVER_FAULTS, _on_unavailable),
    IdempotencyKeyReused: _on_key_reused,
    EmailTaken: _on_email_taken,
    InvalidRequest: _on_invalid,
    ValidationException: _on_validation,
    HTTPException: _on_http,
    Exception: _on_unexpected,
}
