"""The worker's write transactions stay short: the seconds of OCR an ID copy takes run
before the mail's transaction, so a DPO's command can write to the database meanwhile
(SQLite has one writer at a time)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlmodel import select

from classifiers import load_classifier
from mailbot.cases.models import Case
from mailbot.config import Settings
from mailbot.database import transaction
from mailbot.mail.maildir import MaildirSource
from mailbot.pipeline import Bot
from mailbot.runtime import open_database
from mailbot.store.ingest import ingest
from mailbot.store.models import Attachment
from mailbot.triage import id_check
from mailbot.triage.id_evidence import IdCheck
from mailbot.worker import Worker
from tests.idcards.render import render_sample
from tests.mailfactory import request_mail


def test_the_id_check_runs_while_others_can_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True)
    card = render_sample(5, "eid_front", "clean", "png", holder=("Peeters", "Anna"))
    (inbox / "new" / "1").write_bytes(
        request_mail(
            sender="Anna Peeters <anna.peeters@example.org>",
            language="nl",
            body="Graag een kopie van mijn gegevens. Mijn identiteitskaart zit erbij.",
            attachments=[("kaart.png", "image/png", card.data)],
        )
    )
    database = tmp_path / "db.sqlite3"
    settings = Settings(
        maildir=inbox,
        smtp_url="smtp://127.0.0.1:9",
        data_dir=tmp_path,
        database_url=f"sqlite:///{database}",
    )
    engine = open_database(settings)
    worker = Worker(
        engine,
        MaildirSource(inbox),
        Bot(settings, load_classifier("baseline"), settings.sealer()),
    )
    ingest(engine, worker.source, settings.max_message_bytes, settings.sealer())

    real_check = id_check.check_attachment
    writes_during_check = []

    def check_while_someone_writes(data: bytes, sniffed_type: str, holder: str = "") -> IdCheck:
        # What a DPO's `drafts approve` does meanwhile: take the write lock, briefly.
        other = sqlite3.connect(database, timeout=0.2)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("CREATE TABLE IF NOT EXISTS dpo_was_here (x INTEGER)")
            other.commit()
            writes_during_check.append("written")
        except sqlite3.OperationalError as exc:  # "database is locked"
            writes_during_check.append(str(exc))
        finally:
            other.close()
        return real_check(data, sniffed_type, holder)

    monkeypatch.setattr(id_check, "check_attachment", check_while_someone_writes)
    worker.handle_pending()

    assert writes_during_check == ["written"]
    with transaction(engine) as session:
        (case,) = session.exec(select(Case)).all()
        kinds = session.exec(select(Attachment.kind)).all()
    assert case.id_document == "eid_front" and list(kinds) == ["eid_front"]
