"""The event store's primary dies under a steady booking load, and pg_auto_failover promotes
its synchronous standby.

A `tablebook serve` process and a projector daemon run against a pg_auto_failover
formation (`tests.support.autofailover`) through a URL naming both nodes. Clients book
without pause, each booking under an `Idempotency-Key` and tried again with the same key
after a 503 or a lost connection, until it is acknowledged. Then the primary's machine
"dies": its keeper and its PostgreSQL get `kill -9`. Afterwards:

- every booking acknowledged with a 2xx is in the event store, and none twice: the store
  holds exactly one booking per acknowledged key, the one the client was told about;
- every refusal meanwhile was a 503 with `Retry-After` (or the connection itself): never
  a 500;
- the same API process answers writes again within 30 s of the kill, with no restart;
- the projections catch up, and equal a rebuild.

The figures (failover time, requests refused, acknowledged bookings lost) are printed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import msgspec
import pytest
from redis.asyncio import Redis

from booking_core.store import ConsistencyToken
from booking_core.store.postgres import PostgresEventStore
from tablebook.database import open_pool
from tests.support.autofailover import Formation, missing_auto_failover
from tests.support.models import (
    all_caught_up,
    assert_equal_to_a_rebuild,
)
from tests.support.scope import to_test_venue, wait_for_test_venue
from tests.support.throwaway import ThrowawayRedis, free_port, missing_servers, real_clock_env
from tests.support.venue import days_ahead, open_venue_with_admin

pytestmark = pytest.mark.slow

SECRET = "a-soak-test-secret-key-long-enough-for-hs256"
PREFIX = "tbsoak:"
HOST_EMAIL = "failover-host@example.com"
HOST_PASSWORD = "a-long-password-1"
CLIENTS = 4
WARM_SECONDS = 8.0
"""Bookings acknowledged before the kill."""
AFTER_SECONDS = 8.0
"""Bookings kept coming for this long once writes are answered again."""
BACK_WITHIN_SECONDS = 30.0
RETRY_PAUSE = 0.2
"""How soon a client tries a refused booking again: sooner than `Retry-After` says, so
that the failover time is measured to a fifth of a second."""
SLOTS = ("08:00", "10:00", "12:00", "14:00", "16:00", "18:00", "20:00")
TABLES_PER_SLOT = 3
"""`open_venue`'s three tables, two-hour turns: three bookings at each of these times."""


@pytest.fixture
def servers() -> Iterator[tuple[Formation, ThrowawayRedis]]:
    """The formation, and a Redis of the test's own."""
    why = missing_auto_failover() or missing_servers()
    if why is not None:
        pytest.skip(f"the failover soak test runs its own pg_auto_failover formation: {why}")
    formation, redis = Formation(), ThrowawayRedis()
    try:
        formation.start()
        redis.start()
        yield formation, redis
    finally:
        redis.kill()
        formation.destroy()


def _environment(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **real_clock_env(),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": PREFIX,
        "SECRET_KEY": SECRET,
        "BCRYPT_ROUNDS": "4",
        "LOGIN_ATTEMPTS_PER_ADDRESS": "1000",
        "PUBLIC_WRITES_PER_ADDRESS": "100000",
        "LOG_LEVEL": "INFO",
    }


def _tablebook(args: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tablebook.cli", *args], env=env, stdout=log, stderr=log
    )


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


async def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=url, timeout=2) as http:
        while True:
            assert process.poll() is None, "tablebook serve exited at start"
            try:
                if (await http.get("/health/live")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "tablebook serve did not come up within 60 s"
            await asyncio.sleep(0.2)


@dataclass
class Attempt:
    started: float
    ended: float
    outcome: str
    """The status code, or the transport error's class name."""


@dataclass
class Load:
    """Bookings made one after another by several clients, each tried until acknowledged."""

    http: httpx.AsyncClient
    headers: dict[str, str]
    first_day: dt.date
    numbers: Iterator[int] = field(default_factory=itertools.count)
    acknowledged: dict[int, set[str]] = field(default_factory=dict)
    """Booking number → the booking ids its 2xx answers named (exactly one, if all is well)."""
    tokens: list[ConsistencyToken] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def body(self, number: int) -> dict[str, Any]:
        slot, _ = divmod(number, TABLES_PER_SLOT)
        day, at = divmod(slot, len(SLOTS))
        return {
            "date": (self.first_day + dt.timedelta(days=day)).isoformat(),
            "time": SLOTS[at],
            "party_size": 2,
            "guest_name": f"Soak guest {number}",
        }

    async def client(self) -> None:
        while not self.stop.is_set():
            await self.book(next(self.numbers))

    async def book(self, number: int) -> None:
        """Book `number` under its own key until a 2xx says it is done."""
        headers = {**self.headers, "Idempotency-Key": f"soak-{number}"}
        while True:
            started = time.monotonic()
            try:
                answer = await self.http.post(
                    "/api/v1/bookings/", json=self.body(number), headers=headers
                )
            except httpx.TransportError as error:
                self.attempts.append(Attempt(started, time.monotonic(), type(error).__name__))
                await asyncio.sleep(RETRY_PAUSE)
                continue
            self.attempts.append(Attempt(started, time.monotonic(), str(answer.status_code)))
            if answer.is_success:
                self.acknowledged.setdefault(number, set()).add(answer.json()["id"])
                self.tokens.append(ConsistencyToken.parse(answer.headers["x-consistency-token"]))
                return
            if answer.status_code != 503 or int(answer.headers.get("retry-after", "0")) <= 0:
                self.problems.append(f"booking {number}: {answer.status_code} {answer.text[:300]}")
                return
            await asyncio.sleep(RETRY_PAUSE)


class _Placed(msgspec.Struct):
    booking_id: str


async def _placed(store: PostgresEventStore) -> Counter[str]:
    """How many times each booking was placed, by the event store."""
    placed: Counter[str] = Counter()
    after = ConsistencyToken(0, 0)
    decode = msgspec.json.Decoder(_Placed).decode
    while batch := await store.read_all(after, 5000, types=["BookingPlaced"]):
        placed.update(decode(event.data).booking_id for event in batch)
        after = batch[-1].token
    return placed


async def test_the_primary_dies_under_load_and_no_acknowledged_booking_is_lost(
    servers: tuple[Formation, ThrowawayRedis], tmp_path: Path
) -> None:
    formation, own_redis = servers
    env = _environment(formation.url, own_redis.url)
    upgraded = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tablebook.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert upgraded.returncode == 0, upgraded.stderr.decode()[-3000:]
    opened = await open_venue_with_admin(
        formation.url, "UTC", email=HOST_EMAIL, password=HOST_PASSWORD, full_name="Failover Host"
    )
    first_day = days_ahead(opened, 1)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    api_log, daemon_log = tmp_path / "api.log", tmp_path / "daemon.log"
    with api_log.open("wb") as api_out, daemon_log.open("wb") as daemon_out:
        server = _tablebook(["serve", "--port", str(port)], env, api_out)
        daemon = _tablebook(
            ["projectors", "run"], {**env, "NOTIFY_POLL_SECONDS": "0.5"}, daemon_out
        )
    pool = await open_pool(formation.url, min_size=1, max_size=4)
    redis = Redis.from_url(own_redis.url)
    try:
        await wait_for_test_venue(pool)
        await _wait_until_up(base_url, server)
        async with httpx.AsyncClient(
            base_url=base_url, timeout=15, event_hooks={"request": [to_test_venue]}
        ) as http:
            signed = await http.post(
                "/api/v1/auth/token", data={"username": HOST_EMAIL, "password": HOST_PASSWORD}
            )
            assert signed.status_code == 200, signed.text
            headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
            load = Load(http, headers, first_day)
            clients = [asyncio.create_task(load.client()) for _ in range(CLIENTS)]

            await asyncio.sleep(WARM_SECONDS)
            assert load.acknowledged, f"no booking acknowledged before the kill: {load.problems}"
            before = len(load.acknowledged)
            victim = await asyncio.to_thread(formation.primary)
            killed_on = dt.datetime.now(dt.UTC)
            killed_at = time.monotonic()
            await asyncio.to_thread(formation.kill_node, victim)

            deadline = killed_at + BACK_WITHIN_SECONDS
            while not any(
                a.started > killed_at and a.outcome.startswith("2") for a in load.attempts
            ):
                assert time.monotonic() < deadline, (
                    f"no write answered within {BACK_WITHIN_SECONDS:.0f} s of the kill: "
                    f"{Counter(a.outcome for a in load.attempts if a.started > killed_at)}"
                    f"\n{formation.states()}"
                )
                assert server.poll() is None, "tablebook serve exited"
                await asyncio.sleep(0.05)
            back_at = min(
                a.ended
                for a in load.attempts
                if a.started > killed_at and a.outcome.startswith("2")
            )
            await asyncio.sleep(AFTER_SECONDS)
            load.stop.set()
            await asyncio.gather(*clients)  # each finishes the booking it holds
        assert server.poll() is None, "tablebook serve exited"
        assert formation.primary() is not victim

        # No acknowledged booking lost, none twice, nothing but 503s and lost connections.
        assert load.problems == []
        during = Counter(  # every answer from the kill to the first write after it
            a.outcome for a in load.attempts if killed_at <= a.ended <= back_at
        )
        assert {o for a in load.attempts if not (o := a.outcome).startswith("2")} <= {
            "503",
            "ReadError",
            "RemoteProtocolError",
            "ReadTimeout",
            "ConnectError",
            "WriteError",
        }, Counter(a.outcome for a in load.attempts)
        answers = load.acknowledged.values()
        assert all(len(ids) == 1 for ids in answers), "one key, several bookings"
        acknowledged = {booking for ids in answers for booking in ids}
        store = PostgresEventStore(pool, formation.url)
        placed = await _placed(store)
        lost = acknowledged - set(placed)
        assert lost == set(), f"{len(lost)} acknowledged bookings are not in the store"
        twice = [booking for booking, times in placed.items() if times > 1]
        assert twice == [], "a booking placed twice"
        assert set(placed) == acknowledged, "the store holds bookings no one was told of"

        # The projections catch up, and equal a rebuild.
        caught_up_from = time.monotonic()
        await all_caught_up(max(load.tokens), pool, redis, PREFIX, timeout=60)
        catch_up = time.monotonic() - caught_up_from
        assert daemon.poll() is None, "the projector daemon exited"
        assert _stop(daemon) == 0
        await assert_equal_to_a_rebuild(store, pool, redis, PREFIX)

        refused = sum(n for outcome, n in during.items() if not outcome.startswith("2"))
        timeline = "\n    ".join(formation.events(killed_on))
        print(
            "\nfailover figures:"
            f"\n  failover time (kill -9 to the first 2xx write): {back_at - killed_at:.1f} s"
            f"\n  requests refused meanwhile: {refused} ({dict(during)}),"
            f" {CLIENTS} clients retrying every {RETRY_PAUSE} s"
            f"\n  bookings acknowledged: {len(acknowledged)} ({before} before the kill)"
            f"\n  acknowledged bookings lost: {len(lost)}; placed twice: {len(twice)}"
            f"\n  projections caught up {catch_up:.1f} s after the load stopped"
            f"\n  the monitor, from the kill:\n    {timeline}"
        )
        daemon_text = daemon_log.read_text(errors="replace")
        assert "Traceback" not in daemon_text, daemon_text[-3000:]
        assert "server=PostgreSQL" in daemon_text  # it met the failover, and rode it out
        assert "Traceback" not in api_log.read_text(errors="replace")
    finally:
        await redis.aclose()
        await pool.close()
        for process in (server, daemon):
            if process.poll() is None:
                _stop(process)
        print(f"\napi log:\n{api_log.read_text(errors='replace')[-2000:]}")
        print(f"\ndaemon log:\n{daemon_log.read_text(errors='replace')[-2000:]}")
