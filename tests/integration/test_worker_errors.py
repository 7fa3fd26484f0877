"""A mail that breaks a stage is quarantined with the exception's type, the others go on;
a database outage is not blamed on the mail."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from classifiers import Classification, load_classifier
from mailbot.config import Settings
from mailbot.database import transaction
from mailbot.mail.maildir import MaildirSource
from mailbot.pipeline import Bot
from mailbot.runtime import open_database
from mailbot.store.ingest import ingest
from mailbot.store.models import Disposition, InboundMessage
from mailbot.worker import Worker
from tests.mailfactory import request_mail


class Fragile:
    """The real baseline, except that it fails on one subject the way a bug would."""

    name = "fragile"

    def __init__(self, failure: Exception) -> None:
        self.failure = failure
        self.inner = load_classifier("baseline")

    def classify(self, subject: str, body: str) -> Classification:
        if subject == "poison":
            raise self.failure
        return self.inner.classify(subject, body)


def _worker(tmp_path: Path, failure: Exception) -> Worker:
    inbox = tmp_path / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True)
    (inbox / "new" / "1").write_bytes(request_mail(language="nl", subject="poison"))
    (inbox / "new" / "2").write_bytes(request_mail(language="fr"))
    settings = Settings(
        maildir=inbox,
        smtp_url="smtp://127.0.0.1:9",
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    engine = open_database(settings)
    worker = Worker(
        engine, MaildirSource(inbox), Bot(settings, Fragile(failure), settings.sealer())
    )
    ingest(engine, worker.source, settings.max_message_bytes, settings.sealer())
    return worker


def _dispositions(worker: Worker) -> list[tuple[str, str | None]]:
    with transaction(worker.engine) as session:
        rows = session.exec(select(InboundMessage).order_by(InboundMessage.id)).all()
        return [(row.disposition, row.reason) for row in rows]


def test_a_bug_quarantines_only_that_mail(tmp_path: Path) -> None:
    worker = _worker(tmp_path, RuntimeError("secret text from the mail"))
    assert worker.handle_pending() == (2, 1)
    (first, second) = _dispositions(worker)
    assert first == (Disposition.QUARANTINED, "internal error: RuntimeError")
    assert second[0] == Disposition.CASE_OPENED


def test_a_database_outage_leaves_the_mail_pending(tmp_path: Path) -> None:
    worker = _worker(tmp_path, OperationalError("select 1", {}, Exception("server closed")))
    with pytest.raises(OperationalError):
        worker.handle_pending()
    assert _dispositions(worker)[0] == (Disposition.PENDING, None)
