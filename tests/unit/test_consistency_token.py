"""A consistency token comes back from clients in a header: only the `tx-position` form
this service writes, in ASCII digits, is one."""

from __future__ import annotations

import pytest

from booking_core.store import ConsistencyToken


def test_a_token_reads_back_as_written() -> None:
    token = ConsistencyToken(812, 4096)
    assert ConsistencyToken.parse(str(token)) == token


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\u0661\u0662-\u0663", id="Arabic-Indic digits are not a token"),
        pytest.param("\u00b9-\u00b2", id="superscript digits are not a token"),
        pytest.param("\uff11-\uff12", id="full-width digits are not a token"),
        pytest.param("12-", id="a transaction without a position is not a token"),
        pytest.param("-3", id="a position without a transaction is not a token"),
    ],
)
def test_anything_but_ascii_digits_dash_ascii_digits_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a consistency token"):
        ConsistencyToken.parse(text)
