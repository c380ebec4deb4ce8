"""The load generator: `wrk` with a Lua script, or a Python stand-in when wrk is missing.

Either way the result carries the generator's own CPU share of the machine, so the table
shows whether the generator, rather than the server, set the pace.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from bench.harness import percentile

__all__ = [
    "WRK_MISSING",
    "LoadResult",
    "book_load",
    "ensure_wrk",
    "get_load",
    "have_wrk",
    "post_load",
]

LUA = Path(__file__).parent / "lua"  # load.lua: the requests wrk sends
WRK_MISSING = (
    "wrk is not installed, so a Python load generator stands in (slower; its CPU share is"
    " in the table). Install wrk for figures that measure the server, not the generator:"
    " apt-get install -y wrk (Debian, Ubuntu) or brew install wrk (macOS)."
)


@dataclass(frozen=True)
class LoadResult:
    generator: str
    requests: int
    seconds: float
    ok: int
    other: int
    p50_ms: float
    p99_ms: float
    socket_errors: int
    cpu_share: float
    """The generator's CPU time over wall time times the machine's cores (0 to 1)."""

    @property
    def ok_per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def _installer() -> list[str] | None:
    """How to install Debian's wrk here: apt-get as root, or through sudo without a
    password; None where neither is possible (not Debian, or no rights)."""
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return ["apt-get"]
    if (
        shutil.which("sudo")
        and subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False).returncode == 0
    ):
        return ["sudo", "-n", "apt-get"]
    return None


def ensure_wrk(say: Callable[[str], None]) -> bool:
    """Find wrk, or install Debian's package where this machine allows it; say plainly
    what happened. False means the Python generator stands in."""
    if have_wrk():
        return True
    apt = _installer()
    if apt is None:
        say(WRK_MISSING)
        return False
    say("wrk is not installed: installing Debian's package (apt-get install -y wrk) ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}

    def apt_get(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([*apt, *args], capture_output=True, check=False, env=env)

    installed = apt_get("install", "-y", "wrk")
    if installed.returncode != 0:  # the package lists may be missing or stale
        apt_get("update")
        installed = apt_get("install", "-y", "wrk")
    if have_wrk():
        say("wrk installed.")
        return True
    say(f"installing wrk failed ({installed.stderr.decode(errors='replace').strip()[-200:]}).")
    say(WRK_MISSING)
    return False


def _epoch(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp())


def _cpus() -> int:
    return os.cpu_count() or 1


def _wrk(base_url: str, connections: int, seconds: float, args: list[str]) -> LoadResult:
    threads = min(2, connections)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    result = subprocess.run(
        [
            "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", "30s", "-s", str(LUA / "load.lua"), base_url, "--", *args,
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = next((x for x in result.stdout.splitlines() if x.startswith("WRK_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{result.stdout}\n{result.stderr}")
    found = json.loads(line.removeprefix("WRK_RESULT "))
    return LoadResult(
        generator="wrk",
        requests=int(found["requests"]),
        seconds=float(found["seconds"]),
        ok=int(found["ok"]),
        other=int(found["other"]),
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
        socket_errors=int(found["socket_errors"]),
        cpu_share=cpu / (wall * _cpus()),
    )


Request = Callable[[int], httpx.Request]


async def _python(
    base_url: str, connections: int, seconds: float, make: Request, ok_status: int
) -> LoadResult:
    latencies: list[float] = []
    counts = {"ok": 0, "other": 0, "errors": 0}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds

        async def worker(first: int) -> None:
            n = first
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                try:
                    response = await client.send(make(n))
                except httpx.HTTPError:
                    counts["errors"] += 1
                    continue
                latencies.append(time.perf_counter() - began)
                counts["ok" if response.status_code == ok_status else "other"] += 1
                n += connections

        cpu_before, began = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(connections)))
        wall = time.perf_counter() - began
        cpu = time.process_time() - cpu_before
    return LoadResult(
        generator="python",
        requests=len(latencies),
        seconds=wall,
        ok=counts["ok"],
        other=counts["other"],
        p50_ms=percentile(latencies, 0.5) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        socket_errors=counts["errors"],
        cpu_share=cpu / (wall * _cpus()),
    )


def book_load(
    base_url: str,
    token: str,
    connections: int,
    seconds: float,
    *,
    first_day: date,
    offset: int,
    tables: int,
    hours: int,
) -> LoadResult:
    """POST /api/v1/bookings, each request for its own table, day and hour (see lua/load.lua)."""
    if have_wrk():
        threads = min(2, connections)
        args = [
            "book", token, str(_epoch(first_day)), str(offset), str(tables), str(hours),
            str(threads),
        ]  # fmt: skip
        return _wrk(base_url, connections, seconds, args)

    def make(n: int) -> httpx.Request:
        n += offset
        slot = n // tables
        body = {
            "date": (first_day + timedelta(days=slot // hours)).isoformat(),
            "time": f"{slot % hours:02d}:00",
            "party_size": 2,
            "guest_name": f"Guest {n}",
            "table_id": f"T{n % tables}",
        }
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.Request("POST", f"{base_url}/api/v1/bookings", json=body, headers=headers)

    return asyncio.run(_python(base_url, connections, seconds, make, 201))


def get_load(
    base_url: str,
    template: str,
    connections: int,
    seconds: float,
    *,
    first_day: date,
    days: int,
    hours: int,
) -> LoadResult:
    """GET `template` with `{date}` and `{hour}` filled from a counter (see lua/load.lua)."""
    if have_wrk():
        args = ["get", template, str(_epoch(first_day)), str(days), str(hours)]
        return _wrk(base_url, connections, seconds, args)

    def make(n: int) -> httpx.Request:
        day = (first_day + timedelta(days=n % days)).isoformat()
        path = template.replace("{date}", day).replace("{hour}", f"{n // days % hours:02d}")
        return httpx.Request("GET", f"{base_url}{path}")

    return asyncio.run(_python(base_url, connections, seconds, make, 200))


def post_load(base_url: str, path: str, connections: int, seconds: float) -> LoadResult:
    """POST `path` with the same small JSON body every time; success is 201."""
    if have_wrk():
        return _wrk(base_url, connections, seconds, ["post", path])

    def make(n: int) -> httpx.Request:
        return httpx.Request("POST", f"{base_url}{path}", json={"bench": True})

    return asyncio.run(_python(base_url, connections, seconds, make, 201))
