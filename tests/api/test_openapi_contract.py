"""The OpenAPI contract a client generates code from: headers, refusals, bounds, examples.

The schema is read as a client would read it, from `/openapi.json`; what it promises
(an `ETag`, a refusal type, a pattern) is then checked against what the API does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]
PROBLEMS = "https://tablebook.dev/problems/"
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
async def schema(client: Client) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    found: dict[str, Any] = response.json()
    return found


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def headers_in(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}


def headers_out(operation: dict[str, Any], status: str) -> dict[str, Any]:
    found: dict[str, Any] = operation["responses"][status].get("headers", {})
    return found


def refusal_types(operation: dict[str, Any], status: str) -> set[str]:
    content = operation["responses"][status]["content"]["application/problem+json"]
    kinds: set[str] = set()
    for part in content["schema"].get("allOf", []):
        kinds |= set(part.get("properties", {}).get("type", {}).get("enum", []))
    return {kind.removeprefix(PROBLEMS) for kind in kinds}


# --- what the schema says ---------------------------------------------------------------


async def test_every_schema_has_a_realistic_example_that_fits_it(schema: dict[str, Any]) -> None:
    for name, shape in schema["components"]["schemas"].items():
        assert shape.get("examples"), f"{name} has no example"
        validator = jsonschema_rs.Draft202012Validator(
            {"$ref": f"#/components/schemas/{name}", "components": schema["components"]}
        )
        for example in shape["examples"]:
            errors = [e.message for e in validator.iter_errors(example)]
            assert not errors, f"{name}: {errors}"
    detail = schema["components"]["schemas"]["Problem"]["properties"]["detail"]
    assert "pattern" not in detail, "a problem may quote the refused input, whatever it was"
    shift = schema["components"]["schemas"]["ShiftIO"]["examples"][0]
    assert shift["open"] != shift["close"]
    random_looking = re.compile(r"^[A-Za-z]{20}$")
    assert not random_looking.search(str(schema["components"]["schemas"]["ProblemField"]))


async def test_every_write_takes_an_idempotency_key_and_names_its_consistency_token(
    schema: dict[str, Any],
) -> None:
    plain = {
        "/api/v1/auth/register",
        "/api/v1/auth/token",
        "/api/v1/auth/refresh",
        "/api/v1/auth/sign-out",
        "/api/v1/admin/users/{user_id}",
        "/api/v1/admin/venues/{venue_id}/staff",
        "/api/v1/admin/venues/{venue_id}/staff/{user_id}",
        "/api/v1/auth/me",
        "/api/v1/admin/guests/{guest_id}/erase",
        "/api/v1/venues/{venue_id}/admin/guests/{guest_id}/erase",
    }
    writes = [
        (m, p, o) for m, p, o in operations(schema) if m != "get" and p.startswith("/api/v1/")
    ]
    assert len(writes) > 20
    for method, path, operation in writes:
        if path in plain:
            assert "Idempotency-Key" not in headers_in(operation), path
            continue
        key = headers_in(operation)["Idempotency-Key"]
        assert key["schema"]["maxLength"] == 200
        assert "idempotency-key-reused" in refusal_types(operation, "422"), (method, path)
        success = next(s for s in operation["responses"] if s.startswith("2"))
        assert "X-Consistency-Token" in headers_out(operation, success), (method, path)
        assert "Idempotent-Replayed" in headers_out(operation, success), (method, path)


async def test_reads_of_read_models_take_a_consistency_token(schema: dict[str, Any]) -> None:
    reads = {p: o for m, p, o in operations(schema) if m == "get"}
    for path in (
        "/api/v1/availability",
        "/api/v1/bookings/tables",
        "/api/v1/bookings/my-bookings",
        "/api/v1/bookings/{booking_id}",
        "/api/v1/admin/bookings",
        "/api/v1/admin/tables",
        "/api/v1/admin/operating-hours",
    ):
        token = headers_in(reads[path])["X-Consistency-Token"]
        assert re.fullmatch(token["schema"]["pattern"], "781-1842"), path
        assert "unknown-consistency-token" in refusal_types(reads[path], "422")
        assert "Retry-After" in reads[path]["responses"]["503"]["headers"]
    assert "X-Consistency-Token" not in headers_in(reads["/api/v1/bookings/{booking_id}/history"])
    stream = headers_in(reads["/api/v1/tables/status/stream"])["Last-Event-ID"]
    assert re.fullmatch(stream["schema"]["pattern"], "1796489374120-0")


async def test_if_match_is_declared_where_it_is_taken_and_etag_where_it_is_sent(
    schema: dict[str, Any],
) -> None:
    """Every operation that takes `If-Match` sends the `ETag` it compares with, in its
    success and in the `GET` of its path, and lists the refusal of a stale one."""
    ops = {(m, p): o for m, p, o in operations(schema)}
    conditional = {(m, p) for (m, p), o in ops.items() if "If-Match" in headers_in(o)}
    assert {
        ("put", "/api/v1/bookings/{booking_id}"),
        ("put", "/api/v1/admin/layouts/{layout_id}"),
        ("delete", "/api/v1/admin/layouts/{layout_id}"),
    } <= conditional
    for method, path in conditional:
        operation = ops[method, path]
        assert re.fullmatch(headers_in(operation)["If-Match"]["schema"]["pattern"], '"3"')
        assert "stale-version" in refusal_types(operation, "409"), (method, path)
        successes = [status for status in operation["responses"] if status.startswith("2")]
        assert successes, (method, path)
        for status in successes:
            assert "ETag" in headers_out(operation, status), (method, path, status)
        if ("get", path) in ops:
            assert headers_out(ops["get", path], "200")["ETag"]["required"] is True, path
    for path in (
        "/api/v1/bookings/{booking_id}",
        "/api/v1/admin/bookings/{booking_id}",
        "/api/v1/admin/tables/{table_id}",
        "/api/v1/admin/layouts/{layout_id}",
    ):
        assert headers_out(ops["get", path], "200")["ETag"]["required"] is True
    assert "If-Match" not in headers_in(ops["put", "/api/v1/admin/time-slots"])


async def test_created_things_say_where_they_are_and_refusals_say_when_to_retry(
    schema: dict[str, Any],
) -> None:
    created = [(m, p, o) for m, p, o in operations(schema) if "201" in o["responses"]]
    assert len(created) >= 5
    for method, path, operation in created:
        if path != "/api/v1/auth/register":
            assert "Location" in headers_out(operation, "201"), (method, path)
    for method, path, operation in operations(schema):
        for status in ("429", "503"):
            if status in operation["responses"]:
                assert "Retry-After" in headers_out(operation, status), (method, path)


async def test_booking_refusals_are_listed_with_their_problem_types(
    schema: dict[str, Any],
) -> None:
    ops = {(m, p): o for m, p, o in operations(schema)}
    book = ops["post", "/api/v1/bookings"]
    assert {"table-already-booked", "no-table-available"} <= refusal_types(book, "409")
    assert {"outside-opening-hours", "start-in-past", "beyond-booking-window"} <= refusal_types(
        book, "422"
    )
    assert "outside-opening-hours" in book["responses"]["422"]["description"]
    mine = ops["get", "/api/v1/bookings/{booking_id}/history"]
    assert "409" not in mine["responses"]
    assert "422" not in mine["responses"] or not refusal_types(mine, "422") - {
        "unprocessable-request",
        "date-out-of-range",
        "invalid-id",
    }


async def test_every_request_header_states_its_form_in_plain_ascii(
    schema: dict[str, Any],
) -> None:
    for _, path, operation in operations(schema):
        for header in headers_in(operation).values():
            pattern = header["schema"]["pattern"]
            assert pattern.isascii(), (path, header["name"])
            assert header["schema"]["type"] == "string", (path, header["name"])


async def test_dates_are_bounded_as_the_api_bounds_them(schema: dict[str, Any]) -> None:
    parameters = {
        p["name"]: p for p in schema["paths"]["/api/v1/availability"]["get"]["parameters"]
    }
    pattern = parameters["date"]["schema"]["pattern"]
    assert re.fullmatch(pattern, "2000-01-01")
    assert re.fullmatch(pattern, "2199-12-31")
    assert not re.fullmatch(pattern, "1999-12-31")
    assert not re.fullmatch(pattern, "2200-01-01")
    register = schema["components"]["schemas"]["Register"]["properties"]
    assert register["password"]["minLength"] == 8


async def test_common_parameters_carry_examples_that_fit_them(schema: dict[str, Any]) -> None:
    tables = {p["name"]: p for p in schema["paths"]["/api/v1/bookings/tables"]["get"]["parameters"]}
    for name in ("date", "time", "party_size", "duration_minutes"):
        shape = tables[name]["schema"]
        validator = jsonschema_rs.validator_for(shape)
        assert shape["examples"], name
        assert all(validator.is_valid(example) for example in shape["examples"]), name
