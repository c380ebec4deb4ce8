"""Request bodies are held to their schema exactly: `0` is not `false`, `"2"` is not `2`.

Litestar converts a parsed body into the handler's Struct leniently (msgspec's
`strict=False`), so a body that breaks the documented types could still be accepted.
This `before_request` hook decodes a JSON body strictly into the handler's `data` type
first and refuses it with the usual validation problem when it does not fit. A body that
is not JSON at all is left to the normal path, which says so.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import BodyKwarg

__all__ = ["strict_json_bodies"]

_NO_BODY = object()
_types: dict[int, Any] = {}


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


async def strict_json_bodies(request: Request[Any, Any, Any]) -> None:
    target = _body_type(request)
    if target is _NO_BODY:
        return
    body = await request.body()
    if not body:
        return
    try:
        msgspec.json.decode(body, type=target, strict=True)
    except msgspec.ValidationError as error:
        raise ValidationException(
            detail="The request body does not match its schema",
            extra=[{"key": "data", "message": str(error)}],
        ) from None
    except msgspec.DecodeError:
        return
