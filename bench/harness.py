"""Shared pieces of the benchmarks: a scratch database, timing, and the results table."""

from __future__ import annotations

import contextlib
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from tablebook.database import create_database, drop_database, migrate, with_database

__all__ = [
    "Measure",
    "connect",
    "percentile",
    "print_table",
    "retrying",
    "scratch_database",
    "server_urls",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Measure:
    """One line of the table: a figure, its baseline, and the goal for their ratio."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    goal: str = ""
    met: bool | None = None
    note: str = ""
    load_cpu: float | None = None
    """The load generator's share of the machine's CPU while this was measured."""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        assert self.baseline is not None
        return self.value / self.baseline

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


def percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


@contextlib.contextmanager
def server_urls() -> Iterator[tuple[str, str]]:
    """The PostgreSQL and Redis to measure against: the given ones or embedded ones."""
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if database_url and redis_url:
        yield database_url, redis_url
        return
    from tablebook.embedded import embedded_services

    with embedded_services(
        Path(".data/bench"), postgres=not database_url, redis=not redis_url, durable=True
    ) as urls:
        yield database_url or urls.database_url or "", redis_url or urls.redis_url or ""


def postgres_facts(database_url: str) -> dict[str, str]:
    """The server's version and the settings a write's speed turns on: a run says which
    server it measured, and whether its commits reached the disk."""
    facts: dict[str, str] = {}
    with connect(database_url) as connection:
        for name in ("server_version", "fsync", "synchronous_commit"):
            row = connection.execute(f"SHOW {name}").fetchone()
            facts[name] = str(row[0]) if row else "unknown"
    return facts


def durability_warning(facts: dict[str, str]) -> str | None:
    """A plain warning when the server does not wait for the disk as production does."""
    off = [name for name in ("fsync", "synchronous_commit") if facts.get(name) != "on"]
    if not off:
        return None
    return (
        f"WARNING: this PostgreSQL runs with {' and '.join(f'{n}={facts[n]}' for n in off)}:"
        " its writes skip the disk, so these figures flatter every write and are not those"
        " of a production server"
    )


def retrying(call: Callable[..., T], *args: Any, seconds: float = 60) -> T:
    """`call(*args)`, tried again while the server refuses connections: a shared server
    may be at max_connections for a moment, and a scratch database must still be dropped."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call(*args)
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def connect(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection, so no transaction is ever left open (an open one holds
    back every projector on the server: they read only below the oldest running one)."""
    return retrying(lambda: psycopg.connect(url, autocommit=True))


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A fresh, migrated database for one benchmark run, dropped afterwards."""
    name = f"tablebook_bench_{uuid.uuid4().hex[:8]}"
    retrying(create_database, server_url, name)
    url = with_database(server_url, name)
    try:
        migrate(url)
        yield url
    finally:
        retrying(drop_database, server_url, name)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def print_table(measures: list[Measure]) -> None:
    headers = ["measure", "value", "unit", "baseline", "ratio", "goal", "met", "gen CPU"]
    rows = [
        [
            m.name,
            _fmt(m.value),
            m.unit,
            f"{_fmt(m.baseline)} ({m.baseline_name})" if m.baseline is not None else "-",
            _fmt(m.ratio),
            m.goal or "-",
            {True: "yes", False: "NO", None: "-"}[m.met],
            f"{m.load_cpu:.0%}" if m.load_cpu is not None else "-",
        ]
        for m in measures
    ]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    for m in measures:
        if m.note:
            print(f"* {m.name}: {m.note}")
