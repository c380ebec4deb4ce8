"""Every invalid field of a request at once, each with what is wrong in plain words.

msgspec stops at the first value that does not fit, so a form with three mistakes would
take three round trips to fix. `errors_in` converts the whole value first (the fast path:
almost every request is valid); only when that fails does it walk the type, field by
field and item by item, converting each part alone, and reports every part that does
not fit. Where the walk finds nothing more precise (a bound on a list's length, a union
of several kinds), the first error stands for the value as a whole.
"""

from __future__ import annotations

import enum
import re
import types
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec

from api.plain_words import PATTERN_WORDS, plain

__all__ = ["NUL_MESSAGE", "InvalidRequest", "ProblemField", "errors_in", "field_path"]

_AT = re.compile(r" - at `\$(.*)`$")
_SEQUENCES = (list, tuple, set, frozenset)
DecodeHook = Callable[[type, Any], Any] | None


class ProblemField(msgspec.Struct, frozen=True):
    field: str
    message: str


NUL_MESSAGE = "must not contain NUL characters (they cannot be stored)"


class InvalidRequest(Exception):
    """The request cannot be read as its schema says: answered with a 400 whose
    `errors[]` lists every field at fault (`api.problems`). When the only fault is a NUL
    character, the request was well-formed but holds what PostgreSQL cannot keep: 422."""

    def __init__(self, errors: list[ProblemField], detail: str | None = None) -> None:
        self.errors = errors
        self.detail = detail or "; ".join(f"{e.field}: {e.message}" for e in errors)
        self.status = 422 if all(e.message == NUL_MESSAGE for e in errors) else 400
        super().__init__(self.detail)


def field_path(where: str, key: str | int) -> str:
    """`guests` + 0 is `guests[0]`; `booking` + `time` is `booking.time`."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def _unwrap(annotation: Any) -> tuple[Any, list[msgspec.Meta]]:
    metas: list[msgspec.Meta] = []
    while get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        metas.extend(m for m in extra if isinstance(m, msgspec.Meta))
        annotation = base
    return annotation, metas


def _one_of(choices: list[Any], value: Any) -> str:
    given = f", not {msgspec.json.encode(value).decode()}" if isinstance(value, str | int) else ""
    return "must be one of: " + ", ".join(str(choice) for choice in choices) + given[:80]


def _leaf_message(error: msgspec.ValidationError, annotation: Any, value: Any) -> str:
    base, metas = _unwrap(annotation)
    text = str(error)
    if get_origin(base) is Literal:
        return _one_of(list(get_args(base)), value)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return _one_of([member.value for member in base], value)
    if "matching regex" in text:
        for meta in metas:
            if meta.pattern is not None:
                return PATTERN_WORDS.get(meta.pattern, "is not in the expected form")
    return plain(text)


def _where(error: msgspec.ValidationError, where: str) -> str:
    """The path msgspec names inside the value, appended to where the value sits."""
    found = _AT.search(str(error))
    inner = found.group(1) if found else ""
    if not inner:
        return where or "body"
    if inner.startswith("."):
        return f"{where}{inner}" if where else inner[1:]
    return f"{where or 'body'}{inner}"


def errors_in(
    value: Any,
    annotation: Any,
    where: str = "",
    *,
    strict: bool = True,
    dec_hook: DecodeHook = None,
) -> list[ProblemField]:
    """Why `value` is not an `annotation`, for every part at fault; [] when it is one.
    `where` names the value (a field, a parameter; "" for a whole body)."""
    try:
        msgspec.convert(value, annotation, strict=strict, dec_hook=dec_hook)
    except msgspec.ValidationError as error:
        inner = _inside(value, annotation, where, strict, dec_hook)
        message = _leaf_message(error, annotation, value)
        return inner or [ProblemField(_where(error, where), message)]
    return []


def _inside(
    value: Any, annotation: Any, where: str, strict: bool, dec_hook: DecodeHook
) -> list[ProblemField]:
    base, _ = _unwrap(annotation)
    origin = get_origin(base)

    def walk(item: Any, item_type: Any, path: str) -> list[ProblemField]:
        return errors_in(item, item_type, path, strict=strict, dec_hook=dec_hook)

    if origin in (Union, types.UnionType):
        kinds = [a for a in get_args(base) if a not in (type(None), msgspec.UnsetType)]
        return walk(value, kinds[0], where) if len(kinds) == 1 and value is not None else []
    if isinstance(base, type) and issubclass(base, msgspec.Struct):
        return _struct_errors(value, base, where, walk) if isinstance(value, dict) else []
    if origin in _SEQUENCES and isinstance(value, list):
        args = get_args(base)
        if not args or (origin is tuple and (len(args) != 2 or args[1] is not Ellipsis)):
            return []
        return [e for n, item in enumerate(value) for e in walk(item, args[0], f"{where}[{n}]")]
    if origin is dict and isinstance(value, dict) and len(get_args(base)) == 2:
        values = get_args(base)[1]
        return [e for k, v in value.items() for e in walk(v, values, field_path(where, str(k)))]
    return []


def _struct_errors(
    value: dict[str, Any],
    struct: type[msgspec.Struct],
    where: str,
    walk: Callable[[Any, Any, str], list[ProblemField]],
) -> list[ProblemField]:
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
    errors: list[ProblemField] = []
    if struct.__struct_config__.forbid_unknown_fields:
        errors += [
            ProblemField(field_path(where, key), "unknown field: remove it")
            for key in value
            if key not in fields
        ]
    for name, info in fields.items():
        if name in value:
            errors += walk(value[name], info.type, field_path(where, name))
        elif info.required:
            errors.append(ProblemField(field_path(where, name), "this field is required"))
    return errors
