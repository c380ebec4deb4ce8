"""Venues and staff over HTTP: the public directory, admins opening venues, managers
running their own venue and no other, grants that hold from the next request."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from booking_core.domain.streams import DEFAULT_VENUE_ID
from tests.api.conftest import TIME_ZONE, Headers, NewUser
from tests.support.scope import TEST_VENUE

Client = AsyncTestClient[Litestar]
TOKEN = "X-Consistency-Token"


def _slug(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


async def open_venue(
    client: Client, admin: Headers, stem: str = "harbour-kitchen", **fields: Any
) -> tuple[dict[str, Any], Headers]:
    """Open a venue; its body, and headers that read what the write wrote."""
    body = {"name": "The Harbour Kitchen", "slug": _slug(stem), "time_zone": "Europe/Lisbon"}
    body.update(fields)
    response = await client.post("/api/v1/admin/venues", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json(), {**admin, TOKEN: response.headers[TOKEN]}


async def grant(
    client: Client, who: Headers, venue_id: str, user_id: str, role: str
) -> tuple[int, dict[str, Any]]:
    response = await client.put(
        f"/api/v1/admin/venues/{venue_id}/staff/{user_id}", json={"role": role}, headers=who
    )
    return response.status_code, response.json() if response.content else {}


async def test_the_directory_is_public_and_lists_the_venue_of_before_as_main(
    client: Client, admin: Headers
) -> None:
    _, read_it = await open_venue(client, admin)

    response = await client.get("/api/v1/venues", headers={TOKEN: read_it[TOKEN]})

    assert response.status_code == 200
    main = next((venue for venue in response.json() if venue["id"] == "default"), None)
    # The suite sets the default venue up only when it is the suite's venue; otherwise it
    # keeps the slot settings' own time zone.
    zone = TIME_ZONE if TEST_VENUE == DEFAULT_VENUE_ID else "UTC"
    assert main == {
        "id": "default",
        "slug": "main",
        "name": "Main",
        "time_zone": zone,
        "address": None,
    }


async def test_an_admin_opens_a_venue_and_it_is_listed_at_once_with_the_token(
    client: Client, admin: Headers
) -> None:
    venue, read_it = await open_venue(client, admin, address="1 Quay Street")

    assert venue["id"].startswith("ven_")
    assert venue["time_zone"] == "Europe/Lisbon"
    listed = await client.get("/api/v1/venues", headers={TOKEN: read_it[TOKEN]})
    assert {k: venue[k] for k in ("id", "slug", "name", "time_zone", "address")} in listed.json()
    by_slug = await client.get(f"/api/v1/admin/venues/{venue['slug']}", headers=read_it)
    assert by_slug.status_code == 200
    assert by_slug.json() == venue


async def test_a_slug_is_one_venues_and_must_be_a_slug(client: Client, admin: Headers) -> None:
    venue, _ = await open_venue(client, admin)

    taken = await client.post(
        "/api/v1/admin/venues",
        json={"name": "Copycat", "slug": venue["slug"], "time_zone": "UTC"},
        headers=admin,
    )
    assert taken.status_code == 409
    assert taken.json()["type"].endswith("/slug-taken")
    for slug in ("Harbour Kitchen", "x", "café-du-port"):
        bad = await client.post(
            "/api/v1/admin/venues",
            json={"name": "Badly named", "slug": slug, "time_zone": "UTC"},
            headers=admin,
        )
        assert bad.status_code == 422, slug
        assert bad.json()["type"].endswith("/invalid-slug")
    no_zone = await client.post(
        "/api/v1/admin/venues",
        json={"name": "Nowhere", "slug": _slug("nowhere"), "time_zone": "Mars/Olympus"},
        headers=admin,
    )
    assert no_zone.status_code == 422
    assert no_zone.json()["type"].endswith("/invalid-venue")


async def test_only_an_admin_opens_venues_and_a_guest_sees_no_venue_route(
    client: Client, admin: Headers, guest: Headers
) -> None:
    venue, read_it = await open_venue(client, admin)

    refused = await client.post(
        "/api/v1/admin/venues",
        json={"name": "Mine", "slug": _slug("mine"), "time_zone": "UTC"},
        headers=guest,
    )
    assert refused.status_code == 403
    seen = await client.get(
        f"/api/v1/admin/venues/{venue['id']}", headers={**guest, TOKEN: read_it[TOKEN]}
    )
    assert seen.status_code == 404
    assert seen.json()["type"].endswith("/venue-not-found")


async def test_a_manager_runs_their_venue_and_cannot_see_another(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    harbour, read_it = await open_venue(client, admin, "harbour")
    tapas, _ = await open_venue(client, admin, "tapas", name="Tapas Corner")
    grace, grace_user = await new_user("Grace Hopper")
    token = {TOKEN: read_it[TOKEN]}

    status, member = await grant(client, read_it, harbour["id"], grace_user["id"], "manager")
    assert status == 200
    assert member["role"] == "manager"
    me = await client.get("/api/v1/auth/me", headers=grace)
    assert me.json()["venues"] == [{"venue_id": harbour["id"], "role": "manager"}]

    own = await client.get(f"/api/v1/admin/venues/{harbour['slug']}", headers={**grace, **token})
    assert own.status_code == 200
    renamed = await client.patch(
        f"/api/v1/admin/venues/{harbour['id']}",
        json={"name": "Harbour Kitchen & Bar", "time_zone": "Atlantic/Madeira"},
        headers=grace,
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Harbour Kitchen & Bar"
    assert renamed.json()["time_zone"] == "Atlantic/Madeira"

    for method, path, body in (
        ("GET", f"/api/v1/admin/venues/{tapas['id']}", None),
        ("PATCH", f"/api/v1/admin/venues/{tapas['id']}", {"name": "Grace's now"}),
        ("PUT", f"/api/v1/admin/venues/{tapas['id']}/staff/{grace_user['id']}", {"role": "host"}),
        ("GET", f"/api/v1/admin/venues/{tapas['id']}/staff", None),
    ):
        response = await client.request(method, path, json=body, headers={**grace, **token})
        assert response.status_code == 404, (method, path)
    opened = await client.post(
        "/api/v1/admin/venues",
        json={"name": "Grace's Own", "slug": _slug("grace"), "time_zone": "UTC"},
        headers=grace,
    )
    assert opened.status_code == 403


async def test_a_revoked_grant_ends_on_the_next_request(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    venue, read_it = await open_venue(client, admin)
    alan, alan_user = await new_user("Alan Turing")
    path = f"/api/v1/admin/venues/{venue['id']}"
    await grant(client, read_it, venue["id"], alan_user["id"], "manager")
    assert (await client.get(path, headers={**alan, TOKEN: read_it[TOKEN]})).status_code == 200

    revoked = await client.delete(f"{path}/staff/{alan_user['id']}", headers=admin)

    assert revoked.status_code == 204
    assert (await client.get(path, headers=alan)).status_code == 404
    again = await client.delete(f"{path}/staff/{alan_user['id']}", headers=admin)
    assert again.status_code == 404


async def test_a_host_is_staff_but_does_not_run_the_venue(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    venue, read_it = await open_venue(client, admin)
    ada, ada_user = await new_user("Ada Lovelace")
    await grant(client, read_it, venue["id"], ada_user["id"], "host")

    seen = await client.get(
        f"/api/v1/admin/venues/{venue['id']}", headers={**ada, TOKEN: read_it[TOKEN]}
    )

    assert seen.status_code == 404
    me = await client.get("/api/v1/auth/me", headers=ada)
    assert me.json()["venues"] == [{"venue_id": venue["id"], "role": "host"}]


async def test_only_an_admin_leaves_a_venue_without_a_manager(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    venue, read_it = await open_venue(client, admin)
    grace, grace_user = await new_user("Grace Hopper")
    alan, alan_user = await new_user("Alan Turing")
    staff = f"/api/v1/admin/venues/{venue['id']}/staff"
    await grant(client, read_it, venue["id"], grace_user["id"], "manager")
    as_grace = {**grace, TOKEN: read_it[TOKEN]}

    status, _ = await grant(client, as_grace, venue["id"], alan_user["id"], "host")
    assert status == 200
    alone = await client.delete(f"{staff}/{grace_user['id']}", headers=as_grace)
    assert alone.status_code == 409
    assert alone.json()["type"].endswith("/last-manager")
    status, _ = await grant(client, as_grace, venue["id"], grace_user["id"], "host")
    assert status == 409
    listed = await client.get(staff, headers=as_grace)
    assert [(m["full_name"], m["role"]) for m in listed.json()] == [
        ("Grace Hopper", "manager"),
        ("Alan Turing", "host"),
    ]

    assert (await client.delete(f"{staff}/{grace_user['id']}", headers=admin)).status_code == 204
    assert (await client.get(staff, headers=grace)).status_code == 404
    assert (await client.get(staff, headers=alan)).status_code == 404


async def test_a_grant_names_a_user_that_exists(client: Client, admin: Headers) -> None:
    venue, read_it = await open_venue(client, admin)

    status, body = await grant(client, read_it, venue["id"], "usr_nobody", "host")

    assert status == 404
    assert body["type"].endswith("/user-not-found")


async def test_a_new_slug_frees_the_old_one_for_another_venue(
    client: Client, admin: Headers
) -> None:
    venue, read_it = await open_venue(client, admin)
    new_slug = _slug("harbour")

    moved = await client.patch(
        f"/api/v1/admin/venues/{venue['slug']}", json={"slug": new_slug}, headers=read_it
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["slug"] == new_slug

    other, _ = await open_venue(client, admin, name="The Other Harbour")
    reuse = await client.post(
        "/api/v1/admin/venues",
        json={"name": "Old name's new home", "slug": venue["slug"], "time_zone": "UTC"},
        headers=admin,
    )
    assert reuse.status_code == 201
    clash = await client.patch(
        f"/api/v1/admin/venues/{other['id']}",
        json={"slug": new_slug},
        headers={**admin, TOKEN: reuse.headers[TOKEN]},
    )
    assert clash.status_code == 409


async def test_the_admin_users_list_shows_who_works_where(
    client: Client, admin: Headers, new_user: NewUser
) -> None:
    venue, read_it = await open_venue(client, admin)
    _, grace_user = await new_user("Grace Hopper")
    await grant(client, read_it, venue["id"], grace_user["id"], "host")

    one = await client.get(f"/api/v1/admin/users/{grace_user['id']}", headers=admin)

    assert one.json()["venues"] == [{"venue_id": venue["id"], "role": "host"}]
    listed = await client.get(
        "/api/v1/admin/users", params={"q": grace_user["email"]}, headers=admin
    )
    assert listed.json()["items"][0]["venues"] == [{"venue_id": venue["id"], "role": "host"}]
