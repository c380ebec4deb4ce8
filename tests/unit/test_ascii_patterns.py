"""What reads people's input reads ASCII: `\\d` and `\\w` in a Python pattern take any
script's digits and letters (`"٢٠٢٦".isdigit()` too), which the code behind them then
reads as something else, or cannot read at all."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "booking_core", "read_models")
RE_CALLS = {
    "compile",
    "match",
    "fullmatch",
    "search",
    "sub",
    "subn",
    "findall",
    "finditer",
    "split",
}
ANY_SCRIPT = re.compile(r"\\[dDwW]")


def _modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def _says_ascii(call: ast.Call) -> bool:
    return any("ASCII" in ast.unparse(flag) for flag in [*call.args[1:], *call.keywords])


def patterns_of_any_script(source: str) -> list[str]:
    """The patterns (given to `re`, or as a `pattern=`) that take any script's digits or
    letters, and the `isdigit()` tests not joined to an `isascii()`."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        texts: list[ast.expr] = [k.value for k in node.keywords if k.arg == "pattern"]
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "re"
            and func.attr in RE_CALLS
            and node.args
            and not _says_ascii(node)
        ):
            texts.append(node.args[0])
        found += [
            text.value
            for text in texts
            if isinstance(text, ast.Constant)
            and isinstance(text.value, str)
            and ANY_SCRIPT.search(text.value)
        ]
    found += [
        line.strip()
        for line in source.splitlines()
        if ".isdigit()" in line and ".isascii()" not in line
    ]
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_patterns_on_input_take_ascii_digits_and_letters_only(path: Path) -> None:
    assert patterns_of_any_script(path.read_text()) == []


def test_the_rule_sees_each_way_of_taking_any_script() -> None:
    source = (
        "import re\n"
        'ID = re.compile(r"^wl-(\\d{8})$")\n'
        'WORD = re.fullmatch(r"\\w+", text)\n'
        'Phone = Meta(pattern=r"^\\d+$")\n'
        "ok = text.isdigit()\n"
        'FINE = re.compile(r"\\d+", re.ASCII)\n'
        'ALSO_FINE = re.compile(r"[0-9]+")\n'
        "fine = text.isascii() and text.isdigit()\n"
    )
    assert patterns_of_any_script(source) == [
        "^wl-(\\d{8})$",
        "\\w+",
        "^\\d+$",
        "ok = text.isdigit()",
    ]
