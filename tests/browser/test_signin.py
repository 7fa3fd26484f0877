"""Signing in and out in a real browser, for each role, with production's cookie flags
over http://127.0.0.1 (Chromium counts loopback as a secure context and keeps a Secure
cookie there)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import HOMES, PEOPLE, Console, SignIn, Site

if TYPE_CHECKING:
    from playwright.sync_api import Page

HEADINGS = {"dpo": "Queue", "compliance": "SLA figures", "admin": "Users"}


@pytest.mark.parametrize("role", ["dpo", "compliance", "admin"])
def test_signing_in_lands_on_the_home_of_the_role(
    page: Page, sign_in: SignIn, site: Site, role: str
) -> None:
    sign_in(role)
    assert page.url == site.url + HOMES[role]
    assert HEADINGS[role] in page.get_by_role("heading", level=1).inner_text()
    assert f"{PEOPLE[role]} · {role}" in page.locator(".who").inner_text()
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    session = cookies["mailbot_session"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"


def test_a_wrong_password_shows_the_form_again(page: Page, console: Console) -> None:
    console.expect(r"status of 401")  # the refused sign-in answers 401 Unauthorized
    page.goto("/signin")
    page.get_by_label("Name").fill(PEOPLE["dpo"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text()
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    assert "mailbot_session" not in {cookie["name"] for cookie in page.context.cookies()}


def test_signing_out_ends_the_session(page: Page, sign_in: SignIn, site: Site) -> None:
    sign_in("dpo")
    assert page.url == site.url + "/cases"
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert page.url.startswith(site.url + "/signin")
    # Back to the queue: the browser asks again (no-store) and the server says no.
    page.go_back()
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    page.reload()
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    page.goto("/cases")
    assert page.url == site.url + "/signin?next=/cases"
