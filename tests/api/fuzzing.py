"""Schemathesis against `/openapi.json` of a live `tablebook serve`, as a guest
(`test_schemathesis_guest.py`) and as an admin (`test_schemathesis_admin.py`: two files, so
a parallel run gives each its own worker).

Every operation is exercised with generated valid and invalid requests, and every check
schemathesis has must pass: no server error, every status, header, content type and body
as documented, invalid input refused, valid input accepted. A schema-valid request may be
refused only by a business rule the operation documents (its 409s and 422s, each with a
listed problem type): the run is configured per operation from the served schema, so an
operation that documents none must accept every schema-valid request. Bounded by
`--max-examples` and `--max-time` to keep `make test` short.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from api.contract import KEPT_AFTER_DELETE, SHAPE_KINDS
from api.openapi import PROBLEM_TYPES
from tests.api.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.throwaway import real_clock_env

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = os.environ.get("TABLEBOOK_SCHEMATHESIS_EXAMPLES", "15")


def _token(url: str, email: str, password: str) -> str:
    response = httpx.post(
        f"{url}/api/v1/auth/token", data={"username": email, "password": password}
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _guest_token(url: str) -> str:
    email = f"fuzz-{uuid.uuid4().hex[:10]}@example.com"
    password = "fuzzing password"
    created = httpx.post(
        f"{url}/api/v1/auth/register",
        json={"email": email, "password": password, "full_name": "Fuzz"},
    )
    created.raise_for_status()
    return _token(url, email, password)


def _business_kinds(response: dict[str, Any]) -> set[str]:
    """The problem types a documented 409/422 lists, less those only bad shapes get."""
    schema = response["content"]["application/problem+json"]["schema"]
    kinds: set[str] = set()
    for part in schema.get("allOf", []):
        kinds |= set(part.get("properties", {}).get("type", {}).get("enum", []))
    return {k.removeprefix(PROBLEM_TYPES) for k in kinds} - SHAPE_KINDS


def _settings(method: str, path: str, responses: dict[str, Any]) -> list[str]:
    """One operation's settings: the statuses that may answer its schema-valid requests
    (its business refusals), and no use-after-free check on what a DELETE only marks."""
    settings = []
    allowed: list[str] = [
        s for s in ("409", "422") if s in responses and _business_kinds(responses[s])
    ]
    if "429" in responses:
        allowed.append("429")
    if allowed:
        statuses = ", ".join(f'"{s}"' for s in ["2xx", "401", "403", "404", *allowed])
        settings.append(f"checks.positive_data_acceptance.expected-statuses = [{statuses}]")
    if method != "delete" and any(
        path == kept or path.startswith(f"{kept}/") for kept in KEPT_AFTER_DELETE
    ):
        settings.append("checks.use_after_free.enabled = false")
        settings.append("phases.stateful.checks.use_after_free.enabled = false")
    return settings


def _config(url: str, tmp_path: Path) -> Path:
    """The settings file, plus each operation's own settings read from the served schema."""
    schema = httpx.get(f"{url}/openapi.json").json()
    entries = [CONFIG.read_text()]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            settings = _settings(method, path, responses)
            if settings:
                entries.append(
                    f'[[operations]]\ninclude-name = "{method.upper()} {path}"\n'
                    + "\n".join(settings)
                    + "\n"
                )
    config = tmp_path / "schemathesis.toml"
    config.write_text("\n".join(entries))
    return config


def _run(url: str, token: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(_config(url, tmp_path)),
        "run",
        f"{url}/openapi.json",
        # Every check is on by default; naming them with `--checks all` would make that
        # an override that beats the settings file's per-operation and per-phase `false`.
        "--header",
        f"Authorization: Bearer {token}",
        # Signing out revokes every token of the account, the run's own included: what
        # came after would test nothing but the 401 (tests/api/test_sessions.py covers it).
        "--exclude-name",
        "POST /api/v1/auth/sign-out",
        # Erasing the account closes it, with the same effect.
        "--exclude-name",
        "DELETE /api/v1/auth/me",
        "--max-examples",
        MAX_EXAMPLES,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--seed",
        os.environ.get("TABLEBOOK_SCHEMATHESIS_SEED", "20261126"),
        # One worker: schemathesis compiles code in its workers, and concurrent AST
        # building in threads can trip CPython 3.11's "AST constructor recursion depth
        # mismatch" (a SystemError inside the tool, not an answer of the API).
        "--workers",
        "1",
        "--max-time",
        "75",
        "--suppress-health-check",
        "all",
        # The tokens and headers are of a throwaway server; a report that hides them
        # (X-Consistency-Token, Idempotency-Key) cannot be reproduced.
        "--output-sanitize",
        "false",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=400, check=False, env=real_clock_env()
    )
    if os.environ.get("TABLEBOOK_SCHEMATHESIS_LOG"):  # a directory for the full reports
        log = Path(os.environ["TABLEBOOK_SCHEMATHESIS_LOG"]) / f"{tmp_path.name}.txt"
        log.write_text(result.stdout + result.stderr)
    return result


def fuzz(live_server: str, who: str, tmp_path: Path) -> None:
    """Run schemathesis as `who` ("guest" or "admin"); fail with its report."""
    token = (
        _token(live_server, ADMIN_EMAIL, ADMIN_PASSWORD)
        if who == "admin"
        else _guest_token(live_server)
    )
    result = _run(live_server, token, tmp_path)
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-3000:]
