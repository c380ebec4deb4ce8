"""Document what the route handlers cannot say themselves, in one place.

Each route documents its success; the rest follows from what the route is. Refusals: one
with parameters or a body can be a 400, a signed-in route a 401 or 403, a route with an
id in its path a 404, a write with a body a 413, anything under /api/ a 503; its 409s and
422s are the business rules `api.contract` lists for it, each with its problem type. They
are all RFC 9457 problem details, so they share one schema. Headers: the request headers
an operation reads (`Idempotency-Key`, `If-Match`, `X-Consistency-Token`) and the response
headers it sends (`ETag`, `Location`, `X-Consistency-Token`, `Retry-After`). Shapes: the
bounds the API enforces that the Structs cannot carry (dates 2000-2199, no NUL in text),
and one realistic example per schema (`api.examples`).
"""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api._openapi_shapes import bound_shapes
from api.context import TOKEN_FORM
from api.contract import (
    CONSISTENT_READS,
    ETAG_SENT,
    IF_MATCH,
    NOT_IDEMPOTENT,
    Refusal,
    refusals,
)

__all__ = ["document_problems", "fix_allow_header"]

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPES = "https://tablebook.dev/problems/"

_PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    description="RFC 9457 problem details",
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, description="A URI naming the kind of problem"),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING, description="What was wrong, for people"),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            description="For a validation problem: each field and what is wrong with it",
            items=Reference(ref="#/components/schemas/ProblemField"),
        ),
    },
)
_PROBLEM_FIELD = Schema(
    type=OpenAPIType.OBJECT,
    required=["field", "message"],
    properties={
        "field": Schema(type=OpenAPIType.STRING, description="Where: `party_size`, `body`"),
        "message": Schema(type=OpenAPIType.STRING, description="What is wrong with it"),
    },
)

_WHY = {
    400: "The request is malformed: bad JSON, wrong types, unknown fields, out-of-range "
    "values, or a bad header or cursor",
    401: "No access token, or one that is not valid (any more)",
    403: "The signed-in user's role may not do this",
    404: "Nothing with this id, or nothing the caller may see",
    409: "Conflicts with the current state",
    413: "The request body is too large",
    422: "Well-formed, but breaks a rule",
    429: "Too many attempts; wait as long as Retry-After says",
    503: "A read model is not ready or has not caught up with X-Consistency-Token within "
    "5 s; retry after Retry-After",
}

_PROBLEM_REF = Reference(ref="#/components/schemas/Problem")
_METHODS = ("get", "put", "post", "delete", "patch")


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


def _problem(status: int, found: list[Refusal]) -> OpenAPIResponse:
    schema: Schema | Reference = _PROBLEM_REF
    description = _WHY[status]
    if found:
        kinds = [f"{PROBLEM_TYPES}{r.kind}" for r in found]
        schema = Schema(
            all_of=[
                _PROBLEM_REF,
                Schema(
                    type=OpenAPIType.OBJECT,
                    properties={"type": Schema(type=OpenAPIType.STRING, enum=kinds)},
                ),
            ]
        )
        description += ":\n\n" + "\n".join(f"- `{r.kind}`: {r.why}" for r in found)
    headers: dict[str, OpenAPIHeader | Reference] | None = None
    if status in (429, 503):
        headers = {"Retry-After": _response_header("Retry-After", required=True)}
    return OpenAPIResponse(
        description=description,
        headers=headers,
        content={PROBLEM_JSON: OpenAPIMediaType(schema=schema)},
    )


def _response_header(name: str, *, required: bool) -> OpenAPIHeader:
    schema, description = _RESPONSE_HEADERS[name]
    return OpenAPIHeader(schema=schema, description=description, required=required)


def _paged(operation: Operation) -> bool:
    return any(isinstance(p, Parameter) and p.name == "cursor" for p in operation.parameters or [])


def _statuses(path: str, method: str, operation: Operation) -> set[int]:
    statuses: set[int] = set()
    if operation.parameters or operation.request_body:
        statuses.add(400)
    if operation.security:
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if operation.request_body:
        statuses.add(413)
    if path.startswith("/api/"):
        statuses.add(503)
    if path.endswith("/auth/token"):
        statuses |= {401, 429}
    return statuses


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


def _declare_headers(path: str, method: str, operation: Operation) -> None:
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
                    **{n: _response_header(n, required=n not in _SOMETIMES) for n in found},
                }


def _closed(node: Schema | Reference | None, schemas: dict[str, Schema], seen: set[int]) -> None:
    """Mark every object schema under `node` as refusing unknown properties."""
    if isinstance(node, Reference):
        node = schemas.get(node.ref.rsplit("/", 1)[-1])
    if not isinstance(node, Schema) or id(node) in seen:
        return
    seen.add(id(node))
    if node.properties is not None and node.additional_properties is None:
        node.additional_properties = False
    children: list[Schema | Reference] = [
        *(node.properties or {}).values(),
        *(node.one_of or []),
        *(node.any_of or []),
        *(node.all_of or []),
    ]
    if isinstance(node.items, Schema) and node.items.one_of:
        # Litestar renders the items of a bounded list as `oneOf: [<item>, {}]`, and
        # the empty schema would admit anything: keep the real alternatives only.
        kept = [s for s in node.items.one_of if s != Schema()]
        node.items = kept[0] if len(kept) == 1 else Schema(one_of=kept)
    if isinstance(node.items, Schema | Reference):
        children.append(node.items)
    for child in children:
        _closed(child, schemas, seen)


def _document(schema: OpenAPI) -> None:
    """Request bodies refuse unknown fields (every body Struct forbids them), and every
    operation lists its headers and the problems it can answer with."""
    components = schema.components
    components.schemas = {
        **(components.schemas or {}),
        "Problem": _PROBLEM,
        "ProblemField": _PROBLEM_FIELD,
    }
    seen: set[int] = set()
    for path, item in (schema.paths or {}).items():
        for method in _METHODS:
            operation = getattr(item, method, None)
            if not isinstance(operation, Operation):
                continue
            body = operation.request_body
            if isinstance(body, RequestBody):
                for media_type, media in body.content.items():
                    if media_type == "application/json":
                        _closed(media.schema, components.schemas, seen)
            found = refusals(
                method,
                path,
                paged=_paged(operation),
                has_input=bool(operation.parameters or operation.request_body),
            )
            _declare_headers(path, method, operation)
            operation.responses = _responses(path, method, operation, found)
    bound_shapes(schema)


def _responses(
    path: str, method: str, operation: Operation, found: tuple[Refusal, ...]
) -> dict[str, OpenAPIResponse | Reference]:
    """The operation's own responses, then its refusals; a 429 or 503 says Retry-After."""
    responses = dict(operation.responses or {})
    for status in (409, 422):
        listed = [r for r in found if r.status == status]
        if listed:
            responses[str(status)] = _problem(status, listed)
    for status in sorted(_statuses(path, method, operation)):
        responses[str(status)] = _problem(status, [])
    for code in ("429", "503"):
        answer = responses.get(code)
        if isinstance(answer, OpenAPIResponse) and not answer.headers:
            answer.headers = {"Retry-After": _response_header("Retry-After", required=True)}
    return responses


_PARAM_TYPE = re.compile(r":[a-z]+}")


def fix_allow_header(app: ASGIApp) -> ASGIApp:
    """Middleware: `Allow` on an OPTIONS answer lists every method of the path.

    Litestar's automatic OPTIONS handler is made with the first handler registered for a
    path and keeps listing only that handler's methods when others join the path later.
    """

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") != "OPTIONS":
            await app(scope, receive, send)
            return
        template = _PARAM_TYPE.sub("}", str(scope.get("path_template")))
        methods = _methods(scope["litestar_app"]).get(template)

        async def send_fixed(message: Message) -> None:
            if methods and message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", methods.encode())]}
            await send(message)

        await app(scope, receive, send_fixed)

    return wrapped


def _methods(app: Litestar) -> dict[str, str]:
    found: dict[str, str] = app.state.get("allow_by_path") or {}
    if not found:
        for route in app.routes:
            if isinstance(route, HTTPRoute):
                found[_PARAM_TYPE.sub("}", route.path)] = ", ".join(sorted(route.methods))
        app.state["allow_by_path"] = found
    return found


def document_problems(app: Litestar) -> None:
    """An `on_startup` hook: add the problem responses before the schema is first served."""
    _document(app.openapi_schema)
