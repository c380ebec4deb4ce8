"""The API's contract holds for an admin, by schemathesis (`tests/api/fuzzing.py`)."""

from __future__ import annotations

from pathlib import Path

from tests.api.fuzzing import fuzz


def test_openapi_contract_holds_for_an_admin(live_server: str, tmp_path: Path) -> None:
    fuzz(live_server, "admin", tmp_path)
