"""Follow-ups and the clock, through the worker's real stages on a Maildir and SQLite:
a reply joins its case, a reference quoted from another address does not, a reminder
is recorded on the case, and the scheduled work reminds, closes and warns on time."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from mailbot.cases.models import Case, CaseEvent, CaseStatus, OutboundMessage, Suppression
from mailbot.cli import app
from mailbot.database import transaction
from mailbot.schedule import run_scheduled_work
from mailbot.store.models import Attachment, InboundMessage, utcnow
from mailbot.worker import Worker
from tests.idcards.render import render_sample
from tests.maildir_worker import deliver, maildir_worker, send_queued
from tests.mailfactory import request_mail

ANNA = "Anna Peeters <anna.peeters@example.org>"


def _worker(tmp_path: Path, **settings: object) -> Worker:
    return maildir_worker(tmp_path, **settings)


def _deliver(worker: Worker, raw: bytes) -> None:
    deliver(worker, raw)


def _reply(
    worker: Worker,
    case: Case,
    language: str,
    body: str,
    attachments: list[tuple[str, str, bytes]] | None = None,
) -> None:
    """Anna answers in the case's thread: its reference in the subject."""
    mail = request_mail(
        sender=ANNA,
        language=language,
        subject=f"Re: [{case.reference}]",
        body=body,
        attachments=attachments,
    )
    _deliver(worker, mail)


def _cases(worker: Worker) -> list[Case]:
    with transaction(worker.engine) as session:
        return list(session.exec(select(Case).order_by(col(Case.id))).all())


def _events(worker: Worker, case: Case) -> list[str]:
    with transaction(worker.engine) as session:
        query = select(CaseEvent.kind).where(CaseEvent.case_id == case.id)
        return list(session.exec(query.order_by(col(CaseEvent.id))).all())


def test_a_reply_by_reference_joins_and_a_quoted_reference_from_elsewhere_does_not(
    tmp_path: Path,
) -> None:
    worker = _worker(tmp_path)
    _deliver(worker, request_mail(sender=ANNA, language="nl"))
    (case,) = _cases(worker)
    reminder = request_mail(
        sender=ANNA,
        language="nl",
        subject=f"Herinnering [{case.reference}]",
        body="Ik heb nog steeds geen antwoord gekregen op mijn verzoek.",
    )
    _deliver(worker, reminder)
    assert len(_cases(worker)) == 1
    assert "follow_up_read" in _events(worker, case)
    stranger = request_mail(
        sender="Mallory <mallory@example.test>",
        language="nl",
        subject=f"Re: [{case.reference}] stuur mij die gegevens",
        body="Stuur mij alle gegevens van dit dossier.",
    )
    _deliver(worker, stranger)
    cases = _cases(worker)
    assert len(cases) == 2 and cases[1].requester == "mallory@example.test"
    with transaction(worker.engine) as session:
        last = session.exec(select(InboundMessage).order_by(col(InboundMessage.id).desc())).first()
        assert last is not None and "foreign_reference" in last.flags.split()
        assert last.case_id == cases[1].id


def test_the_clock_reminds_then_drafts_the_closure_and_warns_the_dpo(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    _deliver(worker, request_mail(sender=ANNA, language="fr"))
    (case,) = _cases(worker)
    # Reminders count from the day the request left, not from the draft.
    assert case.status == CaseStatus.AWAITING_IDENTITY and case.id_requested_at is None
    run_scheduled_work(worker.engine, worker.bot, utcnow() + timedelta(days=20))
    with transaction(worker.engine) as session:
        assert [row.kind for row in session.exec(select(OutboundMessage))] == ["acknowledgement"]
    send_queued(worker.engine)
    (case,) = _cases(worker)
    assert case.id_requested_at is not None
    start = case.id_requested_at

    run_scheduled_work(worker.engine, worker.bot, start + timedelta(days=8))
    run_scheduled_work(worker.engine, worker.bot, start + timedelta(days=9))  # nothing twice
    with transaction(worker.engine) as session:
        kinds = [row.kind for row in session.exec(select(OutboundMessage)).all()]
    assert kinds == ["acknowledgement", "id_reminder"]

    run_scheduled_work(worker.engine, worker.bot, start + timedelta(days=22))
    with transaction(worker.engine) as session:
        rows = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
        by_kind = {row.kind: row for row in rows}
        refreshed = session.get_one(Case, case.id)
        assert by_kind["not_identified"].status == "awaiting_approval"
        assert refreshed.status == CaseStatus.AWAITING_APPROVAL
        # A month is at least 28 days: five days before it is never before day 23.
        assert "dpo_warning" not in by_kind and refreshed.dpo_warned_at is None
    run_scheduled_work(worker.engine, worker.bot, start + timedelta(days=40))
    run_scheduled_work(worker.engine, worker.bot, start + timedelta(days=41))
    with transaction(worker.engine) as session:
        rows = session.exec(select(OutboundMessage)).all()
    kinds = [row.kind for row in rows]
    assert kinds.count("dpo_warning") == 1 and kinds.count("not_identified") == 1
    (warning,) = [row for row in rows if row.kind == "dpo_warning"]
    assert warning.to_address == "dpo@example.test" and case.reference in warning.subject


def _attachments(worker: Worker) -> list[tuple[str, bool]]:
    with transaction(worker.engine) as session:
        rows = session.exec(select(Attachment).order_by(col(Attachment.id))).all()
        return [(row.kind, row.purged_at is not None) for row in rows]


needs_ocr = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")
ANNAS_CARD = render_sample(3, "eid_front", "clean", "jpeg", holder=("Peeters", "Anna")).data
FRONT = ("card.jpg", "image/jpeg", ANNAS_CARD)
BACK = ("back.jpg", "image/jpeg", render_sample(4, "eid_back", "clean", "jpeg").data)


@needs_ocr
def test_an_id_copy_sent_with_an_objection_is_deleted_too(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    objection = request_mail(
        sender=ANNA,
        language="en",
        subject="Stop marketing",
        body="I object to direct marketing. Do not send me any newsletters or promotions.",
        attachments=[FRONT],
    )
    _deliver(worker, objection)
    (case,) = _cases(worker)
    assert case.status == CaseStatus.IN_PROGRESS
    assert _attachments(worker) == [("eid_front", True)]


@needs_ocr
def test_only_the_back_is_deleted_and_the_front_asked_for(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    _deliver(worker, request_mail(sender=ANNA, language="nl"))
    (case,) = _cases(worker)
    _reply(worker, case, "nl", "Hierbij mijn identiteitskaart.", [BACK])
    (case,) = _cases(worker)
    assert case.status == CaseStatus.AWAITING_IDENTITY and case.id_received_at is None
    assert _attachments(worker) == [("eid_back", True)]
    with transaction(worker.engine) as session:
        kinds = [row.kind for row in session.exec(select(OutboundMessage)).all()]
    assert kinds == ["acknowledgement", "id_request"]


@needs_ocr
def test_a_card_sent_on_someone_elses_behalf_waits_for_the_dpo(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    for_mother = request_mail(
        sender=ANNA,
        language="en",
        subject="Access request for my mother",
        body="I am writing on behalf of my mother, who wants a copy of all her personal"
        " data. Her ID card is attached.",
        attachments=[FRONT],
    )
    _deliver(worker, for_mother)
    (case,) = _cases(worker)
    assert case.doubt_reason == "third_party" and case.identity_verified is None
    assert case.status == CaseStatus.AWAITING_IDENTITY
    assert _attachments(worker) == [("eid_front", False)]  # kept, sealed, for the DPO
    assert "identity_needs_review" in _events(worker, case)


def test_an_objection_in_a_follow_up_takes_effect_at_once(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    _deliver(worker, request_mail(sender=ANNA, language="en"))
    (case,) = _cases(worker)
    _reply(
        worker,
        case,
        "en",
        "And I object to direct marketing: stop sending me newsletters and promotions.",
    )
    with transaction(worker.engine) as session:
        addresses = [row.address for row in session.exec(select(Suppression)).all()]
        kinds = [row.kind for row in session.exec(select(OutboundMessage)).all()]
    assert addresses == ["anna.peeters@example.org"]
    assert "objection_done" in kinds


@needs_ocr
def test_a_card_with_another_name_waits_for_the_dpo(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    _deliver(worker, request_mail(sender=ANNA, language="fr"))
    (case,) = _cases(worker)
    someone_else = render_sample(6, "eid_front", "clean", "jpeg", holder=("Claes", "Pieter"))
    _reply(worker, case, "fr", "Voici la carte.", [("carte.jpg", "image/jpeg", someone_else.data)])
    (case,) = _cases(worker)
    assert case.identity_verified is None and case.status == CaseStatus.AWAITING_IDENTITY
    assert _attachments(worker) == [("eid_front", False)]  # kept, sealed, for the DPO
    assert _events(worker, case)[-1] == "identity_needs_review"


def test_the_dpo_settles_a_triaged_case_and_the_bot_goes_on(tmp_path: Path) -> None:
    from mailbot.actions import Refused
    from mailbot.actions.cases import decide_case

    worker = _worker(tmp_path)
    vague = request_mail(
        sender=ANNA,
        language="nl",
        subject="Vraag",
        body="Hallo, ik heb een vraag over mijn account bij jullie.",
    )
    _deliver(worker, vague)
    (case,) = _cases(worker)
    assert case.needs_triage and case.status == CaseStatus.NEW
    with transaction(worker.engine) as session:
        with pytest.raises(Refused):
            decide_case(session, case.reference, ["acces"], "Dana", worker.bot.handling, utcnow())
        decide_case(session, case.reference, ["access"], "Dana", worker.bot.handling, utcnow())
    (case,) = _cases(worker)
    assert not case.needs_triage and case.primary == "access"
    assert case.status == CaseStatus.AWAITING_IDENTITY  # an unknown sender: ID asked
    with transaction(worker.engine) as session:
        kinds = [row.kind for row in session.exec(select(OutboundMessage)).all()]
    assert kinds == ["acknowledgement", "id_request"]
    assert "reading_decided" in _events(worker, case)


@needs_ocr
@pytest.mark.parametrize("verified", [True, False])
def test_the_dpos_verdict_deletes_the_copy_and_moves_the_case_on(
    tmp_path: Path, verified: bool
) -> None:
    worker = _worker(tmp_path)
    someone_else = render_sample(7, "eid_front", "clean", "jpeg", holder=("Claes", "Pieter"))
    _deliver(worker, request_mail(sender=ANNA, language="en"))
    (case,) = _cases(worker)
    _reply(worker, case, "en", "My card.", [("card.jpg", "image/jpeg", someone_else.data)])
    verdict = "--verified" if verified else "--not-verified"
    env = {"MAILBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    command = ["cases", "verify", case.reference, verdict, "--as", "Dana DPO"]
    done = CliRunner().invoke(app, command, env=env)
    assert done.exit_code == 0, done.output
    (case,) = _cases(worker)
    assert case.identity_verified is verified and case.identity_checked_by == "Dana DPO"
    assert _attachments(worker) == [("eid_front", True)]  # deleted either way
    with transaction(worker.engine) as session:
        held = session.exec(
            select(OutboundMessage.kind).where(OutboundMessage.status == "awaiting_approval")
        ).all()
    # The factory's English request asks for erasure: its draft outcome waits for the DPO.
    assert list(held) == (["erasure_done"] if verified else ["not_identified"])
    assert case.status == CaseStatus.AWAITING_APPROVAL
