"""Programs some tests drive from outside Python: Chromium, pg_dump.

Without one, the tests that need it skip, saying why: a developer's machine may lack
them. With `TABLEBOOK_REQUIRE_TOOLS=1` (CI sets it) they fail instead, so a green run
shows that those tests ran.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["REQUIRE_TOOLS", "missing"]

REQUIRE_TOOLS = os.environ.get("TABLEBOOK_REQUIRE_TOOLS") == "1"


def missing(why: str) -> NoReturn:
    """A tool the test needs is not there: skip, or fail when tools are required."""
    if REQUIRE_TOOLS:
        pytest.fail(f"{why}; TABLEBOOK_REQUIRE_TOOLS=1 requires it", pytrace=False)
    pytest.skip(why)
