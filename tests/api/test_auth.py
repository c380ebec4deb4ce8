"""Register, sign in, who am I; tokens that must not work; sign-in limits."""

from __future__ import annotations

import datetime as dt
import uuid

import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from api.security import LoginLimiter, TooManyAttempts
from tests.api.conftest import SECRET, Headers, NewUser, sign_in

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
    unsigned = jwt.encode(good, None, algorithm="none")
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


async def test_sign_in_attempts_are_limited_per_account(client: Client, new_user: NewUser) -> None:
    _, user = await new_user()
    for _ in range(5):
        wrong = await client.post(
            "/api/v1/auth/token", data={"username": user["email"], "password": "wrong pass"}
        )
        assert wrong.status_code == 401
    limited = await client.post(
        "/api/v1/auth/token", data={"username": user["email"], "password": "correct horse"}
    )
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    # another account from the same address is not locked out
    other_headers, other = await new_user()
    assert (await client.get("/api/v1/auth/me", headers=other_headers)).status_code == 200
    assert await sign_in(client, other["email"], "correct horse")


async def test_sign_in_attempts_are_limited_per_address(redis_url: str, redis_prefix: str) -> None:
    redis = Redis.from_url(redis_url)  # not the `redis` fixture: it would empty the world's keys
    prefix = f"{redis_prefix}limits-{uuid.uuid4().hex[:8]}:"
    limiter = LoginLimiter(redis, prefix, per_account=100, per_address=3)
    try:
        await _three_failures_then_refused(limiter)
    finally:
        async for key in redis.scan_iter(match=prefix + "*"):
            await redis.delete(key)
        await redis.aclose()


async def _three_failures_then_refused(limiter: LoginLimiter) -> None:
    for n in range(3):
        await limiter.check(f"user{n}@example.com", "192.0.2.7")
        await limiter.failed(f"user{n}@example.com", "192.0.2.7")
    with pytest.raises(TooManyAttempts) as refused:
        await limiter.check("someone-new@example.com", "192.0.2.7")
    assert 0 < refused.value.retry_after <= 900
    await limiter.check("someone-new@example.com", "198.51.100.1")  # another address is fine


async def test_a_long_password_in_a_non_latin_script_is_taken(new_user: NewUser) -> None:
    # 72 characters of three bytes each: more than the 72 bytes bcrypt reads.
    headers, user = await new_user(password="密" * 72)
    assert user["email"].endswith("@example.com")
    assert headers["Authorization"].startswith("Bearer ")
