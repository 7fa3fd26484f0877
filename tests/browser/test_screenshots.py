"""Screenshots of the main pages for the README, only on request:
`pytest tests/browser/test_screenshots.py --screenshots docs/screenshots`
(`make screenshots`). Small PNGs: one window, not the whole scrolled page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import SignIn, Site

if TYPE_CHECKING:
    from playwright.sync_api import Page

WIDTH, HEIGHT = 1200, 760
LIMIT = 200_000  # bytes per picture


@pytest.fixture
def folder(request: pytest.FixtureRequest) -> Path:
    chosen = request.config.getoption("--screenshots")
    if not chosen:
        pytest.skip("screenshots only on request: --screenshots DIR")
    folder = Path(chosen)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shoot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=path, animations="disabled", caret="hide")
    assert path.stat().st_size < LIMIT, f"{path} is {path.stat().st_size} bytes"


def test_screenshots_of_the_main_pages(
    page: Page, sign_in: SignIn, site: Site, folder: Path
) -> None:
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    page.goto("/signin")
    _shoot(page, folder, "signin")
    sign_in("dpo")
    _shoot(page, folder, "queue")
    reference = site.references["nl_access_known"]
    page.goto(f"/cases/{reference}")
    _shoot(page, folder, "case")
    (draft,) = site.drafts_of(reference)
    page.goto(f"/drafts/{draft.id}")
    _shoot(page, folder, "draft")
    page.goto("/mails")
    _shoot(page, folder, "quarantine")
    page.goto("/signin")
    sign_in("compliance")
    _shoot(page, folder, "dashboard")
