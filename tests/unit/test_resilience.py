"""How long a process waits before trying a lost server again, and which errors mean a
server is unavailable rather than a bug."""

from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import PoolTimeout
from redis.asyncio.sentinel import MasterNotFoundError
from redis.exceptions import BusyLoadingError, MasterDownError, ReadOnlyError
from redis.exceptions import ConnectionError as RedisConnectionError

from resilience.backoff import Backoff
from resilience.faults import POSTGRES, REDIS, unavailable_server


def test_waits_double_from_the_first_and_stop_growing_at_the_cap() -> None:
    backoff = Backoff(first=0.1, cap=1.0)
    steps = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
    for step in steps:
        wait = backoff.failed()
        assert step / 2 <= wait <= step
    assert backoff.attempt == len(steps)


def test_a_success_starts_the_waits_again_from_the_first() -> None:
    backoff = Backoff(first=0.1, cap=5.0)
    for _ in range(6):
        backoff.failed()
    backoff.succeeded()
    assert backoff.attempt == 0
    assert backoff.failed() <= 0.1


@pytest.mark.parametrize(
    ("error", "server"),
    [
        (psycopg.errors.AdminShutdown("terminating connection"), POSTGRES),
        (psycopg.OperationalError("server closed the connection unexpectedly"), POSTGRES),
        (psycopg.InterfaceError("the connection is lost"), POSTGRES),
        (psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT"), POSTGRES),
        (psycopg.errors.CannotConnectNow("the database system is starting up"), POSTGRES),
        (PoolTimeout("couldn't get a connection after 5.00 sec"), POSTGRES),
        (RedisConnectionError("Error 111 connecting"), REDIS),
        (BusyLoadingError("Redis is loading the dataset in memory"), REDIS),
        (MasterNotFoundError("No master found for 'tablebook'"), REDIS),
        (ReadOnlyError("You can't write against a read only replica."), REDIS),
        (MasterDownError("Link with MASTER is down"), REDIS),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v,
)
def test_each_kind_of_fault_names_its_server(error: Exception, server: str) -> None:
    assert unavailable_server(error) == server


def test_a_fault_wrapped_in_another_error_or_a_group_still_names_its_server() -> None:
    wrapped = RuntimeError("could not read availability")
    wrapped.__cause__ = RedisConnectionError("refused")  # raise ... from fault
    assert unavailable_server(wrapped) == REDIS
    group = ExceptionGroup("tasks", [ValueError("bad"), wrapped])
    assert unavailable_server(group) == REDIS


def test_a_bug_met_while_handling_a_fault_is_still_a_bug() -> None:
    bug = KeyError("table")
    bug.__context__ = psycopg.OperationalError("gone")  # raised inside `except`
    assert unavailable_server(bug) is None
    assert unavailable_server(ValueError("party size")) is None
