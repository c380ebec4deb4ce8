"""A refusal that names its problem type, for the refusals that are not domain errors.

The contract (`api.contract`) lists each operation's 409s and 422s by problem type, so a
refusal raised in the API layer (a cursor it never gave out, `from` after `to`) carries
its type too, rather than the generic `unprocessable-request`.
"""

from __future__ import annotations

from litestar.exceptions import HTTPException

__all__ = ["Refused"]


class Refused(HTTPException):
    """An HTTP refusal with the problem type (`kind`) its answer names."""

    def __init__(self, status_code: int, detail: str, kind: str) -> None:
        super().__init__(status_code=status_code, detail=detail)
        self.kind = kind
