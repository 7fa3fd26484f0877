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

from mailbot.accounts import account_key
from mailbot.cases.models import Case, CaseEvent, CaseStatus, OutboundMessage, Suppression
from mailbot.cli import app
from mailbot.database import transaction
from mailbot.schedule import run_scheduled_work
from mailbot.store.models import Attachment, InboundMessage, KnownAccount, utcnow
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


# A duplicate is the same mail, not the same header (issue 11, defect 2)


def _dispositions(worker: Worker) -> list[str]:
    with transaction(worker.engine) as session:
        rows = session.exec(select(InboundMessage).order_by(col(InboundMessage.id))).all()
        return [row.disposition for row in rows]


def _acknowledged(worker: Worker) -> list[str]:
    with transaction(worker.engine) as session:
        rows = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
        return [row.to_address for row in rows if row.kind == "acknowledgement"]


def test_three_senders_sharing_one_message_id_each_get_a_case(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    senders = [f"Person {n} <person{n}@example.org>" for n in (1, 2, 3)]
    for sender in senders:
        _deliver(worker, request_mail(sender=sender, language="nl", message_id="<1@localhost>"))
    assert _dispositions(worker) == ["case_opened"] * 3
    assert sorted(case.requester for case in _cases(worker)) == [
        f"person{n}@example.org" for n in (1, 2, 3)
    ]
    assert _acknowledged(worker) == [f"person{n}@example.org" for n in (1, 2, 3)]


def test_the_same_mail_delivered_twice_is_answered_once(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    raw = request_mail(sender=ANNA, language="nl", message_id="<cc-twice@example.org>")
    _deliver(worker, raw)
    _deliver(worker, b"Delivered-To: privacy@jaimy.be\r\nReceived: by mx2\r\n" + raw)
    assert _dispositions(worker) == ["case_opened", "duplicate"]
    assert len(_cases(worker)) == 1 and _acknowledged(worker) == ["anna.peeters@example.org"]


def test_the_same_sender_reusing_a_message_id_for_another_text_is_not_a_copy(
    tmp_path: Path,
) -> None:
    worker = _worker(tmp_path)
    _deliver(worker, request_mail(sender=ANNA, language="nl", message_id="<1@localhost>"))
    other = request_mail(
        sender=ANNA,
        language="fr",
        message_id="<1@localhost>",
        body="Bonjour,\n\nJe m'oppose au marketing direct.\n\nMerci",
    )
    _deliver(worker, other)
    assert _dispositions(worker)[1] != "duplicate"


# The bot is no relay for a forged sender (issue 11, defect 4)

PHISHING = "your Jaimy account is locked, unlock at https://jaimy-unlock.example.net/login"


def test_a_phishing_display_name_and_subject_are_not_repeated(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    forged = request_mail(
        sender=f'"{PHISHING}" <victim@example.org>',
        language="en",
        subject=PHISHING,
    )
    _deliver(worker, forged)
    with transaction(worker.engine) as session:
        (ack,) = session.exec(select(OutboundMessage)).all()
    assert ack.kind == "acknowledgement"
    assert "https" not in ack.subject and "locked" not in ack.subject
    assert "https" not in ack.body and "locked" not in ack.body
    assert ack.body.startswith("Dear Sir or Madam,")


def test_replies_per_sending_domain_are_capped_free_mail_higher(tmp_path: Path) -> None:
    worker = _worker(tmp_path, replies_per_domain=2, replies_per_free_mail_domain=3)
    for n in range(3):
        _deliver(worker, request_mail(sender=f"p{n}@victim.example", language="nl"))
        _deliver(worker, request_mail(sender=f"p{n}@gmail.com", language="nl"))
    with transaction(worker.engine) as session:
        rows = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
        statuses = {row.to_address: row.status for row in rows}
    assert [statuses[f"p{n}@victim.example"] for n in range(3)] == [
        "queued",
        "queued",
        "awaiting_approval",  # held for the DPO, not lost
    ]
    assert [statuses[f"p{n}@gmail.com"] for n in range(3)] == ["queued"] * 3


# Failed sender authentication is a doubt the DPO sees (issue 11, defect 8)


def test_a_known_address_failing_dmarc_is_asked_for_an_id_and_cases_show_says_why(
    tmp_path: Path,
) -> None:
    worker = _worker(tmp_path)
    with transaction(worker.engine) as session:
        session.add(KnownAccount(address=account_key("anna.peeters@example.org")))
    results = "mx.jaimy.be; spf=pass smtp.mailfrom=example.org; dkim=none; dmarc=fail"
    forged = request_mail(
        sender=ANNA, language="nl", extra_headers={"Authentication-Results": results}
    )
    _deliver(worker, forged)
    (case,) = _cases(worker)
    assert case.status == CaseStatus.AWAITING_IDENTITY
    assert case.doubt_reason == "sender_not_authenticated"
    with transaction(worker.engine) as session:
        (ack,) = session.exec(select(OutboundMessage)).all()
    assert "Onze mailserver kon niet bevestigen" in " ".join(ack.body.split())
    env = {"MAILBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    shown = CliRunner().invoke(app, ["cases", "show", case.reference], env=env)
    assert shown.exit_code == 0, shown.output
    assert "sender_not_authenticated" in shown.output
    assert "sender_auth_failed dmarc" in shown.output


def test_drafts_show_never_writes_an_escape_sequence(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    _deliver(worker, request_mail(sender=ANNA, language="nl"))
    with transaction(worker.engine) as session:
        (draft,) = session.exec(select(OutboundMessage)).all()
        draft.subject = "Inzage \x1b]52;c;cm0gLXJmIH4=\x07 nu"
        draft.body = "Beste,\n\x1b[2J\x1b]0;pwned\x07[[ vul in ]]\n"
        draft.status = "awaiting_approval"
        session.add(draft)
        draft_id = draft.id
    env = {"MAILBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    shown = CliRunner().invoke(app, ["drafts", "show", str(draft_id)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "\x1b" not in shown.output and "\x07" not in shown.output
    assert "Inzage" in shown.output and "Beste," in shown.output


def test_a_display_name_with_a_fill_in_or_an_escape_never_reaches_a_letter(
    tmp_path: Path,
) -> None:
    worker = _worker(tmp_path)
    raw = request_mail(sender="Anna Peeters <anna.peeters@example.org>", language="en")
    hostile = b"=?utf-8?q?Anna_=5B=5B_the_retention_period_=5D=5D_=1B]0;pwned=07_Peeters?="
    raw = raw.replace(b"From: Anna Peeters", b"From: " + hostile, 1)
    _deliver(worker, raw)
    (case,) = _cases(worker)
    assert "[[" in case.requester_name  # kept as written, for the DPO's eyes only
    assert "\x1b" not in case.requester_name and "\x07" not in case.requester_name
    with transaction(worker.engine) as session:
        replies = session.exec(select(OutboundMessage)).all()
    assert replies
    for reply in replies:
        assert "retention period" not in reply.body and "pwned" not in reply.body
        assert not any(ord(c) < 32 and c != "\n" for c in reply.subject + reply.body)
        assert reply.body.startswith("Dear Sir or Madam,")
