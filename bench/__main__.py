"""`make bench`: run the benchmarks and print one table, beside same-run baselines."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import event_store, history, history_export, live_status, projections
from bench.harness import Measure, print_table, scratch_database, server_urls

Suite = Callable[[str, str], list[Measure]]
SUITES: dict[str, Suite] = {
    "event_store": event_store.run,
    "history": history.run,
    "history_export": history_export.run,
    "projections": projections.run,
    "live_status": live_status.run,
}
RESULTS = Path(__file__).parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("suites", nargs="*", metavar="SUITE", help=f"any of {', '.join(SUITES)}")
    args = parser.parse_args()
    unknown = set(args.suites) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(sorted(unknown))}")
    args.suites = args.suites or list(SUITES)
    measures: list[Measure] = []
    with server_urls() as (database_url, redis_url):
        for name in args.suites:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            with scratch_database(database_url) as url:
                measures += SUITES[name](url, redis_url)
    print_table(measures)
    RESULTS.mkdir(exist_ok=True)
    report = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "measures": [m.as_dict() for m in measures],
    }
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
