"""`make bench`: run the benchmarks and print one table, beside same-run baselines."""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    api,
    combinations,
    decision_cost,
    event_store,
    history,
    history_export,
    live_status,
    pacing,
    projections,
    scale,
    venues,
)
from bench.chart import write_chart
from bench.harness import (
    Measure,
    durability_warning,
    postgres_facts,
    print_table,
    scratch_database,
    server_urls,
)
from bench.load import ensure_wrk, have_wrk

Suite = Callable[[str, str], list[Measure]]
SUITES: dict[str, Suite] = {
    "api": api.run,
    "projections": projections.run,
    "history": history.run,
    "event_store": event_store.run,
    "live_status": live_status.run,
    "history_export": history_export.run,
    "decision_cost": decision_cost.run,
    "venues": venues.run,
    "pacing": pacing.run,
    "combinations": combinations.run,
    "scale": scale.run,
}
# What `make bench` runs: about twelve minutes on two cores. history_export adds about
# three more and scale (`make bench-scale`) up to thirty, so they run only when named
# (or with `all`).
DEFAULT = [
    "api",
    "projections",
    "history",
    "event_store",
    "live_status",
    "decision_cost",
    "venues",
    "pacing",
    "combinations",
]
RESULTS = Path(__file__).parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "suites", nargs="*", metavar="SUITE", help=f"any of {', '.join(SUITES)}, or all"
    )
    args = parser.parse_args()
    chosen = list(SUITES) if args.suites == ["all"] else args.suites or DEFAULT
    unknown = set(chosen) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(sorted(unknown))}")
    ensure_wrk(lambda line: print(line, file=sys.stderr, flush=True))
    # On SIGTERM, unwind like Ctrl-C: stop the servers, drop the scratch databases.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    measures: list[Measure] = []
    durations: dict[str, float] = {}
    with server_urls() as (database_url, redis_url):
        facts = postgres_facts(database_url)
        warning = durability_warning(facts)
        print(
            f"PostgreSQL {facts['server_version']}, fsync {facts['fsync']},"
            f" synchronous_commit {facts['synchronous_commit']}",
            file=sys.stderr,
            flush=True,
        )
        if warning:
            print(warning, file=sys.stderr, flush=True)
        for name in chosen:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            began = time.perf_counter()
            with scratch_database(database_url) as url:
                measures += SUITES[name](url, redis_url)
            durations[name] = round(time.perf_counter() - began, 1)
    print_table(measures)
    if warning:
        print(warning)
    at = datetime.now(UTC)
    RESULTS.mkdir(exist_ok=True)
    report = {
        "at": at.isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "postgres": facts,
        "load_generator": "wrk" if have_wrk() else "python",
        "suite_seconds": durations,
        "measures": [m.as_dict() for m in measures],
    }
    # `latest` is a whole run; a run of some suites keeps its own files beside it.
    whole = set(chosen) >= set(DEFAULT)
    stem = "latest" if whole else "latest-" + "-".join(chosen)
    data, chart = RESULTS / f"{stem}.json", RESULTS / f"{stem}.png"
    data.write_text(json.dumps(report, indent=2) + "\n")
    title = f"tablebook bench, {at:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores"
    why_not = write_chart(measures, chart, title)
    print(
        f"results: {data}, chart {chart}"
        if why_not is None
        else f"results: {data} (no chart: {why_not})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
