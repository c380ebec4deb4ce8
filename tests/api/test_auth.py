"""Register, sign in, who am I; tokens that must not work; sign-in limits."""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

import httpx
import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from api.accounts import UserStore
from api.accounts.limits import LoginAttempt, LoginLimiter, TooManyAttempts
from api.app import create_app
from api.services import ApiConfig
from tablebook.runtime import open_services
from tests.api.conftest import SECRET, Headers, NewUser, World, serving, sign_in

Client = AsyncTestClient[Litestar]


def _email() -> str:
    return f"u-{uuid.uuid4().hex[:10]}@example.com"


async def test_register_sign_in_and_me(client: Client) -> None:
    email = _email()
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": email,
            "password": "long enough",
            "full_name": "Ada",
            "phone": "+44 20 7946 0000",
        },
    )
    assert response.status_code == 201
    user = response.json()
    assert user["role"] == "system_user"
    assert user["is_active"] is True
    assert "password" not in str(user)
    token = await client.post(
        "/api/v1/auth/token", data={"username": email.upper(), "password": "long enough"}
    )
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json() == user


async def test_register_refuses_taken_email_and_weak_password(client: Client) -> None:
    email = _email()
    ok = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": "long enough", "full_name": "A"}
    )
    assert ok.status_code == 201
    again = await client.post(
        "/api/v1/auth/register",
        json={"email": email.upper(), "password": "long enough", "full_name": "B"},
    )
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    weak = await client.post(
        "/api/v1/auth/register", json={"email": _email(), "password": "short", "full_name": "C"}
    )
    assert weak.status_code == 422
    assert "password" in weak.json()["detail"]
    bad = await client.post(
        "/api/v1/auth/register",
        json={"email": "not-an-email", "password": "long enough", "full_name": "C"},
    )
    assert bad.status_code in (400, 422)
    unknown = await client.post(
        "/api/v1/auth/register",
        json={"email": _email(), "password": "long enough", "full_name": "C", "role": "admin"},
    )
    assert unknown.status_code == 400
    assert any(e["field"] for e in unknown.json()["errors"])


async def test_wrong_password_is_401(client: Client, new_user: NewUser) -> None:
    _, user = await new_user()
    response = await client.post(
        "/api/v1/auth/token", data={"username": user["email"], "password": "wrong one"}
    )
    assert response.status_code == 401
    nobody = await client.post(
        "/api/v1/auth/token", data={"username": _email(), "password": "whatever1"}
    )
    assert nobody.status_code == 401


def _forged(claims: dict[str, object], key: str = SECRET, algorithm: str = "HS256") -> Headers:
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm=algorithm)}"}


async def test_bad_tokens_are_401(client: Client, new_user: NewUser) -> None:
    headers, user = await new_user()
    now = dt.datetime.now(dt.UTC)
    good = {
        "sub": user["id"],
        "role": "system_user",
        "ver": 0,
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
    }
    assert (await client.get("/api/v1/auth/me", headers=_forged(good))).status_code == 200
    unsigned = jwt.encode(good, "", algorithm="none")
    cases: list[Headers] = [
        {"Authorization": f"Bearer {unsigned}"},
        _forged(good, key="another-secret-key-that-is-long-enough"),
        _forged({**good, "exp": now - dt.timedelta(seconds=1)}),
        _forged({**good, "role": "admin"}),
        {"Authorization": "Bearer not.a.token"},
        {"Authorization": "Basic abc"},
        {},
    ]
    for case in cases:
        response = await client.get("/api/v1/auth/me", headers=case)
        assert response.status_code == 401, case
        assert response.headers["content-type"].startswith("application/problem+json")
    tampered = headers["Authorization"].rsplit(".", 1)[0] + ".AAAA"
    assert (
        await client.get("/api/v1/auth/me", headers={"Authorization": tampered})
    ).status_code == 401


async def test_deactivated_users_tokens_stop_at_once(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    headers, user = await new_user()
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    off = await client.patch(
        f"/api/v1/admin/users/{user['id']}", json={"is_active": False}, headers=admin
    )
    assert off.status_code == 200
    assert off.json()["is_active"] is False
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401
    again = await client.post(
        "/api/v1/auth/token", data={"username": user["email"], "password": "correct horse"}
    )
    assert again.status_code == 401


async def test_wrong_passwords_slow_the_address_down_not_the_account(
    client: Client, new_user: NewUser
) -> None:
    _, user = await new_user()
    for _ in range(6):  # five free, and the sixth makes this address wait a second
        wrong = await client.post(
            "/api/v1/auth/token", data={"username": user["email"], "password": "wrong pass"}
        )
        assert wrong.status_code == 401
    limited = await client.post(
        "/api/v1/auth/token", data={"username": user["email"], "password": "correct horse"}
    )
    assert limited.status_code == 429
    assert limited.json()["type"].endswith("/too-many-attempts")
    assert limited.headers["retry-after"] == "30"
    assert "try again in 30 seconds" in limited.json()["detail"]
    # another account from the same address is not slowed down
    other_headers, other = await new_user()
    assert (await client.get("/api/v1/auth/me", headers=other_headers)).status_code == 200
    assert await sign_in(client, other["email"], "correct horse")


async def test_an_address_failing_for_many_accounts_waits_for_all(
    redis_url: str, redis_prefix: str
) -> None:
    redis = Redis.from_url(redis_url)  # not the `redis` fixture: it would empty the world's keys
    prefix = f"{redis_prefix}limits-{uuid.uuid4().hex[:8]}:"
    limiter = LoginLimiter(redis, prefix, per_account=100, per_address=3, first_delay_seconds=30)
    try:
        await _four_failures_then_refused(limiter)
    finally:
        async for key in redis.scan_iter(match=prefix + "*"):
            await redis.delete(key)
        await redis.aclose()


async def _four_failures_then_refused(limiter: LoginLimiter) -> None:
    for n in range(4):  # three free, the fourth starts a wait
        await limiter.attempt(f"user{n}@example.com", "192.0.2.7")
    with pytest.raises(TooManyAttempts) as refused:
        await limiter.attempt("someone-new@example.com", "192.0.2.7")
    assert refused.value.retry_after == 30
    await limiter.attempt("someone-new@example.com", "198.51.100.1")  # another address is fine


async def test_guesses_sent_all_at_once_are_counted_before_any_is_checked(
    redis_url: str, redis_prefix: str
) -> None:
    redis = Redis.from_url(redis_url)
    prefix = f"{redis_prefix}burst-{uuid.uuid4().hex[:8]}:"
    limiter = LoginLimiter(redis, prefix, per_account=5, first_delay_seconds=30)
    try:
        burst = await asyncio.gather(
            *(limiter.attempt("ada@example.com", "192.0.2.9") for _ in range(40)),
            return_exceptions=True,
        )
        let_through = [a for a in burst if isinstance(a, LoginAttempt)]
        refused = [a for a in burst if isinstance(a, TooManyAttempts)]
        assert (len(let_through), len(refused)) == (6, 34)  # five free, the sixth sets a wait
        await limiter.succeeded(let_through[-1])  # one was right after all
        await limiter.attempt("ada@example.com", "192.0.2.9")  # counted from nothing again
    finally:
        async for key in redis.scan_iter(match=prefix + "*"):
            await redis.delete(key)
        await redis.aclose()


async def test_only_a_wrong_password_keeps_the_counters_and_a_fault_is_taken_back(
    redis_url: str, redis_prefix: str
) -> None:
    redis = Redis.from_url(redis_url)
    prefix = f"{redis_prefix}memory-{uuid.uuid4().hex[:8]}:"
    limiter = LoginLimiter(redis, prefix, per_account=5, memory_seconds=1000, key=b"k")
    counters = (
        f"{prefix}login:fails:address:192.0.2.8",
        f"{prefix}login:fails:account:{limiter._account('ada@example.com')}",
    )
    try:
        await limiter.failed(await limiter.attempt("ada@example.com", "192.0.2.8"))
        await redis.expire(counters[0], 100)
        await redis.expire(counters[1], 100)
        # A right password, then a fault (a server gone mid-check): neither renews nor adds.
        await limiter.succeeded(await limiter.attempt("ada@example.com", "192.0.2.8"))
        await limiter.withdrawn(await limiter.attempt("ada@example.com", "192.0.2.8"))
        for counter in counters:
            assert int(await redis.get(counter) or 0) == 1
            assert 0 < await redis.ttl(counter) <= 100
        await limiter.failed(await limiter.attempt("ada@example.com", "192.0.2.8"))
        assert 900 < await redis.ttl(counters[0]) <= 1000  # remembered from the last failure
        # The names after the test's own prefix (random hex, which may spell "ada").
        names = [
            key.decode().removeprefix(prefix) async for key in redis.scan_iter(match=prefix + "*")
        ]
        assert names
        assert not [name for name in names if "ada" in name]
    finally:
        async for key in redis.scan_iter(match=prefix + "*"):
            await redis.delete(key)
        await redis.aclose()


async def test_registrations_are_limited_per_address(
    api_config: ApiConfig, database_url: str, redis_url: str, redis_prefix: str, world: World
) -> None:
    config = replace(api_config, registrations_per_address=2)
    app = create_app(
        config,
        lambda: open_services(database_url, redis_url, pool_size=2, redis_prefix=redis_prefix),
    )
    counter = f"{redis_prefix}limit:registrations:testclient"
    redis = Redis.from_url(redis_url)
    await redis.delete(counter)
    try:
        async with AsyncTestClient(app) as limited:
            statuses = []
            for _ in range(3):
                made = await limited.post(
                    "/api/v1/auth/register",
                    json={"email": _email(), "password": "long enough", "full_name": "Ada"},
                )
                statuses.append(made.status_code)
    finally:
        await redis.delete(counter)
        await redis.aclose()
    assert statuses == [201, 201, 429]
    assert made.json()["type"].endswith("/too-many-requests")
    assert 3590 <= int(made.headers["Retry-After"]) <= 3600


async def test_a_password_over_72_bytes_in_utf8_is_refused_in_plain_words(client: Client) -> None:
    forty_accented = "é" * 40  # 40 characters, 80 bytes: bcrypt reads only 72
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": _email(), "password": forty_accented, "full_name": "Zoé"},
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "at most 72 bytes" in response.json()["detail"]


async def test_a_sign_in_with_a_password_too_long_for_bcrypt_is_just_wrong(
    client: Client, new_user: NewUser
) -> None:
    _, user = await new_user()
    response = await client.post(
        "/api/v1/auth/token", data={"username": user["email"], "password": "correct horse" * 9}
    )
    assert response.status_code == 401


async def _median_sign_in_seconds(client: Client, email: str, tries: int = 7) -> float:
    took = []
    for _ in range(tries):
        started = time.perf_counter()
        response = await client.post(
            "/api/v1/auth/token", data={"username": email, "password": "not the password"}
        )
        took.append(time.perf_counter() - started)
        assert response.status_code == 401
    return statistics.median(took)


async def test_a_wrong_password_takes_as_long_whether_or_not_the_account_exists(
    api_config: ApiConfig,
    database_url: str,
    redis_url: str,
    redis_prefix: str,
    world: World,
) -> None:
    """At production-like cost (bcrypt 9 here, ~40 ms a check), so the dummy check of an
    unknown email must cost what a real one does. A busy machine only ever adds time, so
    the fastest of the interleaved tries is the cost itself; the bound is generous
    (within 2x either way), while a leak is 10x."""
    config = replace(
        api_config, bcrypt_rounds=9, login_attempts_per_account=100, login_attempts_per_address=100
    )
    app = create_app(
        config,
        lambda: open_services(database_url, redis_url, pool_size=2, redis_prefix=redis_prefix),
    )
    async with AsyncTestClient(app, raise_server_exceptions=False) as slow_hashing:
        real, gone = _email(), _email()
        for email in (real, gone):
            made = await slow_hashing.post(
                "/api/v1/auth/register",
                json={"email": email, "password": "the password", "full_name": "Ada"},
            )
            assert made.status_code == 201, made.text
        await UserStore(world.pool).change(made.json()["id"], is_active=False)
        medians: dict[str, list[float]] = {"real": [], "deactivated": [], "unknown": []}
        for _ in range(3):
            medians["real"].append(await _median_sign_in_seconds(slow_hashing, real, 3))
            medians["deactivated"].append(await _median_sign_in_seconds(slow_hashing, gone, 3))
            medians["unknown"].append(await _median_sign_in_seconds(slow_hashing, _email(), 3))

    real_s, gone_s, unknown_s = (min(m) for m in medians.values())
    assert 0.5 <= unknown_s / real_s <= 2.0, medians
    assert 0.5 <= gone_s / real_s <= 2.0, medians


def _sign_in_as_many_clients(url: str, forwarded: Callable[[int], Headers]) -> list[int]:
    """Five failed sign-ins from this host, each for another email and each claiming,
    in the headers, to come from another client."""
    return [
        httpx.post(
            f"{url}/api/v1/auth/token",
            data={"username": _email(), "password": "guessing"},
            headers=forwarded(n),
            timeout=10,
        ).status_code
        for n in range(5)
    ]


def _claims(n: int) -> Headers:
    return {"X-Forwarded-For": f"203.0.113.{n}", "Forwarded": f"for=198.51.100.{n}"}


@pytest.mark.parametrize(
    ("trusted", "statuses"),
    [
        pytest.param({}, [401, 401, 401, 401, 429], id="by default no client can pose as another"),
        pytest.param(
            {"FORWARDED_ALLOW_IPS": "127.0.0.1"},
            [401, 401, 401, 401, 401],
            id="behind a listed proxy each forwarded client has its own limit",
        ),
    ],
)
def test_forwarded_headers_cannot_escape_the_per_address_sign_in_wait(
    database_url: str,
    redis_url: str,
    redis_prefix: str,
    world: World,
    trusted: dict[str, str],
    statuses: list[int],
) -> None:
    fresh_counters = f"{redis_prefix}forwarded-{uuid.uuid4().hex[:8]}:"
    with serving(
        database_url,
        redis_url,
        fresh_counters,
        LOGIN_ATTEMPTS_PER_ADDRESS="3",
        LOGIN_FIRST_DELAY_SECONDS="30",
        **trusted,
    ) as url:
        assert _sign_in_as_many_clients(url, _claims) == statuses
