"""Screenshots of the main pages for the README, only on request:
`pytest tests/browser/test_screenshots.py --screenshots docs/screenshots`
(`make screenshots`). Small PNGs: one window, not the whole scrolled page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mailbot.config import Settings
from mailbot.database import migrate, open_engine, transaction
from mailbot.handling.record import Handling
from mailbot.staff.members import add_member
from mailbot.web.context import WebContext
from scripts.bench_web import NOW, generate_cases
from tests.browser.conftest import PASSWORD, SignIn, Site, running_app
from tests.conftest import TEST_DATA_KEY

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


def test_screenshot_of_the_dashboard_over_a_year_of_requests(
    page: Page, folder: Path, tmp_path: Path
) -> None:
    """The dashboard needs a history to show anything: the benchmark's synthetic cases
    (3,000 over four years, mostly closed on time, some late, extended, refused)."""
    engine = open_engine(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    migrate(engine)
    generate_cases(engine, 3000)
    settings = Settings(
        data_key=TEST_DATA_KEY, maildir=tmp_path, smtp_url="smtp://127.0.0.1:9",
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'history.sqlite3'}",
    )  # fmt: skip
    context = WebContext(settings, engine, Handling.of(settings, settings.sealer()))
    context.clock = lambda: NOW
    with transaction(engine) as session:
        add_member(session, "Chris Compliance", "compliance", PASSWORD, NOW, "screenshots")
    with running_app(context) as url:
        page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
        page.goto(url + "/signin")
        page.get_by_label("Name").fill("Chris Compliance")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(url + "/dashboard")
        page.goto(url + "/dashboard?from=2025-12-01&to=2026-11-30")
        _shoot(page, folder, "dashboard")
        page.locator("h2", has_text="Per week").evaluate("heading => heading.scrollIntoView()")
        _shoot(page, folder, "dashboard-charts")
