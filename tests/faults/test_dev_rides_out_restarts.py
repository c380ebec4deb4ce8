"""`tablebook dev` (the API, the projectors and the notification sender in one process)
while PostgreSQL is killed and Redis is killed, each started again: it keeps running,
answers 503 with `Retry-After` meanwhile, and serves again once they are back."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.throwaway import ThrowawayPostgres, ThrowawayRedis, free_port

ADMIN_PASSWORD = "a-long-demo-password"


def start_dev(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    command = ["dev", "--port", str(port), "--bcrypt-rounds", "4"]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "tablebook.cli", *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


async def _until(
    client: httpx.AsyncClient, request: httpx.Request, ok: int, timeout: float
) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = await client.send(request)
            if response.status_code == ok:
                return response
            assert response.status_code == 503, response.text
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{request.url} never answered {ok}"
        await asyncio.sleep(0.2)


def _assert_unavailable(response: httpx.Response, server: str) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert server in response.json()["detail"]


async def test_dev_keeps_serving_and_projecting_through_postgres_and_redis_kills(
    throwaway_postgres: ThrowawayPostgres,
    throwaway_database: str,
    throwaway_redis: ThrowawayRedis,
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": throwaway_database,
        "REDIS_URL": throwaway_redis.url,
        "REDIS_PREFIX": "tbdev:",
        "TABLEBOOK_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "TABLEBOOK_DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("NOTIFY_WITH_PROJECTORS", None)
    log_path = tmp_path / "dev.log"
    dev = start_dev(port, env, log_path)
    day = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3)).isoformat()
    base = f"http://127.0.0.1:{port}"
    sign_in = {"username": "admin@tablebook.local", "password": ADMIN_PASSWORD}
    try:
        async with httpx.AsyncClient(base_url=base, timeout=15) as client:
            token = client.build_request("POST", "/api/v1/auth/token", data=sign_in)
            slots = client.build_request(
                "GET", "/api/v1/availability", params={"date": day, "party_size": 2}
            )
            await _until(client, client.build_request("GET", "/health/ready"), 200, 90)
            await _until(client, slots, 200, 30)

            throwaway_postgres.kill_9()
            _assert_unavailable(await client.send(token), "PostgreSQL")
            throwaway_postgres.start()
            await _until(client, token, 200, 10)

            throwaway_redis.kill()
            _assert_unavailable(await client.send(token), "Redis")
            throwaway_redis.start()  # empty: the projectors inside build it again
            await _until(client, token, 200, 10)
            await _until(client, slots, 200, 30)
        assert dev.poll() is None, "tablebook dev exited"
    finally:
        dev.send_signal(signal.SIGTERM)
        try:
            dev.wait(timeout=20)
        finally:
            dev.kill()
    output = log_path.read_text()
    assert dev.returncode == 0, output[-3000:]
    assert "server unavailable; retrying" in output
    assert "Traceback" not in output
