"""Requests are held to their schema exactly before any handler sees them.

- JSON bodies: Litestar converts a parsed body into the handler's Struct leniently
  (msgspec's `strict=False`), so `"2"` would pass for `2` and `0` for `false`. Here the
  body is converted strictly first, the way JSON Schema reads the documented types: an
  integer may be written `2` or `2.0`, nothing else. A body that is not JSON at all is
  left to the normal path, which says so.
- NUL characters: PostgreSQL cannot store them in text, so a string with one anywhere
  (body, query, path) is refused with a 422 (well-formed JSON, but nothing we can keep)
  rather than failing in the database.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import BodyKwarg

__all__ = ["strict_requests"]

_NO_BODY = object()
_types: dict[int, Any] = {}
_MAX_EXACT = 2**53


def _body_type(request: Request[Any, Any, Any]) -> Any:
    handler = request.route_handler
    key = id(handler)
    if key not in _types:
        field = handler.parsed_fn_signature.parameters.get("data")
        kwarg = field.kwarg_definition if field is not None else None
        media = kwarg.media_type if isinstance(kwarg, BodyKwarg) else RequestEncodingType.JSON
        json_body = field is not None and media == RequestEncodingType.JSON
        _types[key] = field.annotation if json_body and field is not None else _NO_BODY
    return _types[key]


def _no_nul(where: str) -> HTTPException:
    return HTTPException(
        status_code=422, detail=f"{where}: must not contain NUL characters (they cannot be stored)"
    )


def _refuse(where: str, message: str) -> ValidationException:
    return ValidationException(
        detail="The request does not match its schema", extra=[{"key": where, "message": message}]
    )


def _normalised(value: Any, where: str) -> Any:
    """Integral floats as ints (JSON Schema's integers), and no NUL in any string."""
    if isinstance(value, float) and value.is_integer() and abs(value) < _MAX_EXACT:
        return int(value)
    if isinstance(value, str):
        if "\x00" in value:
            raise _no_nul(where)
        return value
    if isinstance(value, list):
        return [_normalised(item, f"{where}[{n}]") for n, item in enumerate(value)]
    if isinstance(value, dict):
        return {_normalised(k, where): _normalised(v, f"{where}.{k}") for k, v in value.items()}
    return value


def _check_text(request: Request[Any, Any, Any]) -> None:
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in str(value):
            raise _no_nul(name)
    for name, value in request.path_params.items():
        if isinstance(value, str) and "\x00" in value:
            raise _no_nul(name)


async def strict_requests(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook: refuse what the schema does not allow (see above)."""
    _check_text(request)
    target = _body_type(request)
    if target is _NO_BODY:
        return
    body = await request.body()
    if not body:
        return
    try:
        parsed = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return
    try:
        msgspec.convert(_normalised(parsed, "data"), target, strict=True)
    except msgspec.ValidationError as error:
        raise _refuse("data", str(error)) from None
