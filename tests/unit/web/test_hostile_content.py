"""A mail written to attack the DPO's browser: markup, script links, template syntax and
a very long line in its subject, sender name and body. Every page shows it as text,
never runs it and never evaluates it; every answer carries the CSP header."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from mailbot.cases.models import Case
from mailbot.web.context import WebContext
from mailbot.web.security import CONTENT_SECURITY_POLICY
from mailbot.worker import Worker
from tests.mailfactory import request_mail
from tests.unit.web.conftest import csrf_of, delivered, drafts_of, signed_in_as

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"
LINK = '<a href="javascript:alert(1)">my data</a>'
JINJA = "{{ 7*7 }}"
BLOCK = "{% raw %}{%{% endraw %} %}"
LONG = "A" * 20_000
HOSTILE = (SCRIPT, IMAGE, LINK, JINJA, BLOCK)


@pytest.fixture
def hostile_case(worker: Worker) -> Case:
    subject = f"Delete my data {SCRIPT} {IMAGE} {JINJA}"
    name = f"{IMAGE} {JINJA}"
    body = (
        "Please delete my account and all my personal data.\n"
        f"{SCRIPT}\n{IMAGE}\n{LINK}\njavascript:alert(1)\n{JINJA}\n{BLOCK}\n{LONG}\n"
    )
    message = EmailMessage()
    message["From"] = f'"{name}" <hostile@example.org>'
    message["To"] = "privacy@jaimy.be"
    message["Subject"] = subject
    message.set_content(body)
    raw = request_mail(sender=str(message["From"]), subject=subject, body=body, language="en")
    return delivered(worker, raw)


def shown_as_text(page: str, where: str, quoted: bool = True) -> None:
    for markup in (SCRIPT, IMAGE, LINK):
        assert markup not in page, f"raw {markup!r} in {where}"
    assert "<script" not in page.lower(), where
    assert "<img" not in page.lower(), where
    assert 'href="javascript:' not in page.lower(), where
    # Template syntax is not evaluated: no 49 where {{ 7*7 }} was written (a lone 49,
    # not a piece of a token, a digest, a time of day such as 11:49 or a number 0.49).
    assert not re.search(r"(?<![\w:.-])49(?![\w:.-])", page), where
    assert (JINJA in page) is quoted, where


def get(client: TestClient, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, url
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    return answer.text


def test_the_queue_shows_it_as_text(context: WebContext, hostile_case: Case) -> None:
    page = get(signed_in_as(context, "dpo"), "/cases")
    assert hostile_case.reference in page
    shown_as_text(page, "queue")
    assert str(escape(IMAGE)) in page


def test_the_case_page_shows_it_as_text(context: WebContext, hostile_case: Case) -> None:
    page = get(signed_in_as(context, "dpo"), f"/cases/{hostile_case.reference}")
    shown_as_text(page, "case page")
    for text in HOSTILE:
        assert str(escape(text)) in page, text  # shown, escaped, not dropped
    assert LONG in page  # the long line is shown whole, as text


def test_the_draft_editor_shows_it_as_text(
    context: WebContext, worker: Worker, hostile_case: Case
) -> None:
    dpo = signed_in_as(context, "dpo")
    page = get(dpo, f"/cases/{hostile_case.reference}")
    # A refusal quoting the hostile text: the DPO's own letter carries it to the editor.
    reasons = f"You wrote {SCRIPT} {IMAGE} {LINK} {JINJA} {BLOCK}"
    moved = dpo.post(
        f"/cases/{hostile_case.reference}/refuse",
        data={"csrf": csrf_of(page), "reasons": reasons, "scope": "whole"},
        follow_redirects=False,
    )
    assert moved.headers["location"].startswith("/drafts/")
    editor = get(dpo, moved.headers["location"])
    shown_as_text(editor, "draft editor")
    assert str(escape(SCRIPT)) in editor
    for draft in drafts_of(context, hostile_case.id):
        # The bot's own letters never repeat the name or subject (issue 11): only the
        # DPO's refusal quotes the hostile text.
        quoted = draft.kind == "refusal"
        if not quoted:
            assert not any(h in draft.subject + draft.body for h in HOSTILE), draft.kind
        shown_as_text(get(dpo, f"/drafts/{draft.id}"), f"draft {draft.id}", quoted)


@pytest.mark.parametrize("url", ["/cases", "/mails", "/suppression", "/signin", "/healthz"])
def test_every_answer_carries_the_csp(context: WebContext, url: str) -> None:
    for client in (signed_in_as(context, "dpo"), signed_in_as(context, "compliance")):
        answer = client.get(url, follow_redirects=False)
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["x-frame-options"] == "DENY"
