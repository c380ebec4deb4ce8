"""A pg_auto_failover formation that a test owns: a monitor and two PostgreSQL nodes, the
standby synchronous, on free ports, in a temporary folder. It is there to be broken:
`kill_node` kills a node as its machine dying would (the `pg_autoctl` keeper and its
PostgreSQL alike, `kill -9`), and pg_auto_failover, not the test, promotes the standby.

As root, every `pg_autoctl` runs as the `postgres` system user (`runuser`): PostgreSQL
refuses to run as root. Each node's processes form a process group of their own, so a
node dies whole.

The monitor and the keepers decide faster than pg_auto_failover's defaults (a failover
in about 15 s rather than about 50 s; `MONITOR_SETTINGS`, `KEEPER_SETTINGS`);
docs/operations.md gives the same values for production. The nodes run without fsync:
the test kills processes, never the machine, so nothing the operating system holds is
lost, and the machines the suite runs on are spared the disk traffic.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support.throwaway import PG_BIN, _alive, free_port, real_clock_env

__all__ = [
    "DATABASE",
    "KEEPER_SETTINGS",
    "MONITOR_SETTINGS",
    "Formation",
    "Node",
    "missing_auto_failover",
]

DATABASE = "tablebook"

MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": "1000",
    "pgautofailover.health_check_timeout": "1000",
    "pgautofailover.health_check_max_retries": "1",
    "pgautofailover.health_check_retry_delay": "500",
    "pgautofailover.node_considered_unhealthy_timeout": "4000",
    "pgautofailover.primary_demote_timeout": "10000",
}
"""How soon the monitor calls a node failed (health checks every second, unhealthy after
4 s without a report) and how long it waits for an unreachable primary to demote itself
before the standby takes writes (10 s: longer than the keepers'
`network_partition_timeout`, so two primaries never take writes at once)."""

KEEPER_SETTINGS = {"timeout.network_partition_timeout": "5"}
"""A primary that reaches neither the monitor nor its standby for 5 s demotes itself."""

_STARTUP_SECONDS = 120.0


def _pg_autoctl() -> str | None:
    return shutil.which("pg_autoctl") or shutil.which("pg_autoctl", path=str(PG_BIN))


def missing_auto_failover() -> str | None:
    """Why no formation can run here, or None."""
    if _pg_autoctl() is None:
        return "no pg_autoctl (Debian: apt-get install postgresql-15-auto-failover)"
    if not (PG_BIN / "pg_ctl").exists():
        return f"no PostgreSQL server programs at {PG_BIN} (set PG_BIN)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to start PostgreSQL as another user"
    return None


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class Node:
    """One data node: its name, port, data folder and running `pg_autoctl run`."""

    name: str
    port: int
    pgdata: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


class Formation:
    """A monitor and two data nodes, `node_1` first the primary, `node_2` its
    synchronous standby. `url` names both nodes, as the application is given them."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tablebook-paf-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.monitor = Node("monitor", free_port(), self.root / "monitor")
        self.nodes = [Node(f"node_{n}", free_port(), self.root / f"node_{n}") for n in (1, 2)]
        self._env = {
            **real_clock_env(),
            "PATH": f"{PG_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PG_CONFIG": str(PG_BIN / "pg_config"),
            # pg_autoctl keeps its configuration and state under these, never $HOME.
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "XDG_DATA_HOME": str(self.root / "share"),
            "XDG_RUNTIME_DIR": str(self.root / "run"),
        }
        self._env.pop("PGHOST", None)
        self._env.pop("PGPORT", None)

    # --- what the tests use ------------------------------------------------------------

    @property
    def url(self) -> str:
        """The application's DATABASE_URL: both nodes, writes wherever the primary is."""
        hosts = ",".join(node.address for node in self.nodes)
        return f"postgresql://postgres@{hosts}/{DATABASE}?target_session_attrs=read-write"

    @property
    def monitor_url(self) -> str:
        return f"postgresql://autoctl_node@127.0.0.1:{self.monitor.port}/pg_auto_failover"

    def node_url(self, node: Node) -> str:
        return f"postgresql://postgres@{node.address}/{DATABASE}"

    def states(self) -> dict[str, tuple[str, str]]:
        """Each node's (reported state, goal state), as the monitor knows them."""
        with psycopg.connect(self.monitor_url, connect_timeout=3) as connection:
            rows = connection.execute(
                "SELECT nodename, reportedstate::text, goalstate::text FROM pgautofailover.node"
            ).fetchall()
        return {row[0]: (row[1], row[2]) for row in rows}

    def events(self, since: dt.datetime) -> list[str]:
        """What the monitor did since `since`: one line per event, with its time."""
        with psycopg.connect(self.monitor_url, connect_timeout=3) as connection:
            rows = connection.execute(
                "SELECT eventtime, description FROM pgautofailover.event"
                " WHERE eventtime >= %s ORDER BY eventid",
                (since,),
            ).fetchall()
        lines = (f"+{(row[0] - since).total_seconds():5.1f} s  {row[1]}" for row in rows)
        return list(dict.fromkeys(lines))  # an event about two nodes is stored for each

    def primary(self) -> Node:
        """The node that takes writes now: the monitor assigned it a primary's state, and
        it reported reaching it (a dead primary still shows its last report)."""
        states = self.states()
        for node in self.nodes:
            reported, goal = states.get(node.name, ("", ""))
            if reported == goal and goal in {"primary", "wait_primary", "single"}:
                return node
        raise LookupError(f"no primary: {states}")

    def standby(self) -> Node:
        primary = self.primary()
        return next(node for node in self.nodes if node is not primary)

    def wait_for(self, wanted: dict[str, str], timeout: float = _STARTUP_SECONDS) -> None:
        """Wait until each named node has reached (and been assigned) its wanted state."""
        deadline = time.monotonic() + timeout
        states: dict[str, tuple[str, str]] = {}
        while True:
            with contextlib.suppress(psycopg.Error):
                states = self.states()
                if all(states.get(n) == (s, s) for n, s in wanted.items()):
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the formation never reached {wanted}: {states}")
            self._check_running()
            time.sleep(0.25)

    def kill_node(self, node: Node) -> None:
        """kill -9 of everything the node runs: its keeper, PostgreSQL and their helpers,
        as if its machine died. Returns once its postmaster is gone."""
        postmaster = self._postmaster_pid(node)
        if node.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(timeout=10)
            node.process = None
        if postmaster is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(postmaster, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while _alive(postmaster) and time.monotonic() < deadline:
                time.sleep(0.02)

    def log(self, node: Node) -> str:
        path = self.root / f"{node.name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # --- life cycle --------------------------------------------------------------------

    def start(self) -> None:
        """Monitor, then the first node (primary), then the second (its synchronous
        standby, cloned from the first); returns when both are in step."""
        for folder in ("config", "share", "run"):
            self._mkdir(self.root / folder)
        self._autoctl(
            "create", "monitor", *self._common(self.monitor), "--pgdata", str(self.monitor.pgdata)
        )
        self._run(self.monitor)
        self._wait_accepting(f"postgresql://postgres@{self.monitor.address}/pg_auto_failover")
        with psycopg.connect(
            f"postgresql://postgres@{self.monitor.address}/pg_auto_failover", autocommit=True
        ) as connection:
            for name, value in MONITOR_SETTINGS.items():
                connection.execute(f"ALTER SYSTEM SET {name} = {value}")
            connection.execute("SELECT pg_reload_conf()")

        first, second = self.nodes
        self._create_node(first)
        self._run(first)
        self.wait_for({first.name: "single"})
        self._wait_accepting(self.node_url(first))
        with psycopg.connect(self.node_url(first), autocommit=True) as connection:
            # The standby's base backup waits for a checkpoint: spread over minutes by
            # default, at once with this (the setting travels to the standby with it).
            connection.execute("ALTER SYSTEM SET checkpoint_completion_target = 0")
            connection.execute("ALTER SYSTEM SET fsync = off")
            connection.execute("SELECT pg_reload_conf()")
        self._create_node(second)
        self._run(second)
        self.wait_for({first.name: "primary", second.name: "secondary"})

    def destroy(self) -> None:
        """Stop every process of the formation and remove its folder."""
        running = [n for n in (*self.nodes, self.monitor) if n.process is not None]
        for node in running:
            assert node.process is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for node in running:
            assert node.process is not None
            try:
                node.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.process.pid, signal.SIGKILL)
                node.process.wait(timeout=10)
            node.process = None
        for node in (*self.nodes, self.monitor):  # a postmaster left behind, if any
            pid = self._postmaster_pid(node)
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    # --- the pieces ----------------------------------------------------------------------

    def _common(self, node: Node) -> list[str]:
        return [
            "--pgport",
            str(node.port),
            "--hostname",
            "127.0.0.1",
            "--listen",
            "127.0.0.1",
            "--auth",
            "trust",
            "--no-ssl",
        ]

    def _create_node(self, node: Node) -> None:
        self._autoctl(
            "create",
            "postgres",
            *self._common(node),
            "--pgdata",
            str(node.pgdata),
            "--monitor",
            self.monitor_url,
            "--dbname",
            DATABASE,
            "--name",
            node.name,
        )
        for name, value in KEEPER_SETTINGS.items():
            self._autoctl("config", "set", "--pgdata", str(node.pgdata), name, value)

    def _run(self, node: Node) -> None:
        """`pg_autoctl run` of the node, in a process group of its own, logging to a file."""
        with (self.root / f"{node.name}.log").open("ab") as log:
            node.process = subprocess.Popen(
                _as_postgres([self._program(), "run", "--pgdata", str(node.pgdata)]),
                env=self._env,
                cwd=self.root,  # one the postgres user may enter
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _autoctl(self, *args: str) -> None:
        """One `pg_autoctl` command to its end; its output is kept in the formation's log."""
        with (self.root / "pg_autoctl.log").open("ab") as log:
            done = subprocess.run(
                _as_postgres([self._program(), *args]),
                env=self._env,
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=_STARTUP_SECONDS,
                check=False,
            )
        if done.returncode != 0:
            tail = (self.root / "pg_autoctl.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"pg_autoctl {' '.join(args[:2])} failed:\n{tail}")

    def _program(self) -> str:
        program = _pg_autoctl()
        assert program is not None, missing_auto_failover()
        return program

    def _mkdir(self, path: Path) -> None:
        path.mkdir(mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def _wait_accepting(self, url: str) -> None:
        deadline = time.monotonic() + _STARTUP_SECONDS
        while True:
            try:
                with psycopg.connect(url, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                self._check_running()
                time.sleep(0.2)

    def _check_running(self) -> None:
        for node in (self.monitor, *self.nodes):
            if node.process is not None and node.process.poll() is not None:
                raise RuntimeError(
                    f"pg_autoctl run of {node.name} exited:\n{self.log(node)[-3000:]}"
                )

    @staticmethod
    def _postmaster_pid(node: Node) -> int | None:
        try:
            return int((node.pgdata / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
