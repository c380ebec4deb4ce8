"""No message that can reach a person filling in a form holds a regex, msgspec's wording
("Expected `str`"), or a backtick: every pattern the API declares has its sentence, every
kind of value its bodies and parameters use is named in words, and a walk of every route's
body and parameters with wrong values finds only plain messages."""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec
import pytest
from litestar import Litestar
from litestar.params import KwargDefinition

from api.app import create_app
from api.field_errors import errors_in
from api.plain_words import PATTERN_WORDS, plain, type_words
from api.services import ApiConfig, Services

# What must never reach a person: the library's words, a pattern, code quoting.
JARGON = re.compile(r"Expected|regex|`|\^|\$|\\[dws]|\[0-9|RFC ?3339|ISO ?8601|msgspec|null")


def assert_plain(message: str) -> None:
    assert not JARGON.search(message), message
    assert message.strip() == message
    assert message


def never_started() -> AbstractAsyncContextManager[Services]:
    raise AssertionError("the routes are only read here, never served")


@pytest.fixture(scope="module")
def app() -> Litestar:
    return create_app(ApiConfig(secret_key="x" * 32, bcrypt_rounds=4), never_started)


def _metas(annotation: Any) -> tuple[Any, list[Any]]:
    extra: list[Any] = []
    while get_origin(annotation) is Annotated:
        annotation, *more = get_args(annotation)
        extra += more
    return annotation, extra


def walk_types(annotation: Any, seen: set[int] | None = None) -> list[Any]:
    """`annotation` and every type inside it: fields of structs, items, union members."""
    seen = set() if seen is None else seen
    if id(annotation) in seen:
        return []
    seen.add(id(annotation))
    found = [annotation]
    base, _ = _metas(annotation)
    if isinstance(base, type) and issubclass(base, msgspec.Struct):
        for field in msgspec.structs.fields(base):
            found += walk_types(field.type, seen)
    for arg in get_args(base):
        if arg is not Ellipsis and not isinstance(arg, str | int):
            found += walk_types(arg, seen)
    return found


def request_types(app: Litestar) -> list[tuple[str, Any]]:
    """(where, type) of every JSON body and every query, header and path parameter."""
    found: list[tuple[str, Any]] = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            where = f"{sorted(handler.http_methods)} {route.path}"
            for name, parameter in handler.parsed_fn_signature.parameters.items():
                if name in ("request", "state", "scope", "socket"):
                    continue
                found.append((f"{where} {name}", parameter.annotation))
    return found


def declared_patterns(app: Litestar) -> set[str]:
    patterns: set[str] = set()
    for _, annotation in request_types(app):
        for kind in walk_types(annotation):
            for meta in _metas(kind)[1]:
                if isinstance(meta, msgspec.Meta | KwargDefinition) and meta.pattern:
                    patterns.add(meta.pattern)
    return patterns


def test_every_pattern_a_request_may_be_held_to_has_its_sentence(app: Litestar) -> None:
    patterns = declared_patterns(app)
    assert r"^\+?[0-9 ()./-]+$" in patterns  # the walk does reach the bodies' fields
    missing = sorted(patterns - PATTERN_WORDS.keys())
    assert missing == []


@pytest.mark.parametrize(("pattern", "words"), sorted(PATTERN_WORDS.items()))
def test_msgspecs_refusal_of_each_pattern_becomes_its_sentence(pattern: str, words: str) -> None:
    with pytest.raises(msgspec.ValidationError) as refused:
        msgspec.convert("@ not @ this ~", Annotated[str, msgspec.Meta(pattern=pattern)])
    assert plain(str(refused.value)) == words
    assert_plain(words)
    held = dict[str, Annotated[str, msgspec.Meta(pattern=pattern)]]
    found = errors_in({"value": "@ not @ this ~"}, held)
    assert [e.message for e in found] == [words]


class Colour(enum.Enum):
    RED = "red"


class Inner(msgspec.Struct, forbid_unknown_fields=True):
    count: Annotated[int, msgspec.Meta(ge=1, le=100)]


# Every kind of value, and every constraint, with a value msgspec refuses.
KINDS: list[tuple[Any, Any]] = [
    (int, "two"),
    (int, 1.5),
    (float, "x"),
    (str, 1),
    (bool, 1),
    (dt.date, "2026-13-01"),
    (dt.time, "25:00"),
    (dt.datetime, "tonight"),
    (dt.timedelta, "long"),
    (uuid.UUID, "not-a-uuid"),
    (bytes, 1),
    (list[int], "x"),
    (dict[str, int], 1),
    (tuple[int, int], [1]),
    (int | None, "x"),
    (Literal["phone", "walk_in"], "fax"),
    (Colour, "blue"),
    (Inner, {"count": 0}),
    (Inner, {}),
    (Inner, {"count": 1, "extra": 2}),
    (Annotated[int, msgspec.Meta(ge=1)], 0),
    (Annotated[int, msgspec.Meta(le=100)], 101),
    (Annotated[int, msgspec.Meta(gt=0)], 0),
    (Annotated[float, msgspec.Meta(lt=1.5)], 2.0),
    (Annotated[int, msgspec.Meta(multiple_of=15)], 7),
    (Annotated[str, msgspec.Meta(min_length=1)], ""),
    (Annotated[str, msgspec.Meta(max_length=3)], "abcd"),
    (Annotated[str, msgspec.Meta(min_length=3)], "ab"),
    (Annotated[list[int], msgspec.Meta(min_length=1)], []),
    (Annotated[list[int], msgspec.Meta(max_length=2)], [1, 2, 3]),
    (Annotated[dt.datetime, msgspec.Meta(tz=True)], "2026-12-24T19:30:00"),
    (Annotated[str, msgspec.Meta(pattern="^[a-z]+$")], "NOT"),
]


@pytest.mark.parametrize(("kind", "value"), KINDS, ids=[f"{n}" for n in range(len(KINDS))])
def test_every_kind_of_refusal_is_said_in_words(kind: Any, value: Any) -> None:
    with pytest.raises(msgspec.ValidationError) as refused:
        msgspec.convert(value, kind, strict=True)
    said = plain(str(refused.value))
    assert_plain(said)
    assert said != "is not valid here", str(refused.value)  # each has words of its own
    for error in errors_in(value, kind, "field"):
        assert_plain(error.message)


def test_type_words_name_every_kind_in_words() -> None:
    assert type_words("int | null") == "a whole number or nothing"
    assert plain("Expected `float` > 0.0") == "must be more than 0"
    assert plain("Expected `int` that's a multiple of 15") == "must be a multiple of 15"
    assert plain("Expected `array` of length 2, got 1") == "must have exactly 2 items"
    assert type_words("str") == "text"
    assert type_words("mystery") == "a value of another kind"


def test_an_unknown_message_is_neutral_not_leaked() -> None:
    assert plain("Expected `frobnicated` thing at `$.x`") == "is not valid here"


# Values wrong in every way a form can be: each field of each body gets each of them.
WRONG = ["", "@@ not right ~", "x" * 5000, -1, 0, 10**12, 1.5, True, [], {}, None]


def _bad_bodies(annotation: Any) -> list[Any]:
    base, _ = _metas(annotation)
    if get_origin(base) in (Union, type(int | None)):
        kinds = [a for a in get_args(base) if a not in (type(None), msgspec.UnsetType)]
        return [b for kind in kinds for b in _bad_bodies(kind)]
    if not (isinstance(base, type) and issubclass(base, msgspec.Struct)):
        return list(WRONG)
    fields = msgspec.structs.fields(base)
    bodies: list[Any] = [{}]
    for wrong in WRONG:
        bodies.append({f.encode_name: wrong for f in fields})
    return bodies


def test_every_body_and_parameter_refused_in_plain_words(app: Litestar) -> None:
    checked = 0
    for where, annotation in request_types(app):
        for bad in _bad_bodies(annotation):
            for error in errors_in(bad, annotation, "body", strict=True):
                assert not JARGON.search(error.message), (where, bad, error)
                checked += 1
    assert checked > 500  # the walk did find the API's bodies
