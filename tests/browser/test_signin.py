"""Signing in and out in a real browser, for each role."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import HOMES, SignIn, Site

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.mark.parametrize("role", ["dpo", "compliance", "admin"])
def test_signing_in_lands_on_the_home_of_the_role(
    page: Page, sign_in: SignIn, site: Site, role: str
) -> None:
    sign_in(role)
    assert page.url == site.url + HOMES[role]
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    session = cookies["mailbot_session"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"
