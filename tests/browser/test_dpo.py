"""The DPO's day in a real browser: find a case, complete and approve the bot's draft and
see the reply leave through a real SMTP server; decide a triaged case; read the
quarantine. Each test works on its own case, so they share one site."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.browser.conftest import KNOWN, PASSWORD, PEOPLE, VAGUE, Console, SignIn, Site

if TYPE_CHECKING:
    from playwright.sync_api import Page

FILL_IN = re.compile(r"\[\[.*?\]\]", re.DOTALL)


def test_find_a_case_complete_its_draft_approve_it_and_see_it_leave(
    page: Page, sign_in: SignIn, site: Site
) -> None:
    reference = site.references["en_access_known"]
    sign_in("dpo")
    page.get_by_label("Search").fill("Morgan Example")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 1
    with page.expect_navigation():
        rows.get_by_role("link", name=reference).click()
    assert page.get_by_role("heading", level=1).inner_text().startswith(reference)
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(r"access answer")).click()
    assert page.locator(".blockers").is_visible()  # the fill-ins still block it

    editor = page.get_by_label("Text of the letter")
    drafted = editor.input_value()
    assert FILL_IN.search(drafted)
    sentence = "We hold your account profile, your two quote requests and their messages."
    completed = FILL_IN.sub("your account profile and quote requests", drafted)
    completed = completed.replace("\n\n", f"\n\n{sentence}\n\n", 1)
    editor.fill(completed)
    with page.expect_navigation():
        page.get_by_role("button", name="Save and approve").click()
    # Approved: back on the case page with what happened as the notice.
    assert page.url == f"{site.url}/cases/{reference}"
    assert "approved" in page.get_by_role("status").inner_text()
    assert site.drafts_of(reference) == []

    site.send_replies()
    to_morgan = [
        message
        for message in site.sink.messages()
        if message["To"] == KNOWN.split("<")[1].rstrip(">")
        and sentence in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    ]
    assert len(to_morgan) == 1
    text = to_morgan[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert not FILL_IN.search(text)
    assert reference in to_morgan[0]["Subject"]


def test_decide_a_triaged_case(page: Page, sign_in: SignIn, site: Site) -> None:
    reference = site.references["triage"]
    assert site.case(reference).needs_triage
    sign_in("dpo")
    page.get_by_label("needs triage").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    row = page.locator("table.queue tbody tr", has_text=reference)
    assert "triage" in row.inner_text()
    assert VAGUE.split(" <")[0] in row.inner_text()
    with page.expect_navigation():
        row.get_by_role("link", name=reference).click()
    page.get_by_label("Main right").select_option("access")
    with page.expect_navigation():
        page.get_by_role("button", name="Set the rights and go on").click()
    assert "Refused" not in page.get_by_role("status").inner_text()
    assert "needs triage" not in page.get_by_role("heading", level=1).inner_text()
    case = site.case(reference)
    assert (case.needs_triage, case.primary) == (False, "access")


def test_the_quarantine_shows_the_mail_the_bot_could_not_handle(
    page: Page, sign_in: SignIn
) -> None:
    sign_in("dpo")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Quarantine").click()
    page.wait_for_url("**/mails")
    row = page.locator("table tbody tr").first
    assert "internal error: RuntimeError" in row.inner_text()
    with page.expect_navigation():
        row.get_by_role("link").first.click()
    assert "piet.jansen@example.org" in page.content()


def test_compliance_cannot_open_a_case(page: Page, site: Site, console: Console) -> None:
    console.expect(r"status of 403")  # the refusal itself
    reference = site.references["fr_access"]
    page.goto(f"/cases/{reference}")
    assert page.url == f"{site.url}/signin?next=/cases/{reference}"
    page.get_by_label("Name").fill(PEOPLE["compliance"])
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url == f"{site.url}/cases/{reference}"  # back where they asked to go
    assert page.get_by_role("heading", level=1).inner_text() == "403"
    assert "lambert" not in page.content().lower()
