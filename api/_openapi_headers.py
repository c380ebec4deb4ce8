"""The headers each operation reads and sends, as the OpenAPI schema declares them.

Requests: `Idempotency-Key` on every command, `If-Match` where a version is checked,
`X-Consistency-Token` on reads of a projection. Responses: `ETag` where the version is
sent, `Location` on a creation, `X-Consistency-Token` (and `Idempotent-Replayed`) on a
command, `Retry-After` on a 429 or 503. Patterns are plain ASCII, as header values are.
Which operation does what is `api.contract`'s to say.
"""

from __future__ import annotations

from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Schema,
)

from api.context import TOKEN_FORM
from api.contract import CONSISTENT_READS, ETAG_SENT, IF_MATCH, NOT_IDEMPOTENT, unscoped

__all__ = ["declare_headers", "response_header"]


def _header(pattern: str, description: str, example: str, max_length: int) -> Schema:
    return Schema(
        type=OpenAPIType.STRING,
        pattern=pattern,
        max_length=max_length,
        description=description,
        examples=[example],
    )


_TOKEN = _header(
    TOKEN_FORM.pattern,
    "A write's position in the event log (`tx-position`); `0` is before any write",
    "781-1842",
    39,
)
_VERSION_TAG = _header(
    r'^(W/)?"?[0-9]{1,9}"?$', "The resource's version, as its ETag gave it", '"3"', 13
)
_REQUEST_HEADERS = {
    "Idempotency-Key": (
        _header(
            r"^[ -~]*[!-~][ -~]*$",
            "1 to 200 printable ASCII characters, unique per request",
            "c0ffee-7a1d-4b6e-booking-42",
            200,
        ),
        "Repeat the request safely: the same key with the same body gets the first answer "
        "back (with `Idempotent-Replayed: true`); with another body it is a 422.",
    ),
    "If-Match": (
        _VERSION_TAG,
        "Change only if the resource is still at this version (its `ETag`); otherwise 409 "
        "`stale-version`.",
    ),
    "X-Consistency-Token": (
        _TOKEN,
        "Read your writes: the `X-Consistency-Token` of a write's response. The read waits "
        "(up to 5 s, then 503) until it includes that write; a token no write gave is a 422.",
    ),
}
_RESPONSE_HEADERS = {
    "ETag": (_VERSION_TAG, "The resource's version, for `If-Match`"),
    "Location": (
        Schema(
            type=OpenAPIType.STRING,
            format=OpenAPIFormat.URI_REFERENCE,
            examples=["/api/v1/bookings/bkg_5f0c"],
        ),
        "Where the created resource is read",
    ),
    "X-Consistency-Token": (_TOKEN, "Send it back on a read to see this write"),
    "Idempotent-Replayed": (
        Schema(type=OpenAPIType.STRING, enum=["true"]),
        "`true` when this is the answer kept for an earlier request with this key",
    ),
    "Retry-After": (
        Schema(type=OpenAPIType.STRING, pattern=r"^[0-9]{1,9}$", examples=["2"]),
        "Seconds to wait before trying again",
    ),
}


_SOMETIMES = frozenset({"X-Consistency-Token", "Idempotent-Replayed"})
"""Response headers not on every answer: a write that changed nothing (cancelling a
cancelled booking) has no new position to give, and only a repeat is a replay."""


def response_header(name: str, *, required: bool) -> OpenAPIHeader:
    schema, description = _RESPONSE_HEADERS[name]
    return OpenAPIHeader(schema=schema, description=description, required=required)


def _headers_in(path: str, method: str) -> list[str]:
    names = []
    if path.startswith("/api/v1/") and method != "get" and path not in NOT_IDEMPOTENT:
        names.append("Idempotency-Key")
    if (method, path) in IF_MATCH:
        names.append("If-Match")
    if method == "get" and path in CONSISTENT_READS:
        names.append("X-Consistency-Token")
    return names


def _headers_out(path: str, method: str, status: str) -> list[str]:
    names = []
    if (method, path) in ETAG_SENT:
        names.append("ETag")
    if "Idempotency-Key" in _headers_in(path, method):
        names += ["X-Consistency-Token", "Idempotent-Replayed"]
    if status == "201" and method == "post" and path != "/api/v1/auth/register":
        names.append("Location")
    return names


def declare_headers(path: str, method: str, operation: Operation) -> None:
    path = unscoped(path)
    parameters = list(operation.parameters or [])
    for name in _headers_in(path, method):
        schema, description = _REQUEST_HEADERS[name]
        parameters.append(
            Parameter(name=name, param_in="header", schema=schema, description=description)
        )
    operation.parameters = parameters or None
    for status, response in (operation.responses or {}).items():
        if isinstance(response, OpenAPIResponse) and status.startswith("2"):
            found = _headers_out(path, method, status)
            if found:
                response.headers = {
                    **(response.headers or {}),
                    **{n: response_header(n, required=n not in _SOMETIMES) for n in found},
                }
