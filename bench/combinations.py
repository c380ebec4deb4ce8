"""A hundred parties at once for one table combination: exactly one is accepted per
round, and how long the others wait to hear no (p99), against the same race for one
single table as the same-run baseline.

Each round is a new hour, so every round starts from free tables. The requests go
through the booking handler on PostgreSQL (load, decide, append, retry), as the API's
would, from one process sharing a pool of connections; a round's latency is each
request's own, from its start to its answer.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock

from bench.harness import Measure, percentile
from bench.venue import STAFF, command_id, open_round_the_clock
from booking_core.domain.commands import Actor, BookTable, DefineTableCombination
from booking_core.domain.errors import DomainError
from booking_core.handlers import book_table, change_venue
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import open_pool

RACERS = 100
ROUNDS = 8
POOL = 10
NOW = datetime(2030, 1, 1, tzinfo=UTC)
DAY = NOW.date() + timedelta(days=1)
PAIR = ("t-long-left", "t-long-right")
SINGLE = ("t-single",)


async def _race(
    store: PostgresEventStore, table_ids: tuple[str, ...], hour: int
) -> tuple[int, list[float]]:
    """One round: how many were accepted, and each request's seconds."""

    async def attempt(n: int) -> tuple[bool, float]:
        command = BookTable(
            command_id=command_id(), actor=Actor(user_id=f"u-racer-{n}"), now=NOW,
            booking_id=f"b-{'+'.join(table_ids)}-{hour}-{n}", date=DAY, time=clock(hour),
            party_size=6 if len(table_ids) > 1 else 2, guest_name="Bench Guest",
            table_ids=table_ids,
        )  # fmt: skip
        began = time.perf_counter()
        try:
            await book_table(store, command)
        except DomainError:
            return False, time.perf_counter() - began
        return True, time.perf_counter() - began

    outcomes = await asyncio.gather(*(attempt(n) for n in range(RACERS)))
    return sum(ok for ok, _ in outcomes), [seconds for _, seconds in outcomes]


async def _measure(url: str) -> dict[str, tuple[list[int], list[float]]]:
    pool = await open_pool(url, min_size=POOL, max_size=POOL)
    try:
        store = PostgresEventStore(pool, url)
        await open_round_the_clock(
            store, [*PAIR, *SINGLE], now=NOW, interval_minutes=60, max_days_ahead=30
        )
        await change_venue(
            store,
            DefineTableCombination(
                command_id=command_id(), actor=STAFF, now=NOW, combination_id="c-long",
                table_ids=PAIR, min_capacity=5, capacity=8, name="The long table",
            ),
        )  # fmt: skip
        found: dict[str, tuple[list[int], list[float]]] = {"pair": ([], []), "single": ([], [])}
        for round_number in range(ROUNDS):  # alternate who goes first
            kinds = ("pair", "single") if round_number % 2 == 0 else ("single", "pair")
            for kind in kinds:
                accepted, seconds = await _race(
                    store, PAIR if kind == "pair" else SINGLE, hour=round_number
                )
                found[kind][0].append(accepted)
                found[kind][1].extend(seconds)
        return found
    finally:
        await pool.close()


def run(url: str, _redis_url: str) -> list[Measure]:
    found = asyncio.run(_measure(url))
    accepted, seconds = found["pair"]
    _, baseline = found["single"]
    p99, baseline_p99 = percentile(seconds, 0.99) * 1000, percentile(baseline, 0.99) * 1000
    exact = all(count == 1 for count in accepted)
    print(
        f"combination race: accepted per round {accepted} (exactly 1 each: {exact}),"
        f" p99 {p99:.1f} ms vs {baseline_p99:.1f} ms for one table",
        flush=True,
    )
    return [
        Measure(
            name=f"{RACERS}-way race on one combination of 2 tables, p99",
            value=p99,
            unit="ms",
            baseline=baseline_p99,
            baseline_name=f"{RACERS}-way race on one table",
            goal="exactly 1 accepted per round",
            met=exact,
            note=(
                f"{ROUNDS} rounds, accepted per round {accepted}; through the handlers on"
                f" PostgreSQL, {POOL} connections"
            ),
        )
    ]
