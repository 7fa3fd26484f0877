"""What the DPO does with a quarantined mail, through the worker's real stages on a
Maildir and SQLite and the `mailbot mails` commands: read it, hand it back to the bot,
or dismiss it (its ID copy goes at once); and retention of mails that never became a
case."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from classifiers import Classification, Classifier
from mailbot.cases.models import Case
from mailbot.cases.retention import purge_caseless_mails
from mailbot.cli import app
from mailbot.database import transaction
from mailbot.mail.maildir import MaildirSource
from mailbot.store.ingest import ingest
from mailbot.store.models import Attachment, InboundMessage, utcnow
from mailbot.store.sealed import stored_raw
from mailbot.worker import Worker
from tests.idcards.render import render_sample
from tests.maildir_worker import deliver, maildir_worker
from tests.mailfactory import bounce, request_mail

ANNA = "Anna Peeters <anna.peeters@example.org>"


class FallsOver:
    """A classifier with a bug: every mail it reads stops with an internal error."""

    name = "falls-over"

    def classify(self, subject: str, body: str) -> Classification:
        raise RuntimeError("index out of range")


def _worker(tmp_path: Path, classifier: Classifier | None = None) -> Worker:
    return maildir_worker(tmp_path, classifier)


def _deliver(worker: Worker, raw: bytes) -> None:
    deliver(worker, raw)


def _mails(worker: Worker) -> list[InboundMessage]:
    with transaction(worker.engine) as session:
        return list(session.exec(select(InboundMessage).order_by(col(InboundMessage.id))).all())


def _mailbot(tmp_path: Path, *command: str) -> tuple[int, str]:
    env = {"MAILBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    done = CliRunner().invoke(app, list(command), env=env)
    return done.exit_code, done.output


def _request_with_card(tmp_path: Path) -> Worker:
    """Anna's erasure request with her card front, stopped by the buggy classifier."""
    worker = _worker(tmp_path, FallsOver())
    card = render_sample(3, "eid_front", "clean", "jpeg", holder=("Peeters", "Anna"))
    mail = request_mail(
        sender=ANNA,
        language="nl",
        body="Verwijder al mijn gegevens, mijn identiteitskaart zit erbij.",
        attachments=[("kaart.jpg", "image/jpeg", card.data)],
    )
    _deliver(worker, mail)
    return worker


def test_a_quarantined_mail_is_kept_whole_and_readable(tmp_path: Path) -> None:
    worker = _request_with_card(tmp_path)
    (mail,) = _mails(worker)
    assert (mail.disposition, mail.reason) == ("quarantined", "internal error: RuntimeError")
    assert b"kaart.jpg" in stored_raw(mail, worker.bot.sealer)  # nothing lost

    code, output = _mailbot(tmp_path, "mails", "show", str(mail.id))
    assert code == 0, output
    assert "anna.peeters@example.org" in output
    assert "Verwijder al mijn gegevens" in output
    assert "kaart.jpg (image/jpeg" in output


def test_retry_hands_the_mail_back_once_the_cause_is_fixed(tmp_path: Path) -> None:
    worker = _request_with_card(tmp_path)
    (mail,) = _mails(worker)
    code, output = _mailbot(tmp_path, "mails", "retry", str(mail.id), "--as", "Dana DPO")
    assert code == 0, output

    fixed = _worker(tmp_path)  # the bug fixed: the usual classifier again
    fixed.handle_pending()
    (mail,) = _mails(fixed)
    assert mail.disposition == "case_opened" and mail.case_id is not None
    assert not mail.marked_in_source  # so the folder's "quarantined" flag is replaced
    with transaction(fixed.engine) as session:
        case = session.get_one(Case, mail.case_id)
        kinds = session.exec(select(Attachment.kind, Attachment.purged_at)).all()
    assert case.primary == "erasure" and case.id_document == "eid_front"
    # Its check done, the ID copy is cut out of the stored mail as for any other.
    assert [(kind, purged is not None) for kind, purged in kinds] == [("eid_front", True)]


def test_dismissing_erases_the_content_and_the_id_copy_at_once(tmp_path: Path) -> None:
    worker = _request_with_card(tmp_path)
    (mail,) = _mails(worker)
    code, output = _mailbot(
        tmp_path, "mails", "dismiss", str(mail.id), "--as", "Dana DPO", "--reason", "test mail"
    )
    assert code == 0, output

    (mail,) = _mails(worker)
    assert mail.disposition == "dismissed" and mail.erased_at is not None
    assert mail.reason is not None and "dismissed by Dana DPO" in mail.reason
    assert "internal error" in mail.reason  # why it was held stays readable
    assert stored_raw(mail, worker.bot.sealer) == b"" and mail.sender is None
    with transaction(worker.engine) as session:
        names = session.exec(select(Attachment.filename)).all()
    assert all(name is None for name in names)
    # The mailbox folder's copy goes too.
    worker.remove_from_source()
    assert not [p for p in (tmp_path / "inbox").rglob("*") if p.is_file()]
    code, output = _mailbot(tmp_path, "mails", "show", str(mail.id))
    assert code == 0 and "content     erased" in output


@pytest.mark.parametrize("command", ["retry", "dismiss"])
def test_only_a_quarantined_mail_can_be_retried_or_dismissed(tmp_path: Path, command: str) -> None:
    worker = _worker(tmp_path)
    _deliver(worker, request_mail(sender=ANNA, language="en"))
    (mail,) = _mails(worker)
    assert mail.disposition == "case_opened"
    extra = ["--reason", "oops"] if command == "dismiss" else []
    code, output = _mailbot(tmp_path, "mails", command, str(mail.id), "--as", "Dana DPO", *extra)
    assert code == 1
    assert "is case_opened, not quarantined" in output
    (after,) = _mails(worker)
    assert after.disposition == "case_opened" and after.erased_at is None


def test_an_unknown_mail_number_is_a_clear_error(tmp_path: Path) -> None:
    _worker(tmp_path)
    code, output = _mailbot(tmp_path, "mails", "show", "999")
    assert code == 1 and "no stored mail numbered 999" in output


def test_mails_without_a_case_are_erased_after_the_retention_period(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    _deliver(worker, bounce())
    stuck = _request_with_card(tmp_path / "other")  # a quarantined mail, another database
    (returned,) = _mails(worker)
    assert returned.disposition == "bounce"
    days = worker.bot.settings.retention_days

    for engine, sealer in ((worker.engine, worker.bot.sealer), (stuck.engine, stuck.bot.sealer)):
        with transaction(engine) as session:
            assert purge_caseless_mails(session, sealer, utcnow() + timedelta(days=1), days) == 0
        with transaction(engine) as session:
            later = utcnow() + timedelta(days=days + 1)
            purge_caseless_mails(session, sealer, later, days)

    (returned,) = _mails(worker)
    assert returned.erased_at is not None and stored_raw(returned, worker.bot.sealer) == b""
    # A quarantined mail waits for the DPO, however old.
    (held,) = _mails(stuck)
    assert held.erased_at is None and b"kaart.jpg" in stored_raw(held, stuck.bot.sealer)


def test_a_mail_stored_without_its_content_cannot_be_retried(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    source = worker.source
    assert isinstance(source, MaildirSource)
    big = request_mail(sender=ANNA, language="nl", body="Verwijder mijn gegevens. " * 400)
    (source.path / "new" / "big").write_bytes(big)
    ingest(worker.engine, source, 2_000, worker.bot.sealer)  # over the size limit
    worker.handle_pending()
    (mail,) = _mails(worker)
    assert mail.disposition == "quarantined" and "only its headers" in (mail.reason or "")

    code, output = _mailbot(tmp_path, "mails", "retry", str(mail.id), "--as", "Dana DPO")
    assert code == 1 and "stored without its content" in output
    (after,) = _mails(worker)
    assert after.disposition == "quarantined"  # not opened as a case from headers alone


def test_show_keeps_the_terminal_safe_and_the_id_copy_unprinted(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    card = render_sample(3, "eid_front", "clean", "png", holder=("Peeters", "Anna"))
    parts = [("kaart.png", "image/png", card.data)] + [
        (f"p{n}.png", "image/png", card.data[:200]) for n in range(120)
    ]
    mail = request_mail(
        sender=ANNA,
        language="nl",
        subject="Gegevens \x1b]0;pwned\x07 wissen",
        body="Verwijder mijn gegevens.",
        attachments=parts,
    )
    _deliver(worker, mail)  # too many parts: our parser refuses it
    (held,) = _mails(worker)
    assert held.disposition == "quarantined"
    code, output = _mailbot(tmp_path, "mails", "show", str(held.id))
    assert code == 0, output
    assert "\x1b" not in output and "\x07" not in output
    assert "anna.peeters@example.org" in output  # read from the headers
    assert "Verwijder mijn gegevens." in output
    assert "[encoded attachment data]" in output
    assert "iVBORw0KGgo" not in output  # the PNG's base64 never reaches the screen


def test_a_mail_reusing_a_dismissed_mails_message_id_is_handled_on_its_own(
    tmp_path: Path,
) -> None:
    worker = _request_with_card(tmp_path)
    (first,) = _mails(worker)
    assert first.id is not None
    _mailbot(tmp_path, "mails", "dismiss", str(first.id), "--as", "Dana DPO", "--reason", "spam")
    # Same Message-ID, another text: the dismissed mail's content is erased, so nothing
    # shows this is the same mail, and a request is never dismissed unread (issue 11).
    fixed = _worker(tmp_path)
    card = render_sample(3, "eid_front", "clean", "jpeg", holder=("Peeters", "Anna"))
    with transaction(fixed.engine) as session:
        message_id = session.get_one(InboundMessage, first.id).message_id
    copy = request_mail(
        sender=ANNA,
        language="nl",
        body="Verwijder al mijn gegevens (nogmaals).",
        message_id=message_id,
        attachments=[("kaart.jpg", "image/jpeg", card.data)],
    )
    _deliver(fixed, copy)
    _, second = _mails(fixed)
    assert second.disposition == "case_opened" and second.erased_at is None
    with transaction(fixed.engine) as session:
        (case,) = session.exec(select(Case)).all()
    assert case.requester == "anna.peeters@example.org"
