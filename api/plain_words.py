"""What is wrong with a value, said in words a person understands.

msgspec and Litestar explain a refusal in their own terms (``Expected `str` matching
regex '^\\+?[0-9 ()./-]+$'``, ``Invalid RFC3339 encoded date``). Those go to developers'
logs, never to the people who fill in a form: every message that reaches `errors[]`
comes through `plain`, which knows the shapes of msgspec's messages and the patterns
this API declares. A message it does not recognise becomes a neutral "is not valid
here" rather than leaking the library's wording.
"""

from __future__ import annotations

import re

__all__ = ["PATTERN_WORDS", "plain", "plain_json_error", "type_words"]

PATTERN_WORDS: dict[str, str] = {
    r"^\+?[0-9 ()./-]+$": "must be a phone number: digits, spaces and + ( ) . / -",
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$": "must be a time of day as HH:MM, e.g. 19:30",
    r"^[^@ \t\r\n]+@[^@ \t\r\n]+\.[^@ \t\r\n]+$": "must be an email address, e.g. ada@example.com",
    r"^[A-Za-z0-9_-]+$": "must be the next_cursor of a previous page",
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?$": "must be a date and time, e.g. 2026-12-24T19:30:00Z"
    " (or the venue's wall clock without the Z)",
    r"^[^@]+$": "must not contain @",
    r"^(online|phone|walk_in)$": "must be one of: online, phone, walk_in",
    r"^[0-9]{1,19}-[0-9]{1,19}$": "must be an event position from this API, e.g. 1234-56",
}
"""Each pattern the API declares, as a sentence. A pattern missing here is refused
with a neutral message (`plain` never shows a regex)."""

_TYPES = {
    "int": "a whole number",
    "float": "a number",
    "number": "a number",
    "str": "text",
    "bool": "true or false",
    "null": "nothing",
    "array": "a list",
    "object": "an object",
    "date": "a date as YYYY-MM-DD",
    "time": "a time of day as HH:MM",
    "datetime": "a date and time, e.g. 2026-12-24T19:30:00Z",
    "duration": "a duration",
    "uuid": "a UUID",
    "bytes": "base64 text",
    "decimal": "a number",
}

_EXPECTED = re.compile(r"Expected `([^`]+)`, got `[^`]+`")
_BOUND = re.compile(r"Expected `([^`]+)` (>=|>|<=|<) (-?[0-9.e+]+)")
_LENGTH = re.compile(r"Expected `([^`]+)` of length (>=|<=) ([0-9]+)")
_EXACT_LENGTH = re.compile(r"Expected `array` of length ([0-9]+), got [0-9]+")
_MULTIPLE = re.compile(r"Expected `(?:int|float)` that's a multiple of (-?[0-9.e+]+)")
_REGEX = re.compile(r"Expected `str` matching regex (['\"])(.*)\1", re.DOTALL)
_MISSING = re.compile(r"Object missing required field `[^`]*`")
_UNKNOWN = re.compile(r"Object contains unknown field `[^`]*`")
_ENCODED = re.compile(r"Invalid (?:RFC3339 encoded|ISO8601) (date|time|datetime|duration)")
_TIMEZONE = re.compile(r"Expected `(?:datetime|time)` (with|without) a timezone component")
_AT = re.compile(r" - at `[^`]*`$")
_BOUNDS = {">=": "at least", ">": "more than", "<=": "at most", "<": "less than"}


def type_words(names: str) -> str:
    """`int | null` as "a whole number or null"."""
    words = [_TYPES.get(name.strip(), "a value of another kind") for name in names.split("|")]
    unique = list(dict.fromkeys(words))
    return " or ".join(unique)


def _length(kind: str, bound: str, count: int) -> str:
    unit = "characters" if kind == "str" else "items"
    if bound == ">=" and count == 1:
        return "must not be empty"
    if unit == "characters" and count == 1:
        unit = "character"
    if unit == "items" and count == 1:
        unit = "item"
    return f"must have {_BOUNDS[bound]} {count} {unit}"


def _number(text: str) -> str:
    """msgspec's `0.0` as people write it: 0."""
    return text[:-2] if text.endswith(".0") else text


def plain(message: str) -> str:
    """msgspec's (or Litestar's) message about one value, in plain words."""
    text = _AT.sub("", message.strip())
    if _MISSING.fullmatch(text):
        return "this field is required"
    if _UNKNOWN.fullmatch(text):
        return "unknown field: remove it"
    if found := _REGEX.fullmatch(text):
        return PATTERN_WORDS.get(
            found.group(2).replace("\\\\", "\\"), "is not in the expected form"
        )
    if found := _LENGTH.fullmatch(text):
        return _length(found.group(1), found.group(2), int(found.group(3)))
    if found := _EXACT_LENGTH.fullmatch(text):
        count = int(found.group(1))
        return f"must have exactly {count} item{'' if count == 1 else 's'}"
    if found := _BOUND.fullmatch(text):
        return f"must be {_BOUNDS[found.group(2)]} {_number(found.group(3))}"
    if found := _MULTIPLE.fullmatch(text):
        return f"must be a multiple of {_number(found.group(1))}"
    if found := _EXPECTED.fullmatch(text):
        return f"must be {type_words(found.group(1))}"
    if found := _ENCODED.fullmatch(text):
        return f"must be {_TYPES[found.group(1)]}"
    if found := _TIMEZONE.fullmatch(text):
        return (
            "must include a time zone, e.g. Z"
            if found.group(1) == "with"
            else ("must not include a time zone")
        )
    if text == "Invalid UUID":
        return "must be a UUID, e.g. 0b6f3c1e-8d2a-4f5b-9c7e-1a2b3c4d5e6f"
    if text.startswith("Invalid enum value"):
        return "is not one of the allowed values"
    if text in ("Integer value out of range", "Number out of range"):
        return "is too large"
    return "is not valid here"


_BYTE = re.compile(r"\(byte ([0-9]+)\)")


def plain_json_error(message: str) -> str:
    """Why msgspec could not parse a JSON document, as the end of a sentence."""
    if found := _BYTE.search(message):
        return f"unexpected input at byte {found.group(1)}"
    if "truncated" in message:
        return "it ends too early"
    if "out of range" in message:
        return "a number is too large"
    if "recursion" in message:
        return "it nests too deeply"
    return "it cannot be read"
