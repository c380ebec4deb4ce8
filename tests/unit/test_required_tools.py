"""A test that needs Chromium or pg_dump skips without it, unless the run requires them
(`TABLEBOOK_REQUIRE_TOOLS=1`, as CI does): then it fails."""

from __future__ import annotations

import pytest

from tests.support import tools


def test_without_the_tool_the_test_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tools, "REQUIRE_TOOLS", False)
    with pytest.raises(pytest.skip.Exception, match="pg_dump is not installed"):
        tools.missing("pg_dump is not installed")


def test_when_tools_are_required_the_test_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tools, "REQUIRE_TOOLS", True)
    with pytest.raises(pytest.fail.Exception, match="no Chromium at /nowhere"):
        tools.missing("no Chromium at /nowhere")
