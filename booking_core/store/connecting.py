"""How the store's connections reach the primary and notice when it is gone.

`DATABASE_URL` may name several hosts, as libpq allows:
`postgresql://db1:5432,db2:5432/tablebook?target_session_attrs=read-write`. libpq tries
them in order and keeps the first that accepts writes, so after a failover every new
connection finds the new primary by itself; nothing of ours chooses a server.

A server that dies with its machine sends nothing: no reset, no shutdown message. A
connection to it would wait for an answer (or a notification) until the kernel gives up,
hours later. TCP keepalives notice the silence within about 11 s on an idle connection
(`keepalives_idle` + `keepalives_count` times `keepalives_interval`) and `tcp_user_timeout`
within 10 s on one that is sending; the connection then fails as any lost connection
does, and is made again, to the new primary.

Every option here is a default: one the URL sets itself wins.
"""

from __future__ import annotations

from typing import Any

from psycopg import ConnectionInfo
from psycopg.conninfo import conninfo_to_dict

__all__ = ["LIVENESS", "connection_options", "on_read_only_server"]

LIVENESS: dict[str, Any] = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}
"""What every long-lived connection of ours asks libpq for. `connect_timeout` counts for
each host of the URL in turn."""


def connection_options(conninfo: str) -> dict[str, Any]:
    """`LIVENESS` less what `conninfo` sets: keyword arguments for `connect`."""
    given = conninfo_to_dict(conninfo)
    return {key: value for key, value in LIVENESS.items() if key not in given}


def on_read_only_server(info: ConnectionInfo) -> bool:
    """Whether a connection's server refuses writes: a standby (`in_hot_standby`), or one
    made read-only. PostgreSQL reports both to the client when the session starts and
    whenever they change, so asking costs no round trip."""
    return bool(
        info.parameter_status("in_hot_standby") == "on"
        or info.parameter_status("default_transaction_read_only") == "on"
    )
