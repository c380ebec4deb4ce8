"""Document what the route handlers cannot say themselves, in one place.

Each route documents its success; the rest follows from what the route is. Refusals: one
with parameters or a body can be a 400, a signed-in route a 401 or 403, a route with an
id in its path a 404, a write with a body a 413, anything under /api/ a 503 (PostgreSQL or
Redis unavailable, a read model behind); its 409s and
422s are the business rules `api.contract` lists for it, each with its problem type. They
are all RFC 9457 problem details, so they share one schema. Headers: what each operation
reads and sends (`api._openapi_headers`). Shapes: the bounds the API enforces that the
Structs cannot carry, and one realistic example per schema (`api._openapi_shapes`).
"""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.openapi.spec import (
    OpenAPI,
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

from api._openapi_headers import declare_headers, response_header
from api._openapi_shapes import bound_shapes
from api.contract import BODY_NAMES_IDS, RATE_LIMITED, Refusal, refusals, unscoped

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
        "rule": Schema(
            type=OpenAPIType.STRING,
            description="For override-required: the rule a reason would set aside, as the"
            " last part of its problem type (`seating-window`, `outside-opening-hours`)",
        ),
        "request_id": Schema(
            type=OpenAPIType.STRING,
            description="The request's id, as the `X-Request-ID` response header gives it",
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
    503: "PostgreSQL or Redis is unavailable (restarting, unreachable), or a read model is "
    "not ready or has not caught up with X-Consistency-Token within 5 s; see Retry-After",
}

_PROBLEM_REF = Reference(ref="#/components/schemas/Problem")
_METHODS = ("get", "put", "post", "delete", "patch")


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
        headers = {"Retry-After": response_header("Retry-After", required=True)}
    return OpenAPIResponse(
        description=description,
        headers=headers,
        content={PROBLEM_JSON: OpenAPIMediaType(schema=schema)},
    )


def _paged(operation: Operation) -> bool:
    return any(isinstance(p, Parameter) and p.name == "cursor" for p in operation.parameters or [])


def _statuses(path: str, method: str, operation: Operation) -> set[int]:
    statuses: set[int] = set()
    if operation.parameters or operation.request_body:
        statuses.add(400)
    if operation.security:
        statuses |= {401, 403}
    if "{" in path or (method, unscoped(path)) in BODY_NAMES_IDS:
        statuses.add(404)
    if operation.request_body:
        statuses.add(413)
    if path.startswith("/api/"):
        statuses.add(503)
    if path.endswith("/auth/token"):
        statuses |= {401, 429}
    if (method, unscoped(path)) in RATE_LIMITED:
        statuses.add(429)
        if path.endswith("/public/bookings"):  # a guest may be signed in (a bad token: 401)
            statuses.add(401)
    return statuses


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
            declare_headers(path, method, operation)
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
            answer.headers = {"Retry-After": response_header("Retry-After", required=True)}
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
