"""`msgspec.UNSET` in change commands: "leave this as it is"."""

from __future__ import annotations

from typing import TypeVar

from msgspec import UnsetType

T = TypeVar("T")


def or_current(value: T | UnsetType, current: T) -> T:
    return current if isinstance(value, UnsetType) else value
