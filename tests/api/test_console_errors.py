"""Refusals in a host's words: each form of the console shows every invalid field at
once, each beside its field, in plain language, never a regex, msgspec's "Expected" or
code quoting."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

from tests.api.browser import PHONE, assert_accessible, choose_venue, needs_chromium, open_plan
from tests.api.conftest import OwnVenueMaker

pytestmark = needs_chromium

JARGON = re.compile(r"regex|Expected|`|\^|\$")


async def beside(field: Locator, words: str) -> str:
    """The error shown beside `field` (marked invalid, described by it), containing
    `words`; its text, checked for jargon."""
    await expect(field).to_have_attribute("aria-invalid", "true")
    error_id = await field.get_attribute("aria-describedby")
    assert error_id
    error = field.page.locator(f"#{error_id}")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text(words)
    # Beside it: the next thing after the input in the form.
    assert await field.evaluate("(input, id) => input.nextElementSibling?.id === id", error_id)
    text = await error.inner_text()
    assert not JARGON.search(text), text
    return text


@pytest.mark.parametrize("page", [{}, PHONE], indirect=True, ids=["desktop", "phone"])
async def test_a_phone_booking_with_three_mistakes_shows_all_three_beside_their_fields(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    page = staff
    await choose_venue(page, await own_venue())
    await page.goto("/console#floor")
    form = page.locator("#booking-form")
    await form.get_by_role("button", name="Tonight").click()
    await form.get_by_label("Party size").fill("0")
    await form.get_by_label("Guest name").fill("Grace Hopper")
    await form.get_by_label("Phone").fill("call me maybe")
    await form.get_by_label("Email").fill("grace at navy")
    async with page.expect_response(lambda r: r.url.endswith("/admin/bookings")) as answer:
        await form.get_by_role("button", name="Book").click()
    problem: dict[str, Any] = await (await answer.value).json()
    fields = {e["field"] for e in problem["errors"]}
    assert {"party_size", "guest_phone", "guest_email"} <= fields

    await beside(form.get_by_label("Party size"), "at least 1")
    await beside(form.get_by_label("Phone"), "phone number")
    await beside(form.get_by_label("Email"), "email address")
    await expect(form.locator(".field-error")).to_have_count(len(problem["errors"]))
    await expect(page.locator("#booking-problem")).to_contain_text("Check the marked fields")
    await assert_accessible(page, "phone booking refused")

    # Put right, the marks go.
    await form.get_by_label("Party size").fill("2")
    await form.get_by_label("Phone").fill("+44 20 7946 0000")
    await form.get_by_label("Email").fill("grace@example.com")
    async with page.expect_response(lambda r: r.url.endswith("/admin/bookings")) as first:
        await form.get_by_role("button", name="Book").click()
    if (await first.value).status == 422:  # outside the rules at this hour: a reason
        await page.locator("#reason-dialog").get_by_label("Reason for the override").fill("Regular")
        await page.locator("#reason-dialog").get_by_role("button", name="Override and").click()
    await expect(form.locator(".field-error")).to_have_count(0)
    await expect(page.locator("#floor-status")).to_contain_text("Booked Grace Hopper")


async def test_a_walk_in_and_a_waitlist_party_are_told_each_mistake_beside_it(
    staff: Page, own_venue: OwnVenueMaker
) -> None:
    page = staff
    await choose_venue(page, await own_venue())
    await page.goto("/console#floor")

    walkin = page.locator("#walkin-form")
    await walkin.get_by_label("Party size").fill("0")
    await walkin.get_by_label("Phone").fill("no phone")
    await walkin.get_by_role("button", name="Seat now").click()
    await beside(walkin.get_by_label("Party size"), "at least 1")
    await beside(walkin.get_by_label("Phone"), "phone number")

    waitlist = page.locator("#waitlist-form")
    await waitlist.get_by_label("Party size").fill("0")
    await waitlist.get_by_role("button", name="Add to waitlist").click()
    # Seen before asking the API: both, at once, the first one focused.
    await beside(waitlist.get_by_label("Party size"), "1 or more")
    await beside(waitlist.get_by_label("Name"), "name")
    await expect(waitlist.get_by_label("Party size")).to_be_focused()

    await waitlist.get_by_label("Party size").fill("2")
    await waitlist.get_by_label("Name").fill("Ada")
    await waitlist.get_by_label("Phone").fill("ring ring")
    await waitlist.get_by_role("button", name="Add to waitlist").click()
    await beside(waitlist.get_by_label("Phone"), "phone number")
    await expect(waitlist.locator(".field-error")).to_have_count(1)
    await expect(page.locator("#waitlist-problem")).to_contain_text("Check the marked fields")


async def test_sign_in_marks_each_empty_field(page: Page) -> None:
    await page.goto("/console")
    signin = page.locator("#signin")
    await signin.get_by_role("button", name="Sign in").click()
    await beside(signin.get_by_label("Email"), "email")
    await beside(signin.get_by_label("Password"), "password")
    await expect(signin.get_by_label("Email")).to_be_focused()
    await assert_accessible(page, "sign-in refused")


async def test_the_plan_editors_table_form_marks_each_wrong_value(
    staff: Page, layout: dict[str, Any]
) -> None:
    page = staff
    await open_plan(page, layout)
    await page.locator("#plan-svg g.table").first.click()
    form = page.locator("#table-form")
    await form.get_by_label("Name").fill("")
    await form.get_by_label("Seats").fill("0")
    await form.get_by_label("Width").fill("2")
    await beside(form.get_by_label("Name"), "name")
    await beside(form.get_by_label("Seats"), "1 to 100")
    await beside(form.get_by_label("Width"), "10 or more")
    await form.get_by_label("Seats").fill("4")
    await form.get_by_label("Fewest guests").fill("6")
    await beside(form.get_by_label("Fewest guests"), "more than the seats")
    await expect(form.get_by_label("Seats")).not_to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, "plan table form refused")
