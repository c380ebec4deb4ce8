"""Reading an earlier migration's module from a later one (their file names start with
digits, so they cannot be imported by name): for the SQL text one revision builds on."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

__all__ = ["revision_module"]


def revision_module(file_name: str) -> ModuleType:
    """The module of `versions/<file_name>`, loaded afresh."""
    path = Path(__file__).with_name("versions") / file_name
    spec = importlib.util.spec_from_file_location(f"tb_migration_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
