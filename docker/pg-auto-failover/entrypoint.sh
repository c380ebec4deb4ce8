#!/bin/sh
# First start: `pg_autoctl create` with the given arguments (`monitor ...` or
# `postgres ...`), then the failover timings of docs/operations.md, then run. Later
# starts (the volume keeps the node) just run: the node rejoins its formation.
set -eu

config="${XDG_CONFIG_HOME}/pg_autoctl${PGDATA}/pg_autoctl.cfg"
if [ ! -f "$config" ]; then
    pg_autoctl create "$@"
    if [ "$1" = monitor ]; then
        cat /etc/pg-auto-failover/monitor.conf >> "$PGDATA/postgresql.conf"
    else
        pg_autoctl config set timeout.network_partition_timeout \
            "${NETWORK_PARTITION_TIMEOUT:-5}"
    fi
fi
exec pg_autoctl run
