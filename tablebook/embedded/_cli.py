"""The command line of `python -m tablebook.embedded`: run the servers until Ctrl-C (the
default), smoke-test them (`--smoke`), or be the watchdog (`--watch DIR`, internal)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tablebook.embedded._session import embedded_services
from tablebook.embedded._smoke import smoke
from tablebook.embedded._watchdog import watch


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tablebook.embedded",
        description="Run the embedded PostgreSQL and Valkey until Ctrl-C (default), "
        "or smoke-test them.",
    )
    parser.add_argument("--data-dir", type=Path, default=Path(".data"), help="default: .data")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="boot both in a scratch folder, migrate, append and read an event, ping, stop",
    )
    parser.add_argument("--watch", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.watch is not None:
        return watch(args.watch)
    from tablebook.logs import configure_logging

    configure_logging("INFO")
    if args.smoke:
        return smoke()
    return _serve(args.data_dir)


def _serve(data_dir: Path) -> int:
    try:
        with embedded_services(data_dir) as urls:
            print(f"DATABASE_URL={urls.database_url}", flush=True)
            print(f"REDIS_URL={urls.redis_url}", flush=True)
            print("Ctrl-C stops both servers.", file=sys.stderr, flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        return 0
