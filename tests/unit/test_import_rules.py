"""Dependencies point inward: the domain knows nothing of web, cache, ORM or migrations."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_DOMAIN = {"psycopg", "psycopg_pool", "litestar", "redis", "sqlalchemy", "alembic"}
FORBIDDEN_EVERYWHERE_IN_CORE = {"litestar", "redis", "sqlalchemy", "alembic", "api", "tablebook"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def core_modules() -> list[Path]:
    return sorted((ROOT / "booking_core").rglob("*.py"))


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_booking_core_imports_only_what_it_may(path: Path) -> None:
    in_store = (ROOT / "booking_core" / "store") in path.parents
    forbidden = FORBIDDEN_EVERYWHERE_IN_CORE if in_store else FORBIDDEN_IN_DOMAIN
    if not in_store:
        forbidden = forbidden | FORBIDDEN_EVERYWHERE_IN_CORE
    assert not imported_roots(path) & forbidden


def test_the_rule_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import redis\nfrom sqlalchemy import select\n")
    assert imported_roots(bad) & FORBIDDEN_IN_DOMAIN == {"redis", "sqlalchemy"}


def test_read_models_do_not_import_the_api() -> None:
    for path in (ROOT / "read_models").rglob("*.py"):
        assert "api" not in imported_roots(path), path


def test_the_domain_knows_nothing_of_storage() -> None:
    """Persistence imports the domain, never the reverse: events become records in
    `booking_core.codec`, which the domain does not import."""
    for path in (ROOT / "booking_core" / "domain").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        modules = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        outside = {
            m
            for m in modules
            if m.startswith("booking_core.") and not m.startswith("booking_core.domain")
        }
        assert not outside, (path, outside)


APP_PACKAGES = ("api", "projectors", "read_models", "tablebook", "resilience", "bench")
LAYOUTS = {
    "read_models/bookings_layout.py": re.compile(
        r"rm_bookings|guest_name\W{1,12}guest_phone\W{1,12}guest_email"
    ),
    "read_models/model_keys.py": re.compile(
        r"(\+|\.\.|key\()\s*[\"'](checkpoint|ready)[\"']|:(checkpoint|ready)\b"
        r"|[\"']rebuild:|replay:\{"
    ),
    "read_models/venue_layout.py": re.compile(r"\brm_(tables|layouts|venue|closures|blocks)\b"),
    "read_models/venues_layout.py": re.compile(r"\brm_venues\b"),
    "read_models/waitlist_layout.py": re.compile(r"\brm_waitlist\b"),
    "read_models/guests_layout.py": re.compile(r"\brm_guest(s|_bookings)\b"),
    "read_models/stats_layout.py": re.compile(
        r"\brm_(daily_stats|daily_breakdown|stats_bookings|stats_floor)\b"
    ),
    "read_models/live_status_keys.py": re.compile(r"[}\"']live_status:|[\"']date:"),
}


def app_sources() -> list[Path]:
    return sorted(
        path
        for package in APP_PACKAGES
        for pattern in ("*.py", "*.lua")
        for path in (ROOT / package).rglob(pattern)
    )


@pytest.mark.parametrize("owner", sorted(LAYOUTS), ids=lambda owner: f"{owner} spells its layout")
def test_a_read_model_layout_is_spelled_only_by_its_owner(owner: str) -> None:
    """Only the owner (and the frozen migrations) may spell a read model's table, column
    list or key names; everyone else imports them, so writer and reader cannot drift."""
    pattern = LAYOUTS[owner]
    assert pattern.search((ROOT / owner).read_text()), "the rule must match the owner itself"
    spelled = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in app_sources()
        if path != ROOT / owner
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    assert not spelled


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _controller_modules() -> set[str]:
    """Modules under api/ that define a controller (a class deriving from `Controller`)."""
    found: set[str] = set()
    for path in (ROOT / "api").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id == "Controller" for base in node.bases
            ):
                found.add(_module_name(path))
    return found


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


APP_FACTORY = ROOT / "api" / "app.py"
"""The one module that mounts the controllers, so the one that imports them."""


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "api").rglob("*.py") if p != APP_FACTORY),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_api_module_imports_a_controller_module(path: Path) -> None:
    """What controllers share lives in modules without a controller, so a controller
    can move or go without taking another with it."""
    controllers = _controller_modules() - {_module_name(path)}
    assert not _imported_modules(path) & controllers


def test_the_controller_rule_knows_the_controllers() -> None:
    assert len(_controller_modules()) >= 12
