"""The `tablebook` command as an operator runs it: real processes, real servers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

TABLEBOOK = [sys.executable, "-m", "tablebook.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_serve_answers_health_and_stops_cleanly_on_sigterm(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    # No projector daemon runs here: the events other tests left are not applied, and
    # readiness would wait for them (tests/api/test_observability.py tests that).
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "READY_MAX_LAG_SECONDS": str(10 * 365 * 24 * 3600),
    }
    process = subprocess.Popen(
        [*TABLEBOOK, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        status = 0
        while time.monotonic() < deadline:
            try:
                status, body = get(f"http://127.0.0.1:{port}/health/ready")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert status == 200, "tablebook serve did not become ready"
        assert b'"postgres":"ok"' in body
        assert get(f"http://127.0.0.1:{port}/health/live")[0] == 200
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    # uvicorn finishes its shutdown, then re-raises the signal so the exit status says why.
    assert process.returncode in (0, -signal.SIGTERM), output.decode()
    assert b"Application shutdown complete" in output


def test_production_without_a_secret_stops_with_one_clear_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TABLEBOOK_ENV": "production",
        "DATABASE_URL": "postgresql://tb@127.0.0.1:1/tb",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [*TABLEBOOK, "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tablebook: SECRET_KEY must be set in production (not the default)"
    ]


def test_db_upgrade_is_idempotent(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:1/0"}
    for _ in range(2):
        result = subprocess.run(
            [*TABLEBOOK, "db", "upgrade"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("argv", [["frobnicate"], []])
def test_a_bad_command_line_is_a_usage_error(argv: list[str]) -> None:
    result = subprocess.run([*TABLEBOOK, *argv], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "usage: tablebook" in result.stderr


async def test_projectors_rebuild_then_status_shows_every_projection_caught_up(
    clean_store: Any,
    pool: Any,
    database_url: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    from tests.support.models import clear_read_models
    from tests.support.story import Story

    redis = Redis.from_url(redis_url)
    await clear_read_models(pool, redis, redis_prefix)
    story = Story(seed=5)
    for writes in story.opening():
        await clean_store.append(writes)
    for _ in range(20):
        step = story.random_step()
        if step:
            await clean_store.append(step)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix,
    }

    def tablebook(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*TABLEBOOK, *argv], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )

    rebuilt = tablebook("projectors", "rebuild", "--all")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt" in rebuilt.stderr
    status = tablebook("projectors", "status")
    assert status.returncode == 0, status.stderr
    for name in ("bookings", "venue", "stats", "availability", "live_status"):
        line = next(row for row in status.stdout.splitlines() if f" {name} " in row)
        assert " 0 " in line, line  # nothing behind
    refused = tablebook("projectors", "rebuild", "no-such-projection")
    assert refused.returncode == 2
    assert "unknown projection" in refused.stderr
    async for key in redis.scan_iter(match=redis_prefix + "*"):
        await redis.delete(key)
    await redis.aclose()


# (`projectors run` and `serve` wait up to 30 s for PostgreSQL first, then say the same.)
@pytest.mark.parametrize("command", [["db", "upgrade"], ["dev"]])
def test_a_database_that_does_not_exist_is_one_clear_line(
    database_url: str, redis_url: str, tmp_path: Path, command: list[str]
) -> None:
    missing = database_url.rsplit("/", 1)[0] + "/tablebook_no_such_database"
    env = {**os.environ, "DATABASE_URL": missing, "REDIS_URL": redis_url}
    done = subprocess.run(
        [*TABLEBOOK, *command], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("tablebook: cannot use PostgreSQL:"), done.stderr
    assert '"tablebook_no_such_database" does not exist' in last
    assert "createdb" in last


def test_an_unreachable_redis_is_one_clear_line(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:1/0"}
    done = subprocess.run(
        [*TABLEBOOK, "projectors", "status"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("tablebook: cannot use Redis:")
