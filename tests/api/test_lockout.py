"""Wrong passwords slow down the address that gives them, never the account: fifty guesses
from one place do not keep the real admin out from another.

The package's `tablebook serve`, which believes `X-Forwarded-For` from this host (as it
would from a listed proxy, `FORWARDED_ALLOW_IPS`), so each request comes from the client
that header names. Its limits are the defaults (five free failures per address and
account, an account under attack after fifty), but for a first wait of 30 s, which no
slow machine outlasts mid-test. A wait running out is its Redis key
expiring; the tests let it run out by deleting the key, which is what the clock would do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from api.accounts.limits import LoginLimiter, login_key
from tests.api.conftest import SECRET

ATTACKER = "203.0.113.66"
OFFICE = "198.51.100.10"
PHONE = "198.51.100.20"
PASSWORD = "the real password"


@pytest.fixture
def server(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=10) as client:
        yield client


def _account(server: httpx.Client) -> str:
    email = f"owner-{uuid.uuid4().hex[:10]}@example.com"
    made = server.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": "Grace Owner"},
    )
    assert made.status_code == 201, made.text
    return email


def _sign_in(server: httpx.Client, email: str, password: str, address: str) -> httpx.Response:
    return server.post(
        "/api/v1/auth/token",
        data={"username": email, "password": password},
        headers={"X-Forwarded-For": address},
    )


def _fails(server: httpx.Client, email: str, address: str, times: int = 1) -> None:
    for _ in range(times):
        assert _sign_in(server, email, "a wrong guess", address).status_code == 401


def _wait_runs_out(redis_url: str, redis_prefix: str, email: str, address: str) -> None:
    limiter = LoginLimiter(AsyncRedis(), redis_prefix, key=login_key(SECRET))
    keys = limiter.wait_keys(email, address)  # only names
    with Redis.from_url(redis_url) as redis:
        redis.delete(*keys)


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/too-many-attempts")
    return int(response.headers["Retry-After"])


def test_fifty_wrong_passwords_from_one_address_leave_the_owner_signing_in_from_another(
    server: httpx.Client, redis_url: str, redis_prefix: str
) -> None:
    email = _account(server)
    for _ in range(50):  # a patient attacker: every wait is sat out, so all fifty count
        _wait_runs_out(redis_url, redis_prefix, email, ATTACKER)
        _fails(server, email, ATTACKER)

    owner = _sign_in(server, email, PASSWORD, OFFICE)

    assert owner.status_code == 200, owner.text
    assert _retry_after(_sign_in(server, email, PASSWORD, ATTACKER)) == 900  # the cap


def test_an_account_guessed_at_from_everywhere_slows_each_failing_address_from_its_first_failure(
    server: httpx.Client, redis_url: str, redis_prefix: str
) -> None:
    email = _account(server)
    for n in range(50):  # fifty addresses, one wrong guess each: none waits yet
        _fails(server, email, f"192.0.2.{n}")

    _fails(server, email, "192.0.2.200")
    # The account is now known to be under attack: that address's one failure costs it a wait,
    assert _retry_after(_sign_in(server, email, PASSWORD, "192.0.2.200")) == 30
    # while an address that has not failed against it is let in at once.
    assert _sign_in(server, email, PASSWORD, PHONE).status_code == 200


def test_the_failing_address_waits_twice_as_long_after_each_further_failure(
    server: httpx.Client, redis_url: str, redis_prefix: str
) -> None:
    email = _account(server)
    _fails(server, email, ATTACKER, 5)
    assert _sign_in(server, email, PASSWORD, ATTACKER).status_code == 200  # five are free
    _fails(server, email, ATTACKER, 5)

    waits = []
    for _ in range(4):
        _fails(server, email, ATTACKER)
        # The right password is refused too while the address waits: it is not even tried.
        waits.append(_retry_after(_sign_in(server, email, PASSWORD, ATTACKER)))
        _wait_runs_out(redis_url, redis_prefix, email, ATTACKER)

    assert waits == [30, 60, 120, 240]
    assert _sign_in(server, email, PASSWORD, OFFICE).status_code == 200


def test_signing_in_clears_the_address_s_failures_for_that_account(
    server: httpx.Client, redis_url: str, redis_prefix: str
) -> None:
    email = _account(server)
    _fails(server, email, OFFICE, 6)
    assert _retry_after(_sign_in(server, email, PASSWORD, OFFICE)) == 30
    _wait_runs_out(redis_url, redis_prefix, email, OFFICE)
    assert _sign_in(server, email, PASSWORD, OFFICE).status_code == 200

    _fails(server, email, OFFICE, 5)  # counted from nothing again: five free, no wait
    assert _sign_in(server, email, PASSWORD, OFFICE).status_code == 200
