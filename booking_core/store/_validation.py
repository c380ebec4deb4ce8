"""Checks on an append's shape that both stores make before touching anything."""

from __future__ import annotations

from collections.abc import Sequence

from booking_core.store.records import ANY, StreamAppend


def check_append(streams: Sequence[StreamAppend]) -> None:
    """Raise ValueError for an append no store should attempt."""
    if not any(stream.events for stream in streams):
        raise ValueError("an append needs at least one event")
    seen: set[str] = set()
    for stream in streams:
        if not stream.stream_id:
            raise ValueError("a stream id may not be empty")
        if stream.stream_id in seen:
            raise ValueError(f"stream {stream.stream_id!r} appears twice in one append")
        seen.add(stream.stream_id)
        if stream.expected is not ANY and (
            isinstance(stream.expected, bool)
            or not isinstance(stream.expected, int)
            or stream.expected < 0
        ):
            raise ValueError(f"bad expected version {stream.expected!r} for {stream.stream_id!r}")
        if stream.last is not None and stream.last.version != stream.expected:
            raise ValueError(f"the last event named for {stream.stream_id!r} is not at its version")


def expected_label(expected: object) -> int | str:
    return "any" if expected is ANY else expected  # type: ignore[return-value]
