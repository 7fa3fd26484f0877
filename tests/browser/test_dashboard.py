"""Compliance's dashboard in a real browser: the charts are SVG drawn by the server,
shown under the strict Content-Security-Policy (an inline style attribute or script in
them would be reported, and fail the test)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.browser.conftest import SignIn, Site

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_the_dashboard_renders_its_charts(page: Page, sign_in: SignIn, site: Site) -> None:
    sign_in("compliance")
    assert page.url == site.url + "/dashboard"
    charts = page.locator("main figure.chart > svg")  # not the legends' swatches
    assert charts.count() == 3  # weeks, open cases by days left, time to acknowledge
    for index in range(charts.count()):
        chart = charts.nth(index)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 50 and box["height"] > 50, index
        # Something drawn: bars, lines or points, not an empty frame.
        assert chart.locator("rect, path, line, polyline, circle").count() > 0, index
    # Figures only: no requester's name or address reaches the compliance role.
    text = page.content().lower()
    assert "@example.org" not in text and "morgan" not in text
