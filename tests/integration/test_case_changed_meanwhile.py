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


def _closed_once_found(
    worker: Worker, monkeypatch: pytest.MonkeyPatch, case_id: int | None
) -> list[int | None]:
    """The DPO closes the case just after the worker first finds the case a mail
    continues; the ids found at each try (None: no open case)."""
    real = pipeline._find_case
    found: list[int | None] = []

    def found_as_the_dpo_closes_it(session: Session, *args: Any) -> Case | None:
        answer = real(session, *args)
        found.append(answer.id if answer else None)
        if len(found) == 1:
            _the_dpo_closes(worker, case_id)
        return answer

    monkeypatch.setattr(pipeline, "_find_case", found_as_the_dpo_closes_it)
    return found


def _card_in_the_thread(case: Case, filename: str, data: bytes) -> bytes:
    return request_mail(
        sender=ANNA,
        language="nl",
        subject=f"Re: [{case.reference}]",
        body="Hierbij mijn identiteitskaart.",
        attachments=[(filename, "image/jpeg", data)],
    )


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
    found = _closed_once_found(worker, monkeypatch, case.id)
    card = render_sample(3, "eid_front", "clean", "jpeg", holder=("Peeters", "Anna")).data
    deliver(worker, _card_in_the_thread(case, "kaart.jpg", card))

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


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
def test_a_follow_up_recorded_as_the_dpo_closes_the_case_drafts_nothing_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anna sends the back of her card in the thread: the bot would ask for the front
    (a letter drafted, nothing written on the case row). Decided from the case as read
    before the DPO closed it, that letter would go out on a closed case; the recording
    writes the case too, so the conflict shows and the mail is decided again."""
    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail(sender=ANNA, language="nl"))
    send_queued(worker.engine)
    (case,) = _cases(worker)
    found = _closed_once_found(worker, monkeypatch, case.id)
    back = render_sample(4, "eid_back", "clean", "jpeg").data
    deliver(worker, _card_in_the_thread(case, "achterkant.jpg", back))

    assert found == [case.id, None]
    with transaction(worker.engine) as session:
        kinds = session.exec(select(OutboundMessage.kind).where(OutboundMessage.case_id == case.id))
        assert list(kinds) == ["acknowledgement"]  # no request for the front on a closed case


def test_a_failed_reply_requeued_as_its_case_closes_stays_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DPO re-queues the failed replies while the worker closes one's case: the
    re-queue was decided on the case read open, and would send a stale letter after the
    case was settled without it. Refused instead; the reply stays failed."""
    from mailbot.actions import CaseChanged, acting
    from mailbot.actions import outbox as outbox_actions
    from mailbot.cases.models import OutboundStatus

    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail(sender=ANNA, language="nl"))
    with transaction(worker.engine) as session:
        reply = session.exec(select(OutboundMessage)).one()
        reply.status = OutboundStatus.FAILED  # the server refused it; since put right
        case_id = reply.case_id
    real = outbox_actions._stays_failed

    def read_open_as_the_worker_closes_it(session: Session, reply: OutboundMessage) -> str | None:
        answer = real(session, reply)
        _the_dpo_closes(worker, case_id)  # (or the worker: its closing letter left)
        return answer

    monkeypatch.setattr(outbox_actions, "_stays_failed", read_open_as_the_worker_closes_it)
    with pytest.raises(CaseChanged), acting(worker.engine) as session:
        outbox_actions.requeue_failed(session, "Dana DPO", utcnow())
    with transaction(worker.engine) as session:
        assert session.get_one(Case, case_id).status == CaseStatus.CLOSED
        assert session.exec(select(OutboundMessage)).one().status == OutboundStatus.FAILED


def test_a_mail_whose_case_keeps_changing_stays_pending_for_the_next_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case changed under every one of the worker's tries to record a follow-up: not
    the mail's fault, so it is not quarantined. The round stops, the mail's try is
    given back, and the next round records it."""
    from sqlalchemy.orm.exc import StaleDataError

    from mailbot import pending

    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail(sender=ANNA, language="nl"))
    (case,) = _cases(worker)
    real = pipeline._find_case
    tries: list[int] = []

    def found_as_someone_moves_it_on(session: Session, *args: Any) -> Case | None:
        answer = real(session, *args)
        tries.append(1)
        with transaction(worker.engine) as dpo:
            dpo.get_one(Case, case.id).extension_reason = f"note {len(tries)}"
        return answer

    monkeypatch.setattr(pipeline, "_find_case", found_as_someone_moves_it_on)
    reminder = request_mail(
        sender=ANNA, language="nl", subject=f"Herinnering [{case.reference}]", body="En?"
    )
    with pytest.raises(StaleDataError):
        deliver(worker, reminder)
    assert len(tries) == pending.CASE_CHANGED_TRIES
    with transaction(worker.engine) as session:
        mail = session.exec(select(InboundMessage).order_by(col(InboundMessage.id).desc())).first()
        assert mail is not None
        assert (mail.disposition, mail.attempts) == (Disposition.PENDING, 0)

    monkeypatch.setattr(pipeline, "_find_case", real)
    worker.handle_pending()
    with transaction(worker.engine) as session:
        mail = session.get_one(InboundMessage, mail.id)
        assert (mail.disposition, mail.case_id) == (Disposition.FOLLOW_UP, case.id)


def test_mailbot_purge_as_the_worker_purges_finishes_and_says_what_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mailbot purge` while the worker's own scheduled purge takes the same old case:
    the command's write finds the case moved on, and purging again (it is safe to
    repeat) finds nothing left: a one-line answer, not a traceback."""
    from mailbot.cases import retention

    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail(sender=ANNA, language="nl"))
    with transaction(worker.engine) as session:
        case = session.exec(select(Case)).one()
        close(session, case, CaseOutcome.WITHDRAWN, DANA, utcnow())
        case.closed_at = utcnow() - timedelta(days=400)
    real = retention.purge_due
    worker_purged: list[str] = []

    def due_as_the_worker_purges(*args: Any) -> bool:
        monkeypatch.setattr(retention, "purge_due", real)
        with transaction(worker.engine) as session:  # the worker's scheduled purge
            worker_purged.extend(
                retention.purge_closed_cases(session, worker.bot.sealer, utcnow(), 365)
            )
        return real(*args)

    monkeypatch.setattr(retention, "purge_due", due_as_the_worker_purges)
    env = {"MAILBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    done = CliRunner().invoke(app, ["purge"], env=env)
    assert done.exit_code == 0, done.output
    assert worker_purged == [case.reference]
    assert "purged 0 case(s) closed more than" in done.output
    (purged,) = _cases(worker)
    assert purged.purged_at is not None


def test_the_worker_goes_on_after_a_round_stopped_by_a_case_that_kept_changing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mailbot run`: the round in which a case kept changing stops, and the next one
    records the mail; the mail source is kept and nothing is reported as unreachable."""
    import asyncio

    from mailbot import pending

    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail(sender=ANNA, language="nl"))
    (case,) = _cases(worker)
    real = pipeline._find_case
    tries: list[int] = []

    def found_as_someone_moves_it_on(session: Session, *args: Any) -> Case | None:
        answer = real(session, *args)
        tries.append(1)
        if len(tries) <= pending.CASE_CHANGED_TRIES:
            with transaction(worker.engine) as dpo:
                dpo.get_one(Case, case.id).extension_reason = f"note {len(tries)}"
        return answer

    monkeypatch.setattr(pipeline, "_find_case", found_as_someone_moves_it_on)
    source = worker.source
    reminder = request_mail(
        sender=ANNA, language="nl", subject=f"Herinnering [{case.reference}]", body="En?"
    )
    (source.path / "new" / "reminder").write_bytes(reminder)  # type: ignore[attr-defined]
    summary = asyncio.run(worker.run(once=True))
    assert summary.handled == 1 and summary.quarantined == 0
    assert len(tries) == pending.CASE_CHANGED_TRIES + 1
    with transaction(worker.engine) as session:
        mail = session.exec(select(InboundMessage).order_by(col(InboundMessage.id).desc())).first()
        assert mail is not None
        assert (mail.disposition, mail.case_id) == (Disposition.FOLLOW_UP, case.id)
