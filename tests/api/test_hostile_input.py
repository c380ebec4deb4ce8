"""Whatever a client sends, the answer is never a 500: malformed bodies, headers, paths
and query strings are 4xx problem details naming every field at fault in plain words."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import SECRET, Headers

Client = AsyncTestClient[Litestar]

BOOKINGS = "/api/v1/bookings/"
ARABIC_INDIC = str.maketrans(
    "0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
)
FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + n) for n in range(10)))
LIBRARY_WORDS = re.compile(r"Expected `|regex|RFC3339|msgspec|`\$|Object missing|Invalid enum")


def _booking(day: dt.date, **fields: object) -> dict[str, object]:
    return {"date": day.isoformat(), "time": "19:00", "party_size": 2, "guest_name": "Ada"} | fields


def _is_problem(response: Any) -> bool:
    return str(response.headers.get("content-type", "")).startswith("application/problem+json")


def _assert_refused_plainly(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert _is_problem(response)
    problem: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    for error in problem.get("errors", []):
        assert not LIBRARY_WORDS.search(error["message"]), error
    assert not LIBRARY_WORDS.search(problem["detail"]), problem["detail"]
    return problem


# --- what a probe found -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"guest_name": "Ad\xff"}', id="a body with a byte that is not UTF-8"),
        pytest.param(b"[" * 1000 + b"]" * 1000, id="JSON nested a thousand deep"),
        pytest.param(
            b'{"date": ' + b"[" * 1000 + b"]" * 1000 + b"}", id="a field nested a thousand deep"
        ),
        pytest.param(b'{"party_size": 1e400}', id="a number too large for any type"),
    ],
)
async def test_an_unreadable_body_is_a_400_problem(
    client: Client, admin: Headers, body: bytes
) -> None:
    response = await client.post(
        BOOKINGS, content=body, headers={**admin, "Content-Type": "application/json"}
    )
    problem = _assert_refused_plainly(response)
    assert problem["errors"][0]["field"] == "body"


async def test_every_invalid_field_of_a_booking_is_reported_at_once_in_plain_words(
    client: Client, admin: Headers
) -> None:
    body = {
        "date": "next friday",
        "time": "7pm",
        "party_size": 0,
        "guest_name": "",
        "guest_phone": "call me maybe",
        "source": "carrier pigeon",
        "seat_by_the_window": True,
    }
    response = await client.post(BOOKINGS, json=body, headers=admin)

    errors = {e["field"]: e["message"] for e in _assert_refused_plainly(response)["errors"]}
    assert errors == {
        "date": "must be a date as YYYY-MM-DD",
        "time": "must be a time of day as HH:MM, e.g. 19:30",
        "party_size": "must be at least 1",
        "guest_name": "must not be empty",
        "guest_phone": "must be a phone number: digits, spaces and + ( ) . / -",
        "source": 'must be one of: online, phone, walk_in, not "carrier pigeon"',
        "seat_by_the_window": "unknown field: remove it",
    }


async def test_a_string_with_nul_is_named_with_the_other_mistakes(
    client: Client, admin: Headers, days: Iterator[dt.date]
) -> None:
    body = _booking(next(days), guest_name="Ada\u0000Lovelace", party_size="2")
    response = await client.post(BOOKINGS, json=body, headers=admin)

    errors = {e["field"]: e["message"] for e in _assert_refused_plainly(response)["errors"]}
    assert errors == {
        "guest_name": "must not contain NUL characters (they cannot be stored)",
        "party_size": "must be a whole number",
    }


async def test_every_missing_or_invalid_query_parameter_is_reported_by_its_name(
    client: Client, admin: Headers
) -> None:
    missing = await client.get("/api/v1/availability")
    assert {e["field"]: e["message"] for e in _assert_refused_plainly(missing)["errors"]} == {
        "date": "this query parameter is required",
        "party_size": "this query parameter is required",
    }
    invalid = await client.get(
        "/api/v1/bookings/my-bookings",
        params={
            "from": "2026-01-01".translate(FULL_WIDTH),
            "limit": "3".translate(ARABIC_INDIC),
            "status": "eaten",
        },
        headers=admin,
    )
    assert {e["field"]: e["message"] for e in _assert_refused_plainly(invalid)["errors"]} == {
        "from": "must be a date as YYYY-MM-DD",
        "limit": "must be a whole number",
        "status": 'must be one of: confirmed, cancelled, seated, completed, no_show, not "eaten"',
    }


@pytest.mark.parametrize(
    ("header", "value"),
    [
        pytest.param("If-Match", b"\xb2", id="If-Match: a superscript two, a digit to isdigit"),
        pytest.param("If-Match", b"\xb9\xb3", id="If-Match: superscript one and three"),
        pytest.param("X-Consistency-Token", b"\xb9-\xb2", id="a token of superscript digits"),
        pytest.param("Idempotency-Key", "réessai".encode(), id="an Idempotency-Key not in ASCII"),
    ],
)
async def test_a_header_that_is_not_ascii_where_ascii_is_due_is_a_400(
    live_server: str, header: str, value: bytes
) -> None:
    """Over real HTTP: headers arrive as bytes read as Latin-1, so `\xb2` is `²`."""
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:
        email = f"hostile-{uuid.uuid4().hex[:10]}@example.com"
        account = {"email": email, "password": "a long password", "full_name": "Mallory"}
        await http.post("/api/v1/auth/register", json=account)
        signed_in = await http.post(
            "/api/v1/auth/token", data={"username": email, "password": "a long password"}
        )
        token = signed_in.json()["access_token"]
        headers: dict[bytes, bytes] = {
            b"Authorization": f"Bearer {token}".encode(),
            header.encode(): value,
        }
        if header == "X-Consistency-Token":
            response = await http.get("/api/v1/bookings/my-bookings", headers=headers)
        else:
            response = await http.put(f"{BOOKINGS}bkg_x", json={"time": "20:00"}, headers=headers)
    _assert_refused_plainly(response)


async def test_a_header_with_a_nul_is_refused_before_anything_reads_it(
    client: Client, admin: Headers
) -> None:
    headers: dict[str, Any] = {**admin, "Idempotency-Key": b"retry\x00one"}
    response = await client.get("/api/v1/bookings/my-bookings", headers=headers)

    problem = _assert_refused_plainly(response, 422)
    assert problem["errors"][0]["field"] == "idempotency-key"


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(
            {"params": {"last_event_id": "12-3".translate(ARABIC_INDIC)}}, id="in the query"
        ),
        pytest.param(
            {"params": {"last_event_id": "99999999999999999999-0"}},
            id="an id past what Redis can hold",
        ),
        pytest.param(
            {"headers": {"Last-Event-ID": "12-3".translate(ARABIC_INDIC).encode()}},
            id="in the header",
        ),
    ],
)
async def test_a_last_event_id_redis_cannot_read_is_refused_before_the_stream_opens(
    client: Client, days: Iterator[dt.date], where: dict[str, Any]
) -> None:
    params = {"date": next(days).isoformat(), **where.get("params", {})}
    response = await client.get(
        "/api/v1/tables/status/stream", params=params, headers=where.get("headers", {})
    )
    _assert_refused_plainly(response)


async def test_a_signed_token_whose_subject_holds_a_nul_is_just_not_valid(client: Client) -> None:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": "usr_\x00",
        "role": "system_user",
        "ver": 0,
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
    }
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    _assert_refused_plainly(response, 401)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        pytest.param(
            "/api/v1/availability?date=%ff&party_size=2", 400, id="a query not in UTF-8 is a 400"
        ),
        pytest.param("/api/v1/bookings/%ff", 400, id="a path not in UTF-8 is a 400"),
        pytest.param(
            "/api/v1/availability?date=2030-01-01%00&party_size=2",
            422,
            id="a query with NUL is well-formed but cannot be kept: 422",
        ),
        pytest.param("/api/v1/bookings/bkg%00", 422, id="a path with NUL is a 422"),
    ],
)
async def test_a_path_or_query_that_is_not_clean_text_is_refused(
    client: Client, admin: Headers, url: str, status: int
) -> None:
    _assert_refused_plainly(await client.get(url, headers=admin), status)


async def test_a_body_whose_only_fault_is_a_nul_is_a_422(
    client: Client, admin: Headers, days: Iterator[dt.date]
) -> None:
    body = _booking(next(days), special_requests="window\u0000seat")
    response = await client.post(BOOKINGS, json=body, headers=admin)

    problem = _assert_refused_plainly(response, 422)
    assert problem["errors"] == [
        {
            "field": "special_requests",
            "message": "must not contain NUL characters (they cannot be stored)",
        }
    ]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/admin/tables", "/api/v1/admin/users", "/api/v1/bookings/my-bookings"],
)
async def test_a_cursor_that_hides_a_nul_inside_its_json_is_not_one_we_gave_out(
    client: Client, admin: Headers, path: str
) -> None:
    forged = base64.urlsafe_b64encode(json.dumps(["2030-01-01T00:00:00", "\u0000"]).encode())
    response = await client.get(path, params={"cursor": forged.decode().rstrip("=")}, headers=admin)
    _assert_refused_plainly(response, 422)


# --- fuzzing --------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
_BOOKING_FIELDS = (
    "date",
    "time",
    "party_size",
    "guest_name",
    "guest_phone",
    "guest_email",
    "special_requests",
    "table_id",
    "duration_minutes",
    "source",
)
_booking_fields = st.fixed_dictionaries({}, optional=dict.fromkeys(_BOOKING_FIELDS, _json))
_bodies = st.one_of(
    st.binary(max_size=200),
    _json.map(lambda value: json.dumps(value).encode()),
    _booking_fields.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=20).map(lambda junk: b'{"guest_name": "' + junk + b'"}'),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.integers(60_000, 70_000).map(lambda n: b'{"guest_name": "' + b"A" * n + b'"}'),
)
_header_values = st.binary(max_size=40).filter(lambda raw: b"\r" not in raw and b"\n" not in raw)
_headers = st.dictionaries(
    st.sampled_from(
        ["If-Match", "X-Consistency-Token", "Idempotency-Key", "Content-Type", "Accept"]
    ),
    _header_values,
    max_size=3,
)
_queries = st.lists(
    st.tuples(
        st.sampled_from(["date", "time", "party_size", "from", "to", "limit", "cursor", "status"])
        | st.text(max_size=5),
        st.binary(max_size=20),
    ),
    max_size=4,
).map(
    lambda pairs: "&".join(
        f"{quote_from_bytes(k.encode())}={quote_from_bytes(v)}" for k, v in pairs
    )
)
_routes = st.sampled_from(
    [
        ("POST", BOOKINGS),
        ("PUT", f"{BOOKINGS}bkg_fuzz"),
        ("GET", "/api/v1/bookings/my-bookings"),
        ("GET", "/api/v1/availability"),
        ("GET", "/api/v1/bookings/tables"),
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/token"),
        ("PATCH", "/api/v1/admin/users/usr_fuzz"),
        ("PUT", "/api/v1/admin/tables/tbl_fuzz"),
        ("GET", "/api/v1/admin/bookings"),
        ("GET", "/api/v1/admin/events"),
    ]
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(route=_routes, body=_bodies, headers=_headers, query=_queries)
async def test_no_request_however_malformed_gets_a_server_error(
    client: Client,
    admin: Headers,
    route: tuple[str, str],
    body: bytes,
    headers: dict[str, bytes],
    query: str,
) -> None:
    method, path = route
    sent: dict[str, Any] = {**admin, **headers}
    if method != "GET":
        sent.setdefault("Content-Type", b"application/json")
    response = await client.request(
        method, f"{path}?{query}", content=body if method != "GET" else None, headers=sent
    )

    assert response.status_code < 500, (method, path, query, body[:200], headers, response.text)
    if response.status_code >= 400:
        assert _is_problem(response), response.text
