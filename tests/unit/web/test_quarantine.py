"""Quarantined mails (/mails): only for the DPO; read as text, handed back to the bot,
or dismissed with a reason (content erased), each under the DPO's name."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from classifiers import Classification
from mailbot.store.models import InboundMessage
from mailbot.store.sealed import stored_raw
from mailbot.web.context import WebContext
from mailbot.worker import Worker
from tests.maildir_worker import deliver, maildir_worker
from tests.mailfactory import request_mail
from tests.unit.web.conftest import PEOPLE, csrf_of, refused_to_others, signed_in_as, token_of

BODY = "Verwijder al mijn gegevens, mijn contract zit erbij."


class FallsOver:
    """A classifier with a bug: every mail stops with an internal error."""

    name = "falls-over"

    def classify(self, subject: str, body: str) -> Classification:
        raise RuntimeError("index out of range")


@pytest.fixture
def worker(tmp_path: Path) -> Worker:
    return maildir_worker(tmp_path, FallsOver())


@pytest.fixture
def held(worker: Worker) -> InboundMessage:
    deliver(
        worker,
        request_mail(
            sender="Anna Peeters <anna.peeters@example.org>",
            language="nl",
            subject="Mijn gegevens",
            body=BODY,
            attachments=[("contract.txt", "text/plain", b"contract 42")],
        ),
    )
    with Session(worker.engine) as session:
        mail = session.get_one(InboundMessage, 1)
    assert mail.disposition == "quarantined"
    return mail


def reread(context: WebContext, mail_id: int | None) -> InboundMessage:
    with Session(context.engine) as session:
        return session.get_one(InboundMessage, mail_id)


def test_only_the_dpo_reads_quarantined_mails(context: WebContext, held: InboundMessage) -> None:
    dpo = signed_in_as(context, "dpo")
    listing = dpo.get("/mails").text
    assert f'href="/mails/{held.id}"' in listing and "internal error: RuntimeError" in listing
    page = dpo.get(f"/mails/{held.id}").text
    assert BODY in page and "Mijn gegevens" in page
    assert "contract.txt (text/plain, 11 bytes)" in page
    refused_to_others(context, "GET", "/mails", secret="anna.peeters")
    refused_to_others(context, "GET", f"/mails/{held.id}", secret=BODY)
    refused_to_others(context, "POST", f"/mails/{held.id}/retry")
    refused_to_others(context, "POST", f"/mails/{held.id}/dismiss", {"why": "spam"})
    other = token_of(signed_in_as(context, "dpo"), context)
    for form in ({"why": "spam"}, {"why": "spam", "csrf": other}):
        assert dpo.post(f"/mails/{held.id}/retry", data=form).status_code == 403
        assert dpo.post(f"/mails/{held.id}/dismiss", data=form).status_code == 403
    assert reread(context, held.id).disposition == "quarantined"
    assert signed_in_as(context, "dpo").get("/mails/999").status_code == 404


def test_retry_hands_the_mail_back_to_the_bot(
    context: WebContext, held: InboundMessage, tmp_path: Path
) -> None:
    dpo = signed_in_as(context, "dpo")
    csrf = csrf_of(dpo.get(f"/mails/{held.id}").text)
    done = dpo.post(f"/mails/{held.id}/retry", data={"csrf": csrf}, follow_redirects=False)
    assert done.headers["location"] == "/mails"
    listing = dpo.get("/mails").text
    assert f"mail {held.id} is pending again" in listing and "Nothing in quarantine." in listing
    assert reread(context, held.id).disposition == "pending"

    maildir_worker(tmp_path).handle_pending()  # the bug fixed: the usual classifier
    again = reread(context, held.id)
    assert again.disposition == "case_opened" and again.case_id is not None
    # Retrying twice is refused: the mail is no longer in quarantine.
    dpo.post(f"/mails/{held.id}/retry", data={"csrf": csrf}, follow_redirects=False)
    assert "not quarantined" in dpo.get("/mails").text


def test_dismiss_needs_a_reason_and_erases_the_content(
    context: WebContext, worker: Worker, held: InboundMessage
) -> None:
    dpo = signed_in_as(context, "dpo")
    csrf = csrf_of(dpo.get(f"/mails/{held.id}").text)
    url = f"/mails/{held.id}/dismiss"
    dpo.post(url, data={"csrf": csrf, "why": " "}, follow_redirects=False)
    assert "Refused: a dismissal needs a reason" in dpo.get(f"/mails/{held.id}").text
    assert reread(context, held.id).disposition == "quarantined"

    done = dpo.post(url, data={"csrf": csrf, "why": "test mail"}, follow_redirects=False)
    assert done.headers["location"] == "/mails"
    mail = reread(context, held.id)
    assert mail.disposition == "dismissed" and mail.erased_at is not None
    assert mail.reason is not None and f"dismissed by {PEOPLE['dpo']}" in mail.reason
    assert "test mail" in mail.reason
    assert stored_raw(mail, worker.bot.sealer) == b""
    page = dpo.get(f"/mails/{held.id}").text
    assert "Its content was erased." in page and BODY not in page
    assert "Dismiss and erase" not in page  # nothing more to do with it
