"""The console's people and sessions in a real browser: the Staff & users screen (grant by
email, change, revoke; deactivate an account), the venue switcher and what a host's
navigation shows, sessions that refresh while the console is open and end on sign-out
or deactivation, and "now" taken from the server's clock."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from playwright.async_api import Browser, Page, expect

from tests.api.browser import (
    FAR_AWAY,
    PHONE,
    assert_accessible,
    choose_venue,
    needs_chromium,
    screenshot,
    through_nav,
    venue_now,
)
from tests.api.conftest import (
    SECRET,
    Headers,
    NewUser,
    OwnVenue,
    OwnVenueMaker,
    console_tab,
    grant_role,
    sign_in,
)

Client = AsyncTestClient[Litestar]
pytestmark = needs_chromium
PASSWORD = "correct horse"  # new_user's


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    found: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return found


async def _staff_roles(client: Client, admin: Headers, venue: OwnVenue) -> dict[str, str]:
    listed = await client.get(f"/api/v1/admin/venues/{venue.id}/staff", headers=admin)
    assert listed.status_code == 200, listed.text
    return {m["email"]: m["role"] for m in listed.json()}


async def _sign_in(page: Page, email: str, venue: OwnVenue) -> None:
    """Sign in through the console's form, working on `venue`."""
    await choose_venue(page, venue)
    await page.goto("/console")
    await page.locator("#signin-email").fill(email)
    await page.locator("#signin-password").fill(PASSWORD)
    await page.locator("#signin-password").press("Enter")
    await expect(page.locator("#who")).to_be_visible()


async def _signed_in_as(
    page: Page,
    client: Client,
    admin: Headers,
    new_user: NewUser,
    own_venue: OwnVenueMaker,
    name: str,
    role: str,
) -> tuple[OwnVenue, dict[str, Any]]:
    """A venue of the test's own and a new user of `role` there, signed in on `page`
    through the console's form: the venue and the user."""
    venue = await own_venue()
    _, user = await new_user(name)
    await grant_role(client, admin, venue.id, user["id"], role)
    await _sign_in(page, user["email"], venue)
    return venue, user


async def _token(page: Page) -> str:
    token = await page.evaluate("sessionStorage.getItem('tablebook.token')")
    assert isinstance(token, str)
    assert token
    return token


@pytest.fixture
async def other_tab(browser: Browser, live_server: str) -> AsyncIterator[Page]:
    """A second browser, as someone else's tablet."""
    async with console_tab(browser, live_server, viewport={"width": 1024, "height": 768}) as tab:
        yield tab


# --- the venue's staff -------------------------------------------------------------------


async def test_a_manager_grants_a_host_by_email_promotes_and_revokes_with_confirmation(
    page: Page, client: Client, admin: Headers, new_user: NewUser, own_venue: OwnVenueMaker
) -> None:
    venue, _ = await _signed_in_as(
        page, client, admin, new_user, own_venue, "Mina Manager", "manager"
    )
    _, host = await new_user("Hal Host")
    await page.get_by_role("button", name="Staff & users").click()
    screen = page.locator("#people")
    await expect(screen.get_by_role("heading", name="Staff & users")).to_be_visible()
    await expect(page.locator("#people-accounts-card")).to_be_hidden()  # admins only

    grant = page.locator("#people-grant")
    await grant.get_by_label("Email").fill("nobody-at-all@example.com")
    await grant.get_by_role("button", name="Grant role").click()
    await expect(page.locator("#people-grant-email-error")).to_have_text(
        "No account has the email nobody-at-all@example.com; ask them to register first."
    )

    await grant.get_by_label("Email").fill(host["email"])
    await grant.get_by_label("Role").select_option("host")
    await grant.get_by_role("button", name="Grant role").click()
    row = page.locator(f"#people-staff li[data-user-id='{host['id']}']")
    await expect(row).to_contain_text("Hal Host")
    await expect(row.get_by_label("Role of Hal Host")).to_have_value("host")
    await expect(page.locator("#people-grant-email-error")).to_have_count(0)
    assert (await _staff_roles(client, admin, venue))[host["email"]] == "host"

    await row.get_by_label("Role of Hal Host").select_option("manager")
    await expect(page.locator("#people-status")).to_contain_text("Hal Host is now a manager")
    assert (await _staff_roles(client, admin, venue))[host["email"]] == "manager"
    await screenshot(page, "people")
    await assert_accessible(page, "people")

    await row.get_by_role("button", name="Revoke Hal Host's role").click()
    dialog = page.locator("#confirm-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Revoke Hal Host's role?")
    await assert_accessible(page, "people: confirm")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    assert host["email"] in await _staff_roles(client, admin, venue)

    await row.get_by_role("button", name="Revoke Hal Host's role").click()
    await dialog.get_by_role("button", name="Revoke role").click()
    await expect(row).to_have_count(0)
    assert host["email"] not in await _staff_roles(client, admin, venue)


async def test_the_last_manager_is_told_why_they_cannot_step_down(
    page: Page, client: Client, admin: Headers, new_user: NewUser, own_venue: OwnVenueMaker
) -> None:
    venue, manager = await _signed_in_as(
        page, client, admin, new_user, own_venue, "Lone Manager", "manager"
    )
    await page.get_by_role("button", name="Staff & users").click()

    role = page.get_by_label("Role of Lone Manager (you)").or_(
        page.get_by_label("Role of Lone Manager")
    )
    await role.select_option("host")

    error = page.locator(f"#people-staff-role-{manager['id']}-error")
    await expect(error).to_contain_text("last manager")
    await expect(role).to_have_value("manager")
    assert (await _staff_roles(client, admin, venue))[manager["email"]] == "manager"


# --- accounts (admins) -------------------------------------------------------------------


async def test_an_admin_deactivates_a_user_whose_open_console_is_then_signed_out(
    staff: Page,
    other_tab: Page,
    client: Client,
    admin: Headers,
    new_user: NewUser,
    own_venue: OwnVenueMaker,
) -> None:
    venue, host = await _signed_in_as(
        other_tab, client, admin, new_user, own_venue, "Dee Activated", "host"
    )
    await expect(other_tab.locator("#nav")).to_contain_text("Evening floor")

    page = staff
    await choose_venue(page, venue)
    await page.goto("/console#people")
    accounts = page.locator("#people-accounts-card")
    await expect(accounts).to_be_visible()
    await accounts.get_by_label("Search name or email").fill(host["email"])
    await accounts.get_by_role("button", name="Search").click()
    row = page.locator(f"#people-accounts li[data-user-id='{host['id']}']")
    await expect(row).to_contain_text("Host at")
    await expect(row).to_contain_text("✓ Active")
    await assert_accessible(page, "people: accounts")

    await row.get_by_role("button", name="Deactivate Dee Activated").click()
    dialog = page.locator("#confirm-dialog")
    await expect(dialog).to_contain_text("signed out at once")
    await dialog.get_by_role("button", name="Deactivate").click()
    await expect(row).to_contain_text("✕ Deactivated")
    await expect(row.get_by_role("button", name="Reactivate Dee Activated")).to_be_visible()

    # The host's tablet learns on its next request.
    await through_nav(other_tab, "timeline")  # the tablet's Menu first
    await expect(other_tab.locator("#signin")).to_be_visible()
    await expect(other_tab.locator("#signin-problem")).to_contain_text("Your session has ended")

    await row.get_by_role("button", name="Reactivate Dee Activated").click()
    await dialog.get_by_role("button", name="Reactivate").click()
    await expect(row).to_contain_text("✓ Active")
    assert (await client.get(f"/api/v1/admin/users/{host['id']}", headers=admin)).json()[
        "is_active"
    ]


@pytest.mark.parametrize("page", [PHONE], indirect=True)
async def test_the_people_screen_fits_a_phone(staff: Page, own_venue: OwnVenueMaker) -> None:
    page = staff
    venue = await own_venue()
    await choose_venue(page, venue)
    await page.goto("/console#people")
    await expect(page.locator("#people-accounts li").first).to_be_visible()
    widths = await page.evaluate(
        "(s => [s.scrollWidth, s.clientWidth])(document.querySelector('#people'))"
    )
    assert widths[0] <= widths[1], widths
    grant = page.locator("#people-grant")
    box = await grant.get_by_role("button", name="Grant role").bounding_box()
    assert box is not None
    assert box["height"] >= 24
    assert box["x"] + box["width"] <= 390
    await screenshot(page, "people-phone")
    await assert_accessible(page, "people on a phone")


# --- the venue switcher and what a role sees ----------------------------------------------


async def test_switching_venue_redraws_the_open_screen_and_a_host_sees_only_the_floor(
    page: Page, client: Client, admin: Headers, new_user: NewUser, own_venue: OwnVenueMaker
) -> None:
    managed, also_managed, hosted = await own_venue(), await own_venue(), await own_venue()
    _, user = await new_user("Vera Venues")
    await grant_role(client, admin, managed.id, user["id"], "manager")
    await grant_role(client, admin, also_managed.id, user["id"], "manager")
    await grant_role(client, admin, hosted.id, user["id"], "host")
    _, colleague = await new_user("Colin Colleague")
    await grant_role(client, admin, also_managed.id, colleague["id"], "host")
    await _sign_in(page, user["email"], managed)
    await page.get_by_role("button", name="Staff & users").click()
    staff_list = page.locator("#people-staff")
    await expect(staff_list).to_contain_text("Vera Venues")
    await expect(staff_list).not_to_contain_text("Colin Colleague")

    await page.locator("#venue").select_option(also_managed.id)
    await expect(staff_list).to_contain_text("Colin Colleague")  # the open screen, redrawn
    await expect(page.locator("#people")).to_be_visible()

    await page.locator("#venue").select_option(hosted.id)
    nav = page.locator("#nav button")
    await expect(nav).to_have_text(["Evening floor", "Timeline"])
    await expect(page.locator("#people")).to_be_hidden()
    await expect(page.locator("#floor")).to_be_visible()
    assert page.url.endswith("#floor")
    await page.goto("/console#people")  # typed by hand: the host still gets the floor
    await expect(page.locator("#floor")).to_be_visible()
    await expect(nav).to_have_text(["Evening floor", "Timeline"])


# --- sessions ------------------------------------------------------------------------------


async def test_the_console_refreshes_its_token_and_stays_signed_in_past_its_lifetime(
    page: Page, client: Client, admin: Headers, new_user: NewUser, own_venue: OwnVenueMaker
) -> None:
    venue = await own_venue()
    _, host = await new_user("Rita Refresh")
    await grant_role(client, admin, venue.id, host["id"], "host")
    # The tab holds a token of a session begun 58 minutes ago, two minutes from expiry.
    signed_in = await sign_in(client, host["email"], PASSWORD)
    now = int(time.time())
    claims = _claims(signed_in["Authorization"].removeprefix("Bearer "))
    claims |= {"auth": now - 58 * 60, "iat": now - 58 * 60, "exp": now + 120}
    old = jwt.encode(claims, SECRET, algorithm="HS256")
    await page.add_init_script(f"sessionStorage.setItem('tablebook.token', {old!r})")
    await choose_venue(page, venue)
    await page.clock.install()
    await page.goto("/console#floor")
    await expect(page.locator("#who")).to_be_visible()

    async with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/refresh")) as refresh:
        await page.clock.fast_forward("01:30")  # the console refreshes before the two minutes
    assert (await refresh.value).status == 200
    await page.wait_for_function(f"sessionStorage.getItem('tablebook.token') !== {old!r}")
    fresh = _claims(await _token(page))
    assert fresh["exp"] >= now + 3000  # an hour of its own, not the old token's two minutes
    assert fresh["auth"] == claims["auth"]  # the same session

    await page.clock.fast_forward("05:00")  # past the first token's expiry
    await page.get_by_role("button", name="Timeline").click()
    await page.get_by_role("button", name="Evening floor").click()
    await expect(page.locator("#floor")).to_be_visible()
    await expect(page.locator("#signin")).to_be_hidden()
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {await _token(page)}"}
    )
    assert me.status_code == 200


async def test_sign_out_revokes_the_token_on_the_server(
    page: Page, client: Client, admin: Headers, new_user: NewUser, own_venue: OwnVenueMaker
) -> None:
    _, host = await _signed_in_as(page, client, admin, new_user, own_venue, "Sid Signout", "host")
    token = await _token(page)
    assert (
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200

    async with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/sign-out")) as out:
        await page.get_by_role("button", name="Sign out").click()

    assert (await out.value).status == 204
    await expect(page.locator("#signin")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('tablebook.token')") is None
    gone = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401
    # Signing in again starts a new session.
    again = await sign_in(client, host["email"], PASSWORD)
    assert (await client.get("/api/v1/auth/me", headers=again)).status_code == 200


# --- now is the server's -------------------------------------------------------------------


def _expected_defaults(moment: dt.datetime) -> tuple[str, str]:
    """The floor's default date and time at the venue's `moment`: the next quarter hour."""
    quarter = -(-(moment.hour * 60 + moment.minute) // 15) * 15
    time = "23:45" if quarter >= 24 * 60 else f"{quarter // 60:02d}:{quarter % 60:02d}"
    return moment.date().isoformat(), time


@pytest.mark.parametrize("page", [{}, FAR_AWAY], indirect=True, ids=["here", "far-away"])
async def test_the_floor_opens_at_the_venues_real_now_whatever_the_browsers_clock(
    staff: Page,
) -> None:
    page = staff
    # The tablet's clock is nine days and five hours behind.
    wrong = dt.datetime.now(dt.UTC) - dt.timedelta(days=9, hours=5)
    await page.clock.install(time=wrong)
    before = _expected_defaults(venue_now())
    await page.goto("/console#floor")
    await expect(page.locator("#floor-date")).not_to_have_value("")
    shown = (
        await page.locator("#floor-date").input_value(),
        await page.locator("#floor-time").input_value(),
    )
    after = _expected_defaults(venue_now())
    assert shown in (before, after), (shown, before, after)
