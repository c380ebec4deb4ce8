"""Sessions that last a service: refreshing a still-valid token, the absolute cap,
signing out, deactivation and role changes (the token version); the venue's clock;
granting a role by email."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import SECRET, TIME_ZONE, Headers, NewUser, sign_in

Client = AsyncTestClient[Litestar]
TOKEN = "X-Consistency-Token"
AZORES = "Atlantic/Azores"  # a zone an hour from London's, whatever the season


def _claims(headers: Headers) -> dict[str, Any]:
    token = headers["Authorization"].removeprefix("Bearer ")
    found: dict[str, Any] = jwt.decode(token, SECRET, algorithms=["HS256"])
    return found


def _bearer(claims: dict[str, Any]) -> Headers:
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


async def _open_venue(client: Client, admin: Headers, name: str, slug: str, time_zone: str) -> Any:
    """A new venue, opened by the admin; the API's answer."""
    opened = await client.post(
        "/api/v1/admin/venues",
        json={"name": name, "slug": f"{slug}-{uuid.uuid4().hex[:8]}", "time_zone": time_zone},
        headers=admin,
    )
    assert opened.status_code == 201, opened.text
    return opened


def _same_session_at(headers: Headers, *, signed_in_ago: dt.timedelta, expires_in: int) -> Headers:
    """The session of `headers` as it would be `signed_in_ago` after its sign-in, holding a
    token that expires in `expires_in` seconds (signed with the server's key, as the
    server would have issued it then)."""
    now = int(time.time())
    claims = _claims(headers) | {
        "auth": now - int(signed_in_ago.total_seconds()),
        "iat": now - 3600 + expires_in,
        "exp": now + expires_in,
    }
    return _bearer(claims)


async def _refresh(client: Client, headers: Headers) -> Any:
    return await client.post("/api/v1/auth/refresh", headers=headers)


async def test_a_refreshed_token_belongs_to_the_same_session_and_works(
    client: Client, new_user: NewUser
) -> None:
    headers, user = await new_user()
    first = _claims(headers)

    response = await _refresh(client, headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert 3590 <= body["expires_in"] <= 3600
    fresh = {"Authorization": f"Bearer {body['access_token']}"}
    assert _claims(fresh)["auth"] == first["auth"]
    me = await client.get("/api/v1/auth/me", headers=fresh)
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]


async def test_a_session_outlives_its_first_token_by_refreshing(
    client: Client, new_user: NewUser
) -> None:
    headers, _ = await new_user()
    # Ten hours into a service, holding a token with a minute left.
    late = _same_session_at(headers, signed_in_ago=dt.timedelta(hours=10), expires_in=60)

    response = await _refresh(client, late)

    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] >= 3590
    fresh = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert _claims(fresh)["auth"] == _claims(late)["auth"]
    assert (await client.get("/api/v1/auth/me", headers=fresh)).status_code == 200


async def test_no_refreshed_token_outlives_the_session_cap(
    client: Client, new_user: NewUser
) -> None:
    headers, _ = await new_user()
    near_cap = _same_session_at(
        headers, signed_in_ago=dt.timedelta(hours=15, minutes=50), expires_in=300
    )

    capped = await _refresh(client, near_cap)

    assert capped.status_code == 200, capped.text
    assert 500 <= capped.json()["expires_in"] <= 600  # ten minutes left of sixteen hours
    past_cap = _same_session_at(headers, signed_in_ago=dt.timedelta(hours=16), expires_in=300)
    refused = await _refresh(client, past_cap)
    assert refused.status_code == 401
    assert "sign in again" in refused.json()["detail"]


async def test_an_expired_token_cannot_be_refreshed(client: Client, new_user: NewUser) -> None:
    headers, _ = await new_user()
    expired = _same_session_at(headers, signed_in_ago=dt.timedelta(hours=2), expires_in=-5)

    response = await _refresh(client, expired)

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_signing_out_ends_every_token_of_the_account(
    client: Client, new_user: NewUser
) -> None:
    headers, _ = await new_user()
    other = {"Authorization": f"Bearer {(await _refresh(client, headers)).json()['access_token']}"}

    out = await client.post("/api/v1/auth/sign-out", headers=headers)

    assert out.status_code == 204
    for token in (headers, other):
        assert (await client.get("/api/v1/auth/me", headers=token)).status_code == 401
        assert (await _refresh(client, token)).status_code == 401
    assert (await client.post("/api/v1/auth/sign-out", headers=headers)).status_code == 401


async def test_a_deactivated_account_cannot_refresh(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    headers, user = await new_user()
    off = await client.patch(
        f"/api/v1/admin/users/{user['id']}", json={"is_active": False}, headers=admin
    )
    assert off.status_code == 200

    response = await _refresh(client, headers)

    assert response.status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401


@pytest.mark.parametrize(
    ("away", "back"),
    [
        ({"is_active": False}, {"is_active": True}),
        ({"role": "admin"}, {"role": "system_user"}),
    ],
    ids=["deactivated, then active again", "made an admin, then a user again"],
)
async def test_a_token_ended_by_a_change_of_account_stays_ended_when_it_is_undone(
    client: Client, admin: Headers, new_user: NewUser, away: dict[str, Any], back: dict[str, Any]
) -> None:
    headers, user = await new_user()
    before = _claims(headers)["ver"]
    for change in (away, back):
        changed = await client.patch(
            f"/api/v1/admin/users/{user['id']}", json=change, headers=admin
        )
        assert changed.status_code == 200, changed.text

    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401
    assert (await _refresh(client, headers)).status_code == 401
    fresh = await sign_in(client, user["email"], "correct horse")
    assert _claims(fresh)["ver"] == before + 2
    assert (await client.get("/api/v1/auth/me", headers=fresh)).status_code == 200


async def test_a_change_that_changes_nothing_leaves_the_tokens_alone(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    headers, user = await new_user()
    same = await client.patch(
        f"/api/v1/admin/users/{user['id']}", json={"is_active": True}, headers=admin
    )
    assert same.status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200


async def test_refresh_and_sign_out_need_a_token(client: Client) -> None:
    assert (await client.post("/api/v1/auth/refresh")).status_code == 401
    assert (await client.post("/api/v1/auth/sign-out")).status_code == 401


# --- the venue's clock ----------------------------------------------------------------


async def test_the_clock_answers_the_servers_instant_and_the_venues_wall_clock(
    client: Client, admin: Headers
) -> None:
    opened = await _open_venue(client, admin, "Ponta Delgada", "azores", AZORES)

    before = dt.datetime.now(dt.UTC)
    response = await client.get(
        f"/api/v1/venues/{opened.json()['id']}/clock",
        headers={TOKEN: opened.headers[TOKEN]},
    )
    after = dt.datetime.now(dt.UTC)

    assert response.status_code == 200, response.text
    clock = response.json()
    instant = dt.datetime.fromisoformat(clock["now"])
    assert before - dt.timedelta(seconds=1) <= instant <= after + dt.timedelta(seconds=1)
    assert clock["time_zone"] == AZORES
    local = instant.astimezone(ZoneInfo(AZORES))
    assert clock["date"] == local.date().isoformat()
    assert clock["time"] == local.strftime("%H:%M")


async def test_the_clock_of_a_venue_that_does_not_exist_is_404(client: Client) -> None:
    response = await client.get(f"/api/v1/venues/no-such-venue-{uuid.uuid4().hex[:6]}/clock")
    assert response.status_code == 404


# --- granting a role by email -----------------------------------------------------------


async def _venue_with_manager(
    client: Client, admin: Headers, new_user: NewUser
) -> tuple[str, Headers]:
    opened = await _open_venue(client, admin, "The Quay", "quay", TIME_ZONE)
    venue_id = opened.json()["id"]
    manager, manager_user = await new_user("Mary Manager")
    made = await client.put(
        f"/api/v1/admin/venues/{venue_id}/staff/{manager_user['id']}",
        json={"role": "manager"},
        headers={**admin, TOKEN: opened.headers[TOKEN]},
    )
    assert made.status_code == 200, made.text
    return venue_id, {**manager, TOKEN: opened.headers[TOKEN]}


async def test_a_manager_grants_a_role_by_email(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    venue_id, manager = await _venue_with_manager(client, admin, new_user)
    host, host_user = await new_user("Hana Host")
    staff = f"/api/v1/admin/venues/{venue_id}/staff"

    granted = await client.post(
        staff, json={"email": host_user["email"].upper(), "role": "host"}, headers=manager
    )

    assert granted.status_code == 200, granted.text
    assert granted.json()["user_id"] == host_user["id"]
    assert granted.json()["role"] == "host"
    me = await client.get("/api/v1/auth/me", headers=host)
    assert me.json()["venues"] == [{"venue_id": venue_id, "role": "host"}]
    by_host = await client.post(
        staff, json={"email": host_user["email"], "role": "manager"}, headers=host
    )
    # A host does not hand out roles: the venue's admin routes are not there for them.
    assert by_host.status_code == 404
    promoted = await client.post(
        staff, json={"email": host_user["email"], "role": "manager"}, headers=manager
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "manager"


async def test_granting_by_email_says_plainly_what_is_wrong(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    venue_id, manager = await _venue_with_manager(client, admin, new_user)
    staff = f"/api/v1/admin/venues/{venue_id}/staff"

    unknown = await client.post(
        staff, json={"email": "nobody-here@example.com", "role": "host"}, headers=manager
    )
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == (
        "No account has the email nobody-here@example.com; ask them to register first."
    )
    assert unknown.json()["type"].endswith("/user-not-found")

    malformed = await client.post(
        staff, json={"email": "not an email", "role": "host"}, headers=manager
    )
    assert malformed.status_code == 422

    _, gone = await new_user("Gone Away")
    off = await client.patch(
        f"/api/v1/admin/users/{gone['id']}", json={"is_active": False}, headers=admin
    )
    assert off.status_code == 200
    inactive = await client.post(
        staff, json={"email": gone["email"], "role": "host"}, headers=manager
    )
    assert inactive.status_code == 409
    assert inactive.json()["type"].endswith("/user-inactive")
