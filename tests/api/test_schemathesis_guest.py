"""The API's contract holds for a signed-in guest, by schemathesis (`tests/api/fuzzing.py`)."""

from __future__ import annotations

from pathlib import Path

from tests.api.fuzzing import fuzz


def test_openapi_contract_holds_for_a_guest(live_server: str, tmp_path: Path) -> None:
    fuzz(live_server, "guest", tmp_path)
