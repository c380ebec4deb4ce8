"""Bounds the API enforces that the Structs do not carry into the schema, and the examples.

A client generated from the schema must never send a request the API refuses for its
shape, so every bound the handlers check goes into the schema too:

- dates: the book holds 2000-01-01 to 2199-12-31 (`check_date`), said by a pattern;
- text: PostgreSQL cannot store NUL, so free text says it may not hold one;
- ids in paths: 1 to 200 characters without `@` (`booking_core.domain.streams`);
- accounts: a password of at least 8 characters, an email address `name@host.tld`;
- the live stream's `Last-Event-ID`: an id it sent, or `0`.

Each schema, and each common parameter, also gets its example from `api.examples` in
place of made-up strings.
"""

from __future__ import annotations

from litestar.openapi.spec import OpenAPI, OpenAPIType, Operation, Parameter, Reference, Schema

from api.accounts.shapes import EMAIL_PATTERN
from api.accounts.users import MIN_PASSWORD_CHARACTERS
from api.examples import EXAMPLES, PARAMETER_EXAMPLES
from api.floor.fields import LAST_EVENT_ID

__all__ = ["DATE_PATTERN", "bound_shapes"]

DATE_PATTERN = r"^2[01][0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
"""YYYY-MM-DD from 2000 to 2199 (with `format: date`, which rules out 31 April)."""
NO_NUL = r"^[^\x00]*$"
ID_PATTERN = r"^[^@]+$"
_METHODS = ("get", "put", "post", "delete", "patch")
_ECHOES = frozenset({"Problem", "ProblemField"})
"""A problem may quote the refused input, NUL and all."""


def _is_string(node: Schema) -> bool:
    kind = node.type
    return kind == OpenAPIType.STRING or (
        isinstance(kind, list) and OpenAPIType.STRING in kind and OpenAPIType.NULL not in kind
    )


def _bound(node: Schema | Reference | None, seen: set[int], *, shaped: bool = False) -> None:
    """Dates within the book and no NUL in free text, everywhere under `node`. `shaped`:
    an enclosing `oneOf` already carries a pattern or format (Litestar puts the bounds
    of an optional value beside its alternatives)."""
    if not isinstance(node, Schema) or id(node) in seen:
        return
    seen.add(id(node))
    if _is_string(node) and node.enum is None and node.const is None:
        if node.format == "date":
            node.pattern = DATE_PATTERN
        elif node.format is None and node.pattern is None and not shaped:
            node.pattern = NO_NUL
    for child in (*(node.properties or {}).values(), *(node.all_of or [])):
        _bound(child, seen)
    alternatives_shaped = shaped or node.pattern is not None or node.format is not None
    for child in (*(node.one_of or []), *(node.any_of or [])):
        _bound(child, seen, shaped=alternatives_shaped)
    if isinstance(node.items, Schema):
        _bound(node.items, seen)


def _bound_parameters(operation: Operation, seen: set[int]) -> None:
    for parameter in operation.parameters or []:
        if not isinstance(parameter, Parameter) or not isinstance(parameter.schema, Schema):
            continue
        schema = parameter.schema
        if parameter.param_in == "path" and parameter.name.endswith("_id"):
            schema.pattern, schema.min_length, schema.max_length = ID_PATTERN, 1, 200
        if parameter.name.lower() in ("last-event-id", "last_event_id"):
            # Optional already; a `null` alternative would be sent as the text "null".
            parameter.schema = Schema(
                type=OpenAPIType.STRING,
                pattern=LAST_EVENT_ID,
                max_length=39,
                description=schema.description,
                examples=["1796489374120-0"],
            )
        elif parameter.param_in != "header":
            _bound(schema, seen)
            example = PARAMETER_EXAMPLES.get(parameter.name)
            if example is not None and not schema.examples:
                schema.examples = [example]


def bound_shapes(openapi: OpenAPI) -> None:
    """Add the bounds above and the examples to `openapi`, in place."""
    seen: set[int] = set()
    schemas = openapi.components.schemas or {}
    for name, schema in schemas.items():
        if name not in _ECHOES:
            _bound(schema, seen)
        if name in EXAMPLES:
            schema.examples = [EXAMPLES[name]]
    register = schemas.get("Register")
    if register is not None and register.properties:
        password = register.properties["password"]
        if isinstance(password, Schema):
            password.min_length = MIN_PASSWORD_CHARACTERS
    # Where an email must belong to an account (`check_email`), the schema states the
    # pattern `check_email` holds it to.
    for name in ("Register", "StaffGrantByEmail"):
        shape = schemas.get(name)
        email = shape.properties.get("email") if shape is not None and shape.properties else None
        if isinstance(email, Schema):
            email.pattern = EMAIL_PATTERN
    for item in (openapi.paths or {}).values():
        for method in _METHODS:
            operation = getattr(item, method, None)
            if isinstance(operation, Operation):
                _bound_parameters(operation, seen)
