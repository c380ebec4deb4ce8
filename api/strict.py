"""Requests are held to their schema, whole, before any handler sees them.

A `before_request` hook, so it runs after the route is found and the caller signed in,
and before Litestar reads parameters or body. Anything it refuses is a 400 problem with
every field at fault in `errors[]` (see `api.field_errors`), in plain words:

- Query and header parameters: each converted the way Litestar will convert it, all of
  them, so a missing `date` and a `party_size` of 0 are reported together.
- JSON bodies must be UTF-8, nested at most `MAX_DEPTH` deep (a deeper one would exhaust
  the decoder's recursion long before it could be a booking), and valid JSON. They are
  then converted strictly, the way JSON Schema reads the documented types: an integer may
  be written `2` or `2.0`, but `"2"` is not one (Litestar alone would accept it).
- NUL characters: PostgreSQL cannot store them in text, so a string holding one anywhere
  in a body is refused as a field error. (Headers, the path and the query string are
  refused earlier, by `api.wire_text`.)
- Form bodies (sign-in) must be percent-encoded UTF-8 without NUL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote_to_bytes

import msgspec
from litestar import Litestar, Request
from litestar._kwargs import KwargsModel
from litestar.enums import RequestEncodingType
from litestar.handlers import BaseRouteHandler
from litestar.params import BodyKwarg
from litestar.routes import HTTPRoute

from api.context import CONSISTENCY_HEADER, TOKEN_FORM
from api.field_errors import (
    NUL_MESSAGE,
    DecodeHook,
    InvalidRequest,
    ProblemField,
    errors_in,
    field_path,
)
from api.plain_words import plain_json_error

__all__ = ["MAX_DEPTH", "strict_requests"]

MAX_DEPTH = 32
"""How deep a JSON body may nest arrays and objects (the deepest we accept is 3)."""

_MAX_EXACT = 2**53
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")
_NUL = NUL_MESSAGE


@dataclass(frozen=True, slots=True)
class _Parameter:
    name: str
    """As the client writes it."""
    source: Literal["query", "header"]
    annotation: Any
    required: bool
    sequence: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the hook checks for one route handler, worked out on its first request."""

    parameters: tuple[_Parameter, ...]
    body: Any
    """The JSON body's type, or None."""
    form: frozenset[str] | None
    """The form's field names (a form handler), or None."""
    dec_hook: DecodeHook


_plans: dict[int, tuple[BaseRouteHandler, _Plan]] = {}
"""By handler id; the handler is kept too, so its id cannot be reused by another."""


def _kwargs_model(app: Litestar, handler: BaseRouteHandler) -> KwargsModel:
    """Litestar's own account of the handler's parameters (name, alias, where from)."""
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for candidate, model in route.route_handler_map.values():
                if candidate is handler:
                    return model
    raise LookupError(f"no route serves {handler}")


def _plan(request: Request[Any, Any, Any]) -> _Plan:
    handler: BaseRouteHandler = request.route_handler
    known = _plans.get(id(handler))
    if known is not None:
        return known[1]
    model = _kwargs_model(request.app, handler)
    annotations = handler.signature_model.__annotations__
    sources: list[tuple[Literal["query", "header"], Any]] = [
        ("query", model.expected_query_params),
        ("header", model.expected_header_params),
    ]
    parameters = tuple(
        _Parameter(
            name=p.field_alias,
            source=source,
            annotation=annotations[p.field_name],
            required=p.is_required,
            sequence=p.is_sequence,
        )
        for source, params in sources
        for p in params
    )
    field = handler.parsed_fn_signature.parameters.get("data")
    kwarg = field.kwarg_definition if field is not None else None
    media = kwarg.media_type if isinstance(kwarg, BodyKwarg) else RequestEncodingType.JSON
    plan = _Plan(
        parameters=parameters,
        body=field.annotation if field and media == RequestEncodingType.JSON else None,
        form=_form_fields(field.annotation)
        if field is not None and media == RequestEncodingType.URL_ENCODED
        else None,
        dec_hook=handler.default_deserializer,
    )
    _plans[id(handler)] = (handler, plan)
    return plan


def _parameter_errors(request: Request[Any, Any, Any], plan: _Plan) -> list[ProblemField]:
    errors: list[ProblemField] = []
    for p in plan.parameters:
        values = request.query_params if p.source == "query" else request.headers
        raw: Any = values.getall(p.name, []) if p.sequence else values.get(p.name)
        if raw is None or raw == []:
            if p.required:
                errors.append(ProblemField(p.name, f"this {p.source} parameter is required"))
            continue
        errors += errors_in(raw, p.annotation, p.name, strict=False, dec_hook=plan.dec_hook)
    return errors


def _depth(body: bytes) -> int:
    depth = deepest = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub(b"", body)):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def _refuse(detail: str, field: str = "body", message: str | None = None) -> InvalidRequest:
    return InvalidRequest([ProblemField(field, message or detail)], detail)


def _json(body: bytes) -> Any:
    """The parsed body, or a 400 saying in plain words why it cannot be read."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _refuse(
            f"The request body is not UTF-8 text (byte {error.start} cannot be read).",
            message="must be JSON in UTF-8",
        ) from None
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _depth(body) > MAX_DEPTH:
        raise _refuse(
            f"The request body nests arrays or objects more than {MAX_DEPTH} deep.",
            message=f"must not nest arrays or objects more than {MAX_DEPTH} deep",
        )
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError) as error:
        reason = plain_json_error(str(error))
        raise _refuse(
            f"The request body is not valid JSON: {reason}.", message="must be valid JSON"
        ) from None


def _normalised(value: Any, where: str, nuls: list[ProblemField]) -> Any:
    """Integral floats as ints (JSON Schema's integers); each string with NUL noted."""
    if isinstance(value, float) and value.is_integer() and abs(value) < _MAX_EXACT:
        return int(value)
    if isinstance(value, str):
        if "\x00" in value:
            nuls.append(ProblemField(where or "body", _NUL))
        return value
    if isinstance(value, list):
        return [_normalised(item, f"{where or 'body'}[{n}]", nuls) for n, item in enumerate(value)]
    if isinstance(value, dict):
        return {
            _normalised(k, where, nuls): _normalised(v, field_path(where, k), nuls)
            for k, v in value.items()
        }
    return value


def _form_fields(annotation: Any) -> frozenset[str]:
    return frozenset(f.encode_name for f in msgspec.structs.fields(annotation))


def _check_form(body: bytes, fields: frozenset[str]) -> None:
    """UTF-8 throughout, and no NUL in a field the handler reads (others, such as an
    OAuth2 client's extras, are ignored like any unknown form field)."""
    try:
        unquote_to_bytes(body.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(
            "The form is not percent-encoded UTF-8.", message="must be UTF-8 text"
        ) from None
    pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
    if any("\x00" in value for key, value in pairs if key in fields):
        raise _refuse(f"The form's fields {_NUL}.", message=_NUL)


async def strict_requests(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook: refuse what the schema does not allow (see above)."""
    plan = _plan(request)
    errors = _parameter_errors(request, plan) if plan.parameters else []
    token = request.headers.get(CONSISTENCY_HEADER)
    if token is not None and not TOKEN_FORM.fullmatch(token):
        # Held to its form on every route, whether or not this read waits on it.
        errors.append(
            ProblemField(CONSISTENCY_HEADER, "must be a token from a write's response, or 0")
        )
    if plan.body is not None or plan.form is not None:
        body = await request.body()
        if body and plan.form is not None:
            _check_form(body, plan.form)
        elif body:
            nuls: list[ProblemField] = []
            value = _normalised(_json(body), "", nuls)
            errors += nuls + errors_in(value, plan.body)
    if errors:
        raise InvalidRequest(errors)
