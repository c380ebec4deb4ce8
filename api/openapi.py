"""Document the problem responses every operation can give, in one place.

Each route documents its success; the refusals follow from what the route is: one with
parameters or a body can be a 400 or 422, a signed-in route a 401 or 403, a route with an
id in its path a 404, a write a 409 or 413, any route under /api a 503 (PostgreSQL or Redis
unavailable, a read model behind). They are all RFC 9457 problem details, so they share one
schema.
"""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["document_problems", "fix_allow_header"]

PROBLEM_JSON = "application/problem+json"

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
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "message"],
                properties={
                    "field": Schema(type=OpenAPIType.STRING),
                    "message": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
    },
)

_WHY = {
    400: "The request is malformed: bad JSON, wrong types, unknown fields, out-of-range "
    "values, or a bad header or cursor",
    401: "No access token, or one that is not valid (any more)",
    403: "The signed-in user's role may not do this",
    404: "Nothing with this id, or nothing the caller may see",
    409: "Conflicts with the current state (slot taken, stale If-Match, still in use)",
    413: "The request body is too large",
    422: "Well-formed, but breaks a rule (opening hours, party size, booking window, "
    "an Idempotency-Key reused for another request)",
    429: "Too many attempts; see Retry-After",
    503: "PostgreSQL or Redis is unavailable (restarting, unreachable), or a read model is "
    "not ready or has not caught up with X-Consistency-Token within 5 s; see Retry-After",
}

_PROBLEM_REF = Reference(ref="#/components/schemas/Problem")
_METHODS = ("get", "put", "post", "delete", "patch")


def _problem(status: int) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=_WHY[status],
        content={PROBLEM_JSON: OpenAPIMediaType(schema=_PROBLEM_REF)},
    )


def _statuses(path: str, method: str, operation: Operation) -> set[int]:
    statuses: set[int] = set()
    if operation.parameters or operation.request_body:
        statuses |= {400, 422}
    if operation.security:
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if method != "get":
        statuses |= {409, 413}
    if path.startswith("/api/"):
        statuses.add(503)
    if path.endswith("/auth/token"):
        statuses |= {401, 429}
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
    operation lists the problems it can answer with."""
    components = schema.components
    components.schemas = {**(components.schemas or {}), "Problem": _PROBLEM}
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
            responses = dict(operation.responses or {})
            for status in sorted(_statuses(path, method, operation)):
                responses[str(status)] = _problem(status)
            operation.responses = responses


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
