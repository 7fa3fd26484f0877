"""The outbox (/outbox): only for the DPO; failed and queued replies without personal
data, whether sending is paused, and failed replies re-queued (all or one) under the
DPO's name, CSRF-checked (issue 11, defect 3)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from mailbot.cases.models import Case, CaseStatus, OutboundMessage, OutboundStatus, SendingState
from mailbot.database import transaction
from mailbot.store.models import utcnow
from mailbot.web.context import WebContext
from mailbot.worker import Worker
from tests.mailfactory import request_mail
from tests.unit.web.conftest import (
    delivered,
    events_of,
    refused_to_others,
    signed_in_as,
    token_of,
)

ADDRESS = "anna.peeters@example.org"


def _failed_reply(worker: Worker) -> OutboundMessage:
    case = delivered(worker, request_mail(sender=f"Anna Peeters <{ADDRESS}>", language="nl"))
    with transaction(worker.engine) as session:
        reply = session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.case_id == case.id)
            .order_by(col(OutboundMessage.id))
        ).first()
        assert reply is not None
        reply.status, reply.attempts = OutboundStatus.FAILED, 8
        reply.last_error = "recipient refused ([550])"
        session.add(reply)
    return reply


def _reread(context: WebContext, reply_id: int | None) -> OutboundMessage:
    with Session(context.engine) as session:
        return session.get_one(OutboundMessage, reply_id)


def test_only_the_dpo_sees_the_outbox(context: WebContext, worker: Worker) -> None:
    reply = _failed_reply(worker)
    page = signed_in_as(context, "dpo").get("/outbox").text
    assert "recipient refused ([550])" in page and reply.kind in page
    assert 'href="/outbox"' in page  # in the DPO's menu
    assert ADDRESS not in page and reply.subject not in page
    refused_to_others(context, "GET", "/outbox", secret="recipient refused")
    refused_to_others(context, "POST", "/outbox/requeue")
    refused_to_others(context, "POST", f"/outbox/{reply.id}/requeue")
    assert _reread(context, reply.id).status == OutboundStatus.FAILED


def test_requeue_refuses_a_missing_or_foreign_csrf_token(
    context: WebContext, worker: Worker
) -> None:
    reply = _failed_reply(worker)
    dpo = signed_in_as(context, "dpo")
    other = token_of(signed_in_as(context, "dpo"), context)
    for form in ({}, {"csrf": other}):
        assert dpo.post("/outbox/requeue", data=form).status_code == 403
        assert dpo.post(f"/outbox/{reply.id}/requeue", data=form).status_code == 403
    assert _reread(context, reply.id).status == OutboundStatus.FAILED


def test_requeue_one_puts_it_back_under_the_dpo_name(context: WebContext, worker: Worker) -> None:
    reply = _failed_reply(worker)
    dpo = signed_in_as(context, "dpo")
    token = token_of(dpo, context)
    answer = dpo.post(f"/outbox/{reply.id}/requeue", data={"csrf": token})
    assert answer.status_code == 200 and "queued again" in answer.text
    again = _reread(context, reply.id)
    assert (again.status, again.attempts) == (OutboundStatus.QUEUED, 0)
    (event,) = events_of(context, reply.case_id, "reply_requeued")
    assert event.actor == "Dana DPO"
    # Queued now, not failed: a second request is refused with a reason.
    answer = dpo.post(f"/outbox/{reply.id}/requeue", data={"csrf": token})
    assert "Refused" in answer.text and "only a failed reply" in answer.text
    assert dpo.post("/outbox/999/requeue", data={"csrf": token}).status_code == 404


def test_requeue_all_and_the_paused_banner(context: WebContext, worker: Worker) -> None:
    first, second = _failed_reply(worker), _failed_reply(worker)
    with transaction(context.engine) as session:
        since = utcnow()
        session.add(
            SendingState(
                id=1,
                state="paused",
                reason="authentication refused (535)",
                since=since,
                until=since + timedelta(minutes=1),
                failures=1,
            )
        )
    dpo = signed_in_as(context, "dpo")
    page = dpo.get("/outbox").text
    assert "Sending is paused" in page and "authentication refused (535)" in page
    answer = dpo.post("/outbox/requeue", data={"csrf": token_of(dpo, context)})
    assert "2 failed repl(ies) queued again" in answer.text
    assert {_reread(context, r.id).status for r in (first, second)} == {OutboundStatus.QUEUED}


def test_a_reply_that_stays_failed_says_why_instead_of_offering_a_re_queue(
    context: WebContext, worker: Worker
) -> None:
    # Its case closed meanwhile: the button would only be refused when pressed.
    kept, other = _failed_reply(worker), _failed_reply(worker)
    with transaction(context.engine) as session:
        case = session.get_one(Case, kept.case_id)
        case.status = CaseStatus.CLOSED
        session.add(case)
    page = signed_in_as(context, "dpo").get("/outbox").text
    rows = {row.split("</td>", 1)[0]: row for row in page.split("<tr><td>")[1:]}
    assert "stays failed: its case is closed" in rows[str(kept.id)]
    assert f'action="/outbox/{kept.id}/requeue"' not in page
    assert f'action="/outbox/{other.id}/requeue"' in page
    assert "Re-queue all 1 failed" in page
