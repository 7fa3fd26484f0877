"""A mail that breaks a stage is quarantined with the exception's type, the others go on;
a database outage is not blamed on the mail; a mail that kills the worker twice, or
takes longer than its time, is quarantined and the mails behind it are answered."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from classifiers import Classification, load_classifier
from mailbot.actions.mails import retry_mail
from mailbot.config import Settings
from mailbot.database import transaction
from mailbot.handling.disposition import MailReading
from mailbot.mail.maildir import MaildirSource
from mailbot.pending import BATCH
from mailbot.pipeline import Bot, quarantine, read_mail
from mailbot.runtime import open_database
from mailbot.store.ingest import ingest
from mailbot.store.models import Disposition, InboundMessage
from mailbot.tries import MAX_ATTEMPTS, STOPPED_TWICE
from mailbot.worker import Worker
from tests.integration.botprocess import REPO
from tests.maildir_worker import deliver, maildir_worker
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


# A worker process whose classifier dies (as under the OOM killer) on the poison mail.
_DYING_WORKER = """
import os, sys
from pathlib import Path
from classifiers import load_classifier
from mailbot.store.ingest import ingest
from tests.maildir_worker import maildir_worker

class Dies:
    name = "dies"

    def __init__(self):
        self.inner = load_classifier("baseline")

    def classify(self, subject, body):
        if subject == "poison":
            os._exit(9)
        return self.inner.classify(subject, body)

class DiesInBatches(Dies):
    # Classifies batches in the encoder's thread, and dies there on the poison mail.

    def classify_many(self, mails):
        return [self.classify(subject, body) for subject, body in mails]

worker = maildir_worker(Path(sys.argv[1]), DiesInBatches() if sys.argv[2:] else Dies())
ingest(worker.engine, worker.source, 10_000_000, worker.bot.sealer)
worker.handle_pending()
"""


def _after_four_starts(tmp_path: Path, *how: str) -> list[InboundMessage]:
    """The stored mails once the dying worker was started four times: killed by the
    poison mail three times, then coming through."""
    starts = [
        subprocess.run(
            [sys.executable, "-c", _DYING_WORKER, str(tmp_path), *how],
            cwd=REPO,
            capture_output=True,
            timeout=120,
            check=False,
        )
        for _ in range(4)
    ]
    assert [start.returncode for start in starts] == [9, 9, 9, 0], starts[-1].stderr
    worker = maildir_worker(tmp_path)
    with transaction(worker.engine) as session:
        return list(session.exec(select(InboundMessage).order_by(col(InboundMessage.id))))


def test_a_mail_that_kills_the_worker_twice_alone_is_quarantined_on_the_fourth_start(
    tmp_path: Path,
) -> None:
    inbox = tmp_path / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True)
    (inbox / "new" / "1").write_bytes(request_mail(language="nl", subject="poison"))
    (inbox / "new" / "2").write_bytes(request_mail(language="fr"))
    (inbox / "new" / "3").write_bytes(request_mail(language="de"))
    rows = _after_four_starts(tmp_path)
    # The first start read all three as one batch and died in it: each carries that try.
    # From then on a tried mail goes alone, so only the poison one stops the worker again,
    # twice, and is not tried a fourth time.
    assert [(row.disposition, row.attempts) for row in rows] == [
        (Disposition.QUARANTINED, MAX_ATTEMPTS),
        (Disposition.CASE_OPENED, 2),
        (Disposition.CASE_OPENED, 2),
    ]
    assert rows[0].reason == STOPPED_TWICE


def test_with_two_batches_in_flight_only_the_mail_that_kills_the_worker_is_quarantined(
    tmp_path: Path,
) -> None:
    """A batch is read while the one before it is classified and recorded, and the
    encoder's thread dies on the poison mail while the main thread may still record the
    batch before: every mail in flight then carries a try. Tried mails go alone, with
    nothing else in flight: only the poison one uses its last try."""
    inbox = tmp_path / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True)
    subjects = [f"request {n}" for n in range(BATCH + 1)] + ["poison", "request last"]
    for n, subject in enumerate(subjects):
        mail = request_mail(language="fr", subject=subject, sender=f"r{n}@d{n}.example.org")
        (inbox / "new" / f"{n:03d}").write_bytes(mail)
    rows = _after_four_starts(tmp_path, "in-batches")
    poison = subjects.index("poison")
    assert (rows[poison].disposition, rows[poison].attempts) == (
        Disposition.QUARANTINED,
        MAX_ATTEMPTS,
    )
    others = rows[:poison] + rows[poison + 1 :]
    assert {row.disposition for row in others} == {Disposition.CASE_OPENED}
    assert max(row.attempts for row in others) < MAX_ATTEMPTS


def test_a_mail_read_past_its_time_is_quarantined_and_the_next_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = maildir_worker(tmp_path, mail_seconds=1)
    real_read_mail = read_mail

    def endless_for_poison(raw: bytes, settings: Settings) -> MailReading:
        while b"Subject: poison" in raw:  # a parser trap that never ends
            time.sleep(0.01)
        return real_read_mail(raw, settings)

    monkeypatch.setattr("mailbot.pending.read_mail", endless_for_poison)
    deliver(worker, request_mail(language="nl", subject="poison"))
    deliver(worker, request_mail(language="fr"))
    assert _dispositions(worker) == [
        (Disposition.QUARANTINED, "reading the mail took longer than 1 s"),
        (Disposition.CASE_OPENED, None),
    ]
    # The reading itself was stopped, not left running beside the worker.
    deadline = time.monotonic() + 10
    while any(t.name == "mailbot-deadline" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the reading thread still runs"
        time.sleep(0.05)


def test_a_retried_mail_gets_its_tries_again(tmp_path: Path) -> None:
    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail(language="nl"))
    with transaction(worker.engine) as session:
        inbound = session.exec(select(InboundMessage)).one()
        assert inbound.attempts == 1
        quarantine(session, inbound, "internal error: RuntimeError")
        inbound.attempts = MAX_ATTEMPTS
    with transaction(worker.engine) as session:
        retry_mail(session, inbound.id or 0, "Dana DPO")
    worker.handle_pending()
    assert _dispositions(worker) == [(Disposition.CASE_OPENED, None)]
