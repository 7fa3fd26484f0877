"""A case a person moves on while the worker writes to it (mailbot.cases.models: every
write of a case names the version it read). The worker's write finds the case changed,
writes nothing, and decides again on what the case has become; before, the later write
won and undid the person's decision. A person's action on a case the worker moves on
meanwhile is refused instead, and says why. The outbox's side is in test_outbox.py,
the web app's in tests/unit/web/test_case_actions.py."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from mailbot import pipeline, schedule
from mailbot.cases.audit import verify_chain
from mailbot.cases.lifecycle import close
from mailbot.cases.models import Case, CaseEvent, CaseOutcome, CaseStatus, OutboundMessage
from mailbot.cli import app
from mailbot.database import transaction
from mailbot.store.models import Disposition, InboundMessage, utcnow
from mailbot.worker import Worker
from tests.idcards.render import render_sample
from tests.maildir_worker import deliver, maildir_worker, send_queued
from tests.mailfactory import request_mail

ANNA = "Anna Peeters <anna.peeters@example.org>"
DANA = "dpo@example.test"


def _cases(worker: Worker) -> list[Case]:
    with transaction(worker.engine) as session:
        return list(session.exec(select(Case).order_by(col(Case.id))).all())


def _the_dpo_closes(worker: Worker, case_id: int | None) -> None:
    """The DPO's own transaction: Anna withdrew her request by phone."""
    with transaction(worker.engine) as dpo:
        close(dpo, dpo.get_one(Case, case_id), CaseOutcome.WITHDRAWN, DANA, utcnow())


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_an_id_copy_recorded_as_the_dpo_closes_the_case_does_not_reopen_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anna's ID copy comes in her request's thread; the worker has found her case when
    the DPO closes it. Recorded on the case as read, the copy would move the closed case
    back to "in progress". Decided again, the case is closed, and a closed case is not
    reopened by a reply: the mail is a new request, with its own case and clock."""
    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail(sender=ANNA, language="nl"))
    send_queued(worker.engine)
    (case,) = _cases(worker)
    assert case.status == CaseStatus.AWAITING_IDENTITY
    real = pipeline._find_case
    found: list[int | None] = []

    def found_as_the_dpo_closes_it(session: Session, *args: Any) -> Case | None:
        answer = real(session, *args)
        found.append(answer.id if answer else None)
        if len(found) == 1:
            _the_dpo_closes(worker, case.id)
        return answer

    monkeypatch.setattr(pipeline, "_find_case", found_as_the_dpo_closes_it)
    card = render_sample(3, "eid_front", "clean", "jpeg", holder=("Peeters", "Anna")).data
    reply = request_mail(
        sender=ANNA,
        language="nl",
        subject=f"Re: [{case.reference}]",
        body="Hierbij mijn identiteitskaart.",
        attachments=[("kaart.jpg", "image/jpeg", card)],
    )
    deliver(worker, reply)

    assert found == [case.id, None]  # found, then found closed on the second try
    closed, opened = _cases(worker)
    assert (closed.status, closed.outcome) == (CaseStatus.CLOSED, CaseOutcome.WITHDRAWN)
    assert closed.id_received_at is None and closed.identity_verified is None
    assert opened.requester == "anna.peeters@example.org" and opened.status != CaseStatus.CLOSED
    with transaction(worker.engine) as session:
        mail = session.exec(select(InboundMessage).order_by(col(InboundMessage.id).desc())).first()
        assert mail is not None
        assert (mail.disposition, mail.case_id) == (Disposition.CASE_OPENED, opened.id)
        events = session.exec(select(CaseEvent).order_by(col(CaseEvent.id))).all()
    assert verify_chain(events) is None


def test_scheduled_work_on_a_case_the_dpo_moves_on_waits_for_the_next_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock's reminder is being drafted for Anna's case when the DPO closes it: the
    round writes nothing for it and goes on; the next round finds nothing due."""
    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail(sender=ANNA, language="fr"))
    send_queued(worker.engine)
    (case,) = _cases(worker)
    assert case.id_requested_at is not None
    real = schedule.due_work
    decided: list[list[str]] = []

    def due_as_the_dpo_closes_it(*args: Any) -> list[str]:
        work = real(*args)
        decided.append(work)
        if len(decided) == 1:
            _the_dpo_closes(worker, case.id)
        return work

    monkeypatch.setattr(schedule, "due_work", due_as_the_dpo_closes_it)
    later = case.id_requested_at + timedelta(days=8)
    schedule.run_scheduled_work(worker.engine, worker.bot, later)
    assert decided == [["id_reminder"]]
    schedule.run_scheduled_work(worker.engine, worker.bot, later)
    assert len(decided) == 1  # a closed case is not due anything

    (closed,) = _cases(worker)
    assert (closed.status, closed.outcome) == (CaseStatus.CLOSED, CaseOutcome.WITHDRAWN)
    with transaction(worker.engine) as session:
        kinds = session.exec(select(OutboundMessage.kind).order_by(col(OutboundMessage.id)))
        assert list(kinds) == ["acknowledgement"]  # no reminder for a closed case


def test_a_command_on_a_case_the_bot_moves_on_meanwhile_is_refused_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mailbot cases decide` while the case's acknowledgement goes out: refused, exit
    status 1, the reason printed, nothing of the decision written."""
    from mailbot.actions import cases as case_actions

    worker = maildir_worker(tmp_path)
    vague = "Hallo, ik heb een vraag over mijn account bij jullie."
    deliver(worker, request_mail(sender=ANNA, language="nl", subject="Vraag", body=vague))
    (case,) = _cases(worker)
    assert case.needs_triage and case.status == CaseStatus.NEW
    real = case_actions.find_case

    def found_as_the_acknowledgement_goes_out(session: Session, reference: str) -> Case:
        found = real(session, reference)
        send_queued(worker.engine)  # the worker's own transaction
        return found

    monkeypatch.setattr(case_actions, "find_case", found_as_the_acknowledgement_goes_out)
    env = {"MAILBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    command = ["cases", "decide", case.reference, "--rights", "access", "--as", "Dana DPO"]
    done = CliRunner().invoke(app, command, env=env)
    assert done.exit_code == 1, done.output
    assert "the case changed while you acted" in done.output
    (moved,) = _cases(worker)
    assert (moved.status, moved.needs_triage) == (CaseStatus.IN_PROGRESS, True)
    with transaction(worker.engine) as session:
        actors = session.exec(select(CaseEvent.actor).where(CaseEvent.case_id == case.id))
        assert "Dana DPO" not in list(actors)
