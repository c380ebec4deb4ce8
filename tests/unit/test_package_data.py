"""Every file the packages read at run time, other than Python, is in the installed
package: a non-editable install (the Docker image) holds only what package-data names."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {"__pycache__", ".mypy_cache"}
# Files beside the code that nothing reads when installed.
NOT_SHIPPED = {"py.typed"}


def test_every_file_beside_the_code_is_named_in_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = config["tool"]["setuptools"]
    package_data: dict[str, list[str]] = setuptools["package-data"]
    packages = [p.rstrip("*") for p in setuptools["packages"]["find"]["include"]]
    unlisted = []
    for package in packages:
        for path in (ROOT / package).rglob("*"):
            if path.is_dir() or SKIPPED & set(path.parts) or path.suffix in {".py", ".pyc"}:
                continue
            if path.name in NOT_SHIPPED:
                continue
            inside = path.relative_to(ROOT / package).as_posix()
            if not any(fnmatch.fnmatch(inside, g) for g in package_data.get(package, [])):
                unlisted.append(f"{package}/{inside}")
    assert unlisted == [], "add these to [tool.setuptools.package-data]"
