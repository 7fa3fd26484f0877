"""A worker on a Maildir and SQLite in a test's directory, with the real stages: for tests
that drive the bot mail by mail without mail servers."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from classifiers import Classifier, load_classifier
from mailbot.cases.models import OutboundMessage, OutboundStatus
from mailbot.config import Settings
from mailbot.mail.maildir import MaildirSource
from mailbot.pipeline import Bot
from mailbot.replies.outbox import record_sent
from mailbot.runtime import open_database
from mailbot.store.ingest import ingest
from mailbot.store.models import utcnow
from mailbot.worker import Worker


def maildir_worker(
    tmp_path: Path, classifier: Classifier | None = None, **settings: object
) -> Worker:
    """`settings`: any Settings field to change (id_policy, smtp_url, ...)."""
    inbox = tmp_path / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    defaults: dict[str, object] = {
        "maildir": inbox,
        "smtp_url": "smtp://127.0.0.1:9",  # nothing listens: replies stay queued
        "data_dir": tmp_path,
        "database_url": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "dpo_address": "dpo@example.test",
    }
    config = Settings(**{**defaults, **settings})  # type: ignore[arg-type]
    bot = Bot(config, classifier or load_classifier("baseline"), config.sealer())
    return Worker(open_database(config), MaildirSource(inbox), bot)


def deliver(worker: Worker, raw: bytes) -> None:
    """Drop a mail into the Maildir, store it and run it through the pipeline."""
    source = worker.source
    assert isinstance(source, MaildirSource)
    # A fresh name each time: a count of the files would repeat after a removal.
    (source.path / "new" / f"mail-{uuid.uuid4().hex}").write_bytes(raw)
    ingest(worker.engine, source, 10_000_000, worker.bot.sealer)
    worker.handle_pending()


def send_queued(engine: Engine) -> None:
    """As if the SMTP server took every queued reply (nothing listens in these tests),
    with what sending means for each case (replies.outcomes.after_sent)."""
    with Session(engine, expire_on_commit=False) as session:
        queued = session.exec(
            select(OutboundMessage).where(OutboundMessage.status == OutboundStatus.QUEUED)
        ).all()
        session.expunge_all()
    for reply in queued:
        record_sent(engine, reply, utcnow())
