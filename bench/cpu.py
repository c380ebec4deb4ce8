"""CPU time spent by each process of the system under load, read from /proc.

A `CpuSample` adds up user and system time of every process in a group (the API's
uvicorn parent and workers, the projector daemon, PostgreSQL, Redis) at one moment; the
difference of two samples over a number of bookings is the CPU each group spent per
booking. PostgreSQL is the backends that `pg_stat_activity` shows connected to the
benchmark's database plus the server's own background processes (WAL writer,
checkpointer, ...), so other databases' clients on a shared server are not counted; Redis
is every `redis-server` process. A server on another machine (or in a container this one
cannot see) shows as 0 and the table says it was not seen.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CpuSample", "ProcessGroups", "sample"]

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessGroups:
    api: int
    """The uvicorn parent: it and its children."""
    daemon: int
    """The projector daemon: it and its children."""
    postgres: frozenset[int]
    """The PostgreSQL processes that work for the benchmark's database."""


@dataclass(frozen=True)
class CpuSample:
    seconds: Mapping[str, float]
    """CPU seconds (user + system) by group: api, daemon, postgres, redis."""
    seen: Mapping[str, int]
    """Processes found in each group."""

    def minus(self, earlier: CpuSample) -> dict[str, float]:
        return {name: self.seconds[name] - earlier.seconds.get(name, 0.0) for name in self.seconds}


def _processes() -> Iterable[tuple[int, int, str, float]]:
    """(pid, ppid, name, cpu seconds) of every process this machine shows."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[1] is ppid; utime and stime are the 14th and 15th fields of the line
        cpu = (int(fields[11]) + int(fields[12])) / _TICK
        yield int(entry.name), int(fields[1]), name, cpu


def sample(groups: ProcessGroups) -> CpuSample:
    seconds = {"api": 0.0, "daemon": 0.0, "postgres": 0.0, "redis": 0.0}
    seen = dict.fromkeys(seconds, 0)
    rows = list(_processes())
    roots = {groups.api: "api", groups.daemon: "daemon"}
    parents = {pid: ppid for pid, ppid, _, _ in rows}

    def group_of(pid: int, name: str) -> str | None:
        if pid in groups.postgres:
            return "postgres"
        if name.startswith("redis-server"):
            return "redis"
        walk = pid
        for _ in range(8):
            if walk in roots:
                return roots[walk]
            walk = parents.get(walk, 0)
            if walk <= 1:
                return None
        return None

    for pid, _, name, cpu in rows:
        group = group_of(pid, name)
        if group is not None:
            seconds[group] += cpu
            seen[group] += 1
    return CpuSample(seconds, seen)
