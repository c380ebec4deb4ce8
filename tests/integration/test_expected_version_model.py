"""Stateful property: the stores agree with a ten-line model of expected versions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from psycopg_pool import AsyncConnectionPool

from booking_core.store import (
    ANY,
    NO_STREAM,
    ConcurrencyError,
    EventStore,
    ExpectedVersion,
    InMemoryEventStore,
    NewEvent,
    StreamAppend,
)
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import open_pool

STREAMS = st.sampled_from(["table-A", "table-B", "booking-1"])
EXPECTED = st.one_of(st.just(ANY), st.just(NO_STREAM), st.integers(min_value=1, max_value=6))
EVENT = NewEvent(type="Happened", data=b"{}")


def _accepts(expected: ExpectedVersion, actual: int) -> bool:
    return expected is ANY or expected == actual


class ExpectedVersionMachine(RuleBasedStateMachine):
    database_url = ""

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, int] = {}
        self.runner = asyncio.Runner()
        self.pool: AsyncConnectionPool[Any] | None = None
        self.store: EventStore = InMemoryEventStore()

    @initialize(kind=st.sampled_from(["memory", "postgres"]))
    def open_store(self, kind: str) -> None:
        if kind == "postgres":
            self.pool = self.runner.run(open_pool(self.database_url, min_size=1, max_size=2))
            self.runner.run(self._truncate())
            self.store = PostgresEventStore(self.pool, self.database_url)

    async def _truncate(self) -> None:
        assert self.pool is not None
        async with self.pool.connection() as connection:
            await connection.execute("TRUNCATE events, streams, idempotency_keys")

    @rule(
        appends=st.lists(
            st.tuples(STREAMS, EXPECTED, st.integers(min_value=0, max_value=3)),
            min_size=1,
            max_size=3,
            unique_by=lambda t: t[0],
        )
    )
    def append(self, appends: list[tuple[str, ExpectedVersion, int]]) -> None:
        streams = [StreamAppend(s, expected, [EVENT] * n) for s, expected, n in appends]
        if not any(n for _, _, n in appends):
            with pytest.raises(ValueError):
                self.runner.run(self.store.append(streams))
            return
        should_pass = all(_accepts(e, self.model.get(s, 0)) for s, e, _ in appends)
        if should_pass:
            result = self.runner.run(self.store.append(streams))
            for stream_id, _, count in appends:
                self.model[stream_id] = self.model.get(stream_id, 0) + count
                assert result.versions[stream_id] == self.model[stream_id]
        else:
            with pytest.raises(ConcurrencyError) as raised:
                self.runner.run(self.store.append(streams))
            stream_id = raised.value.stream_id
            assert raised.value.actual == self.model.get(stream_id, 0)
            expected = {s: e for s, e, _ in appends}[stream_id]
            assert not _accepts(expected, raised.value.actual)

    @invariant()
    def versions_match_the_model(self) -> None:
        for stream_id in ["table-A", "table-B", "booking-1"]:
            version = self.runner.run(self.store.stream_version(stream_id))
            assert version == self.model.get(stream_id, 0)
            events = self.runner.run(self.store.read_stream(stream_id))
            assert [e.version for e in events] == list(range(1, version + 1))

    def teardown(self) -> None:
        if self.pool is not None:
            self.runner.run(self.pool.close())
        self.runner.close()


def test_expected_version_semantics_match_the_model(database_url: str) -> None:
    ExpectedVersionMachine.database_url = database_url
    test_case = ExpectedVersionMachine.TestCase
    test_case.settings = settings(max_examples=40, stateful_step_count=15, deadline=None)
    test_case().runTest()
