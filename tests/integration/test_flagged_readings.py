"""A case a follow-up asked more of (flagged for the DPO's reading) after its first
rights were answered in part: the reading goes on from what was done already, never
twice, never dropping what the follow-up asked. Through the worker's real stages on a
Maildir and SQLite."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from mailbot.accounts import account_key
from mailbot.actions import Refused, acting
from mailbot.actions.cases import correct_reading, draft_extension, draft_refusal
from mailbot.actions.drafts import approve_draft, edit_draft, reject_draft
from mailbot.cases.models import CaseStatus, OutboundMessage, OutboundStatus
from mailbot.database import transaction
from mailbot.replies.catalogue import FILL_IN
from mailbot.replies.outbox import record_sent
from mailbot.schedule import run_scheduled_work
from mailbot.store.models import KnownAccount, utcnow
from mailbot.worker import Worker
from tests.integration.test_id_copies_kept import (
    ANNA,
    ANNAS_CARD,
    _asks_for_her_data_too,
    _card_in_the_thread,
    _case,
    _decide,
)
from tests.maildir_worker import deliver, maildir_worker, send_queued
from tests.mailfactory import request_mail


def _letters(worker: Worker) -> list[tuple[str, str]]:
    with transaction(worker.engine) as session:
        rows = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
        return [(row.kind, str(row.status)) for row in rows]


def _waiting(worker: Worker) -> list[str]:
    """The kinds of the letters waiting for the DPO's approval."""
    return [kind for kind, status in _letters(worker) if status == "awaiting_approval"]


def _objection_then_access(worker: Worker) -> None:
    """Anna objects to marketing, then asks in the thread for her data too."""
    objection = request_mail(
        sender=ANNA,
        language="en",
        subject="Stop marketing",
        body="I object to direct marketing. Do not send me any newsletters or promotions.",
    )
    deliver(worker, objection)
    _asks_for_her_data_too(worker)


def test_a_confirmation_does_not_close_a_case_a_follow_up_asked_more_of(tmp_path: Path) -> None:
    """Anna objects to marketing; before the confirmation leaves, she asks for her data
    too. The confirmation answers only the objection: the case stays open for the DPO's
    reading, instead of closing with the access request unanswered."""
    worker = maildir_worker(tmp_path)
    _objection_then_access(worker)
    send_queued(worker.engine)  # the objection's confirmation leaves
    case = _case(worker)
    assert case.status != CaseStatus.CLOSED and case.needs_triage
    _decide(worker, ["objection", "access"])
    assert _case(worker).status == CaseStatus.AWAITING_IDENTITY  # the access request goes on
    with transaction(worker.engine) as session:
        kinds = [row.kind for row in session.exec(select(OutboundMessage)).all()]
    assert kinds == ["objection_done", "id_request"]


def test_a_reading_of_objection_only_closes_the_case_its_confirmation_answered(
    tmp_path: Path,
) -> None:
    """The follow-up was misread: the DPO reads the case as the objection only. Its
    confirmation left already: the case closes without a second letter."""
    worker = maildir_worker(tmp_path)
    _objection_then_access(worker)
    send_queued(worker.engine)
    _decide(worker, ["objection"])
    send_queued(worker.engine)
    assert [kind for kind, _ in _letters(worker)].count("objection_done") == 1
    case = _case(worker)
    assert case.status == CaseStatus.CLOSED and case.outcome == "answered"


def test_closing_on_a_reading_retires_the_drafts_left_waiting(tmp_path: Path) -> None:
    # As when the closing letter is sent: a draft left waiting on a closed case could
    # never be approved, and would stay on the DPO's list.
    worker = maildir_worker(tmp_path)
    _objection_then_access(worker)
    send_queued(worker.engine)
    with acting(worker.engine) as session:
        reference = _case(worker).reference
        draft_extension(session, reference, "Six systems", "Dana", worker.bot.handling, utcnow())
    _decide(worker, ["objection"])
    assert _case(worker).status == CaseStatus.CLOSED
    assert ("extension_notice", "rejected") in _letters(worker)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_a_requester_verified_already_is_not_asked_for_an_id_again(tmp_path: Path) -> None:
    worker = maildir_worker(tmp_path)
    erasure = request_mail(  # an unknown address, with her own card: verified at once
        sender=ANNA, language="en", attachments=[("card.jpg", "image/jpeg", ANNAS_CARD)]
    )
    deliver(worker, erasure)
    case = _case(worker)
    assert case.identity_verified is True and case.status == CaseStatus.AWAITING_APPROVAL
    _asks_for_her_data_too(worker)
    with transaction(worker.engine) as session:
        query = select(OutboundMessage.id).where(
            OutboundMessage.status == OutboundStatus.AWAITING_APPROVAL
        )
        draft_id = session.exec(query).one()
    with acting(worker.engine) as session:  # the answer no longer fits: the DPO rejects it
        reject_draft(session, draft_id, "Dana", "the follow-up asks more", utcnow())
    _decide(worker, ["erasure", "access"])
    assert "id_request" not in [kind for kind, _ in _letters(worker)]
    assert _case(worker).status == CaseStatus.AWAITING_APPROVAL  # the answer, drafted again


def test_a_case_flagged_by_a_follow_up_is_not_confirmed_twice_for_its_objection(
    tmp_path: Path,
) -> None:
    """Read as both rights before the objection's confirmation left: it is not drafted
    a second time, and its sending no longer closes the case (the access request goes
    on)."""
    worker = maildir_worker(tmp_path)
    _objection_then_access(worker)
    _decide(worker, ["objection", "access"])
    send_queued(worker.engine)
    assert [kind for kind, _ in _letters(worker)] == ["objection_done", "id_request"]
    assert _case(worker).status == CaseStatus.AWAITING_IDENTITY


def _approve(worker: Worker, kind: str, send: bool = True) -> None:
    """The DPO completes the waiting letter of `kind`, approves it, and (`send`) it
    leaves with everything else queued."""
    with transaction(worker.engine) as session:
        query = (
            select(OutboundMessage.id)
            .where(OutboundMessage.status == OutboundStatus.AWAITING_APPROVAL)
            .where(OutboundMessage.kind == kind)
        )
        draft = session.exec(query).one()
    with acting(worker.engine) as session:
        body = session.get_one(OutboundMessage, draft).body
        edit_draft(session, draft, FILL_IN.sub("your account and quote requests", body), "Dana")
    with acting(worker.engine) as session:
        approve_draft(session, draft, "Dana", utcnow())
    if send:
        send_queued(worker.engine)


def _erasure_answer_waits_when_she_asks_more(worker: Worker) -> None:
    """Anna's erasure (her card verifies it) is answered in a draft; before the DPO
    approves it, she asks for her data too."""
    erasure = request_mail(
        sender=ANNA, language="en", attachments=[("card.jpg", "image/jpeg", ANNAS_CARD)]
    )
    deliver(worker, erasure)
    _asks_for_her_data_too(worker)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
@pytest.mark.parametrize("order", [["erasure", "access"], ["access", "erasure"]])
def test_an_answer_approved_before_the_reading_leaves_the_follow_ups_request_open(
    tmp_path: Path, order: list[str]
) -> None:
    """The DPO approves the erasure answer first: it leaves, but the case must not close
    with the access request unread; once read (in either order), the access request is
    answered, and not the erasure a second time."""
    worker = maildir_worker(tmp_path)
    _erasure_answer_waits_when_she_asks_more(worker)
    with pytest.raises(Refused, match="approve or reject them first"):
        _decide(worker, order)
    _approve(worker, "erasure_done")
    case = _case(worker)
    assert case.status == CaseStatus.IN_PROGRESS and case.needs_triage
    _decide(worker, order)
    case = _case(worker)
    assert case.status == CaseStatus.AWAITING_APPROVAL and not case.needs_triage
    waiting = _waiting(worker)
    assert waiting == ["access_answer"]
    assert "id_request" not in [kind for kind, _ in _letters(worker)]
    _approve(worker, "access_answer")
    case = _case(worker)
    assert case.status == CaseStatus.CLOSED and case.outcome == "answered"


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_a_follow_up_misread_closes_the_case_its_answer_answered(tmp_path: Path) -> None:
    worker = maildir_worker(tmp_path)
    _erasure_answer_waits_when_she_asks_more(worker)
    _approve(worker, "erasure_done")
    _decide(worker, ["erasure"])  # she asked nothing more after all
    assert [kind for kind, _ in _letters(worker)].count("erasure_done") == 1
    case = _case(worker)
    assert case.status == CaseStatus.CLOSED and case.outcome == "answered"


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_a_case_whose_last_approved_letter_left_is_in_progress_again(tmp_path: Path) -> None:
    """An extension waits beside the answer: once both have left, nothing is left to
    approve, so the case is back in progress and its reading can be decided."""
    worker = maildir_worker(tmp_path)
    _erasure_answer_waits_when_she_asks_more(worker)
    with acting(worker.engine) as session:
        reference = _case(worker).reference
        draft_extension(session, reference, "Many systems", "Dana", worker.bot.handling, utcnow())
    _approve(worker, "erasure_done")
    assert _case(worker).status == CaseStatus.AWAITING_APPROVAL  # the extension waits
    _approve(worker, "extension_notice")
    assert _case(worker).status == CaseStatus.IN_PROGRESS
    _decide(worker, ["erasure", "access"])
    assert _waiting(worker) == ["access_answer"]


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_an_approved_answer_not_yet_sent_keeps_the_reading_waiting(tmp_path: Path) -> None:
    """Her server defers the approved answer; meanwhile an automatic letter (the DPO's
    own warning) leaves. The case still awaits that answer: the reading waits for it,
    else it would draft the erasure answer again and the queued one would close the
    case with the access request unanswered."""
    worker = maildir_worker(tmp_path)
    _erasure_answer_waits_when_she_asks_more(worker)
    send_queued(worker.engine)
    _approve(worker, "erasure_done", send=False)
    run_scheduled_work(worker.engine, worker.bot, utcnow() + timedelta(days=29))
    with transaction(worker.engine) as session:
        warning = session.exec(
            select(OutboundMessage).where(OutboundMessage.kind == "dpo_warning")
        ).one()
    record_sent(worker.engine, warning, utcnow())
    assert _case(worker).status == CaseStatus.AWAITING_APPROVAL
    with pytest.raises(Refused, match="approve or reject them first"):
        _decide(worker, ["erasure", "access"])
    send_queued(worker.engine)
    assert _case(worker).status == CaseStatus.IN_PROGRESS
    _decide(worker, ["erasure", "access"])
    waiting = _waiting(worker)
    assert waiting == ["access_answer"]


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_an_id_asked_after_the_reading_leads_to_the_unanswered_rights_only(
    tmp_path: Path,
) -> None:
    """A known address: her erasure is answered without an ID while she asks for her
    data too. The account is gone by the reading, so an ID is asked for; her card
    then leads to the access answer, not to the erasure answer a second time."""
    worker = maildir_worker(tmp_path)
    with transaction(worker.engine) as session:
        session.add(KnownAccount(address=account_key("anna.peeters@example.org")))
    deliver(worker, request_mail(sender=ANNA, language="en"))
    send_queued(worker.engine)
    _asks_for_her_data_too(worker)
    _approve(worker, "erasure_done")
    assert _case(worker).answered_rights == "erasure"
    with transaction(worker.engine) as session:  # her account was erased meanwhile
        for account in session.exec(select(KnownAccount)).all():
            session.delete(account)
    _decide(worker, ["erasure", "access"])
    assert _case(worker).status == CaseStatus.AWAITING_IDENTITY
    send_queued(worker.engine)
    _card_in_the_thread(worker, ANNAS_CARD, "Here is my card.")
    waiting = _waiting(worker)
    assert "access_answer" in waiting and "erasure_done" not in waiting
    _approve(worker, "access_answer")
    assert _case(worker).status == CaseStatus.CLOSED


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_a_confirmation_completes_a_case_whose_other_rights_were_answered(
    tmp_path: Path,
) -> None:
    # Read as erasure (answered already) and an objection: the objection's confirmation
    # is the last letter the case owes, and its sending closes it.
    worker = maildir_worker(tmp_path)
    _erasure_answer_waits_when_she_asks_more(worker)
    _approve(worker, "erasure_done")
    _decide(worker, ["erasure", "objection"])
    assert _case(worker).status == CaseStatus.IN_PROGRESS
    send_queued(worker.engine)
    case = _case(worker)
    assert case.status == CaseStatus.CLOSED and case.outcome == "answered"


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_a_refusal_approved_before_the_follow_up_leaves_its_request_open(
    tmp_path: Path,
) -> None:
    """The DPO refuses her erasure; before the refusal leaves she asks for her data too.
    The refusal settles the erasure only: the access request waits for the reading."""
    worker = maildir_worker(tmp_path)
    _erasure_answer_waits_when_she_asks_more(worker)
    with transaction(worker.engine) as session:
        answer = session.exec(
            select(OutboundMessage).where(OutboundMessage.kind == "erasure_done")
        ).one()
    with acting(worker.engine) as session:
        reject_draft(session, answer.id or 0, "Dana", "we must keep her invoices", utcnow())
    with acting(worker.engine) as session:
        reference = _case(worker).reference
        reasons = "Invoices are kept for seven years (tax law)."
        draft_refusal(session, reference, reasons, False, "Dana", worker.bot.handling, utcnow())
    _approve(worker, "refusal")
    case = _case(worker)
    assert case.status == CaseStatus.IN_PROGRESS and case.needs_triage and case.outcome is None
    _decide(worker, ["erasure", "access"])
    waiting = _waiting(worker)
    assert waiting == ["access_answer"]


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_a_reading_corrected_to_what_was_answered_closes_the_case(tmp_path: Path) -> None:
    # Read as erasure and access after the erasure answer left; the DPO then finds the
    # access request misread. Nothing is left to answer: rejecting the access draft
    # would otherwise leave the case in progress for ever.
    worker = maildir_worker(tmp_path)
    _erasure_answer_waits_when_she_asks_more(worker)
    _approve(worker, "erasure_done")
    _decide(worker, ["erasure", "access"])
    with acting(worker.engine) as session:
        reference = _case(worker).reference
        correct_reading(session, reference, ["erasure"], "Dana", worker.bot.handling, utcnow())
    case = _case(worker)
    assert case.status == CaseStatus.CLOSED and case.outcome == "answered"
    assert ("access_answer", "rejected") in _letters(worker)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_rejecting_a_draft_while_an_approved_answer_is_queued_keeps_the_case_awaiting(
    tmp_path: Path,
) -> None:
    worker = maildir_worker(tmp_path)
    _erasure_answer_waits_when_she_asks_more(worker)
    with acting(worker.engine) as session:
        reference = _case(worker).reference
        draft_extension(session, reference, "Many systems", "Dana", worker.bot.handling, utcnow())
    _approve(worker, "erasure_done", send=False)
    with transaction(worker.engine) as session:
        notice = session.exec(
            select(OutboundMessage).where(OutboundMessage.kind == "extension_notice")
        ).one()
    with acting(worker.engine) as session:
        reject_draft(session, notice.id or 0, "Dana", "not needed after all", utcnow())
    assert _case(worker).status == CaseStatus.AWAITING_APPROVAL  # the answer is on its way
    with pytest.raises(Refused, match="approve or reject them first"):
        _decide(worker, ["erasure", "access"])
    send_queued(worker.engine)
    assert _case(worker).status == CaseStatus.IN_PROGRESS


def test_a_refusal_of_a_request_never_read_closes_it(tmp_path: Path) -> None:
    """The classifier was unsure of her first mail and the DPO refuses it outright,
    without deciding a reading: the refusal settles the whole request."""
    worker = maildir_worker(tmp_path)
    vague = "Hallo, ik heb een vraag over mijn account bij jullie."
    deliver(worker, request_mail(sender=ANNA, language="nl", subject="Vraag", body=vague))
    assert _case(worker).needs_triage
    send_queued(worker.engine)
    with acting(worker.engine) as session:
        reference = _case(worker).reference
        reasons = "Manifestly excessive: the tenth identical request this month."
        draft_refusal(session, reference, reasons, False, "Dana", worker.bot.handling, utcnow())
    _approve(worker, "refusal")
    case = _case(worker)
    assert case.status == CaseStatus.CLOSED and case.outcome == "refused"
