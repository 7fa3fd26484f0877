"""The worker classifies new mail in batches (the encoder is several times faster on
many texts at once) and records a batch in one transaction: a batch that fails, in the
classifier or in the recording, falls back to one mail at a time, and only the mail that
fails alone is quarantined."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlmodel import col, select

from classifiers import Classification, load_classifier
from mailbot.database import transaction
from mailbot.mail.maildir import MaildirSource
from mailbot.pending import BATCH
from mailbot.store.ingest import ingest
from mailbot.store.models import Disposition, InboundMessage
from tests.maildir_worker import maildir_worker
from tests.mailfactory import auto_reply, request_mail


class Counting:
    """The baseline's readings, with a record of how the worker asked for them."""

    name = "counting"

    def __init__(self, batch_fails: bool = False, fails_on: str = "") -> None:
        self.inner = load_classifier("baseline")
        self.batches: list[int] = []
        self.alone = 0
        self.batch_fails = batch_fails
        self.fails_on = fails_on

    def classify(self, subject: str, body: str) -> Classification:
        self.alone += 1
        if self.fails_on and self.fails_on in subject:
            raise RuntimeError("the encoder choked")
        return self.inner.classify(subject, body)

    def classify_many(self, mails: Sequence[tuple[str, str]]) -> list[Classification]:
        self.batches.append(len(mails))
        if self.batch_fails:
            raise RuntimeError("the encoder choked")
        return [self.inner.classify(subject, body) for subject, body in mails]


def _store(tmp_path: Path, classifier: Counting, mails: list[bytes]) -> list[InboundMessage]:
    worker = maildir_worker(tmp_path, classifier)
    assert isinstance(worker.source, MaildirSource)
    for number, raw in enumerate(mails):
        (worker.source.path / "new" / f"{number:04d}").write_bytes(raw)
    ingest(worker.engine, worker.source, 10_000_000, worker.bot.sealer)
    worker.handle_pending()
    with transaction(worker.engine) as session:
        rows = session.exec(select(InboundMessage).order_by(col(InboundMessage.id))).all()
        session.expunge_all()
    return list(rows)


def _requests(count: int) -> list[bytes]:
    # Senders on their own domains: the per-domain reply cap is not what is tested here.
    return [
        request_mail(sender=f"r{n}@d{n}.example.org", language=("nl", "fr", "de", "en")[n % 4])
        for n in range(count)
    ]


def test_new_mails_are_classified_together_in_batches(tmp_path: Path) -> None:
    classifier = Counting()
    rows = _store(tmp_path, classifier, [*_requests(BATCH + 3), auto_reply()])
    # The auto-reply is never classified; the requests in two batches, none alone.
    assert classifier.batches == [BATCH, 3]
    assert classifier.alone == 0
    assert [row.disposition for row in rows].count(Disposition.CASE_OPENED) == BATCH + 3
    assert rows[-1].disposition == Disposition.AUTO_REPLY


def test_a_failing_batch_falls_back_to_one_mail_at_a_time(tmp_path: Path) -> None:
    classifier = Counting(batch_fails=True, fails_on="poison")
    mails = _requests(4)
    mails[1] = request_mail(sender="p@p.example.org", language="nl", subject="poison")
    rows = _store(tmp_path, classifier, mails)
    assert classifier.batches == [4]
    assert [row.disposition for row in rows] == [
        Disposition.CASE_OPENED,
        Disposition.QUARANTINED,
        Disposition.CASE_OPENED,
        Disposition.CASE_OPENED,
    ]
    assert rows[1].reason == "internal error: RuntimeError"


def test_a_stored_mail_that_cannot_be_opened_is_quarantined_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailbot import tries

    real = tries.stored_raw

    def broken_second(inbound: InboundMessage, sealer: object) -> bytes:
        if inbound.id == 2:
            raise ValueError("the sealed bytes do not open")
        return real(inbound, sealer)  # type: ignore[arg-type]

    monkeypatch.setattr(tries, "stored_raw", broken_second)
    rows = _store(tmp_path, Counting(), _requests(3))
    assert [row.disposition for row in rows] == [
        Disposition.CASE_OPENED,
        Disposition.QUARANTINED,
        Disposition.CASE_OPENED,
    ]
    assert rows[1].reason == "internal error: ValueError"


def test_the_worker_serves_its_own_metrics_with_classification_times(tmp_path: Path) -> None:
    import asyncio
    import socket
    import threading

    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    worker = maildir_worker(tmp_path, Counting(), worker_metrics_port=port, idle_seconds=1)
    assert isinstance(worker.source, MaildirSource)
    for number, raw in enumerate(_requests(3)):
        (worker.source.path / "new" / f"{number:04d}").write_bytes(raw)
    running = threading.Thread(target=lambda: asyncio.run(worker.run()), daemon=True)
    running.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
                samples = {
                    sample.name: sample.value
                    for family in text_string_to_metric_families(text)
                    for sample in family.samples
                    if not sample.labels or sample.labels.get("le") == "+Inf"
                }
                if samples.get("mailbot_classification_seconds_count") == 3:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "no classification times on /metrics"
            time.sleep(0.2)
        assert samples["mailbot_classification_seconds_sum"] > 0
        assert "mailbot_oldest_queued_reply_age_seconds" in samples  # the database's figures too
    finally:
        worker.stop.set()
        running.join(timeout=30)
    with pytest.raises(httpx.HTTPError):  # served only while the worker runs
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_a_worker_stops_leading_when_the_data_key_changed_under_it(tmp_path: Path) -> None:
    """A standby that waited through a `mailbot rekey` must not seal under the old key."""
    from mailbot.lease import Lease, LeaseLost
    from mailbot.rekey import rekey
    from mailbot.sealing import Sealer

    worker = maildir_worker(tmp_path, Counting())
    worker.lease = Lease(worker.engine)
    worker.lease.acquire()
    try:
        worker._still_leading()
        rekey(worker.engine, worker.bot.sealer, Sealer(os.urandom(32)))
        with pytest.raises(LeaseLost, match="data key"):
            worker._still_leading()
    finally:
        worker.lease.release()


def test_a_mail_handled_meanwhile_by_another_worker_is_left_alone(tmp_path: Path) -> None:
    from mailbot.pending import PendingMail
    from mailbot.pipeline import read_mail

    worker = maildir_worker(tmp_path, Counting())
    assert isinstance(worker.source, MaildirSource)
    raw = _requests(1)[0]
    (worker.source.path / "new" / "one").write_bytes(raw)
    ingest(worker.engine, worker.source, 10_000_000, worker.bot.sealer)
    reading = read_mail(raw, worker.bot.settings)
    with transaction(worker.engine) as session:  # the other worker's record, meanwhile
        session.exec(select(InboundMessage)).one().disposition = Disposition.CASE_OPENED
    pending = PendingMail(worker.engine, worker.bot)
    assert pending._record(1, reading) == Disposition.CASE_OPENED
    with transaction(worker.engine) as session:
        from mailbot.cases.models import Case

        assert session.exec(select(Case)).all() == []  # no second case


def test_a_mail_failing_to_be_recorded_undoes_no_other_mails_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import event
    from sqlmodel import Session

    from mailbot import pending
    from mailbot.cases.audit import verify_chain
    from mailbot.cases.models import Case, CaseEvent

    real = pending.handle

    def failing_third(session: Session, inbound: InboundMessage, *args: object) -> None:
        real(session, inbound, *args)  # type: ignore[arg-type]
        if inbound.id == 3:  # after its case and events were added: they must go too
            raise RuntimeError("a defect met by this mail only")

    commits: list[Session] = []

    def committed(session: Session) -> None:
        commits.append(session)

    def handled(directory: Path) -> tuple[list[InboundMessage], int]:
        commits.clear()
        event.listen(Session, "after_commit", committed)
        try:
            rows = _store(directory, Counting(), _requests(5))
        finally:
            event.remove(Session, "after_commit", committed)
        return rows, len(commits)

    (tmp_path / "fine").mkdir()
    _, together = handled(tmp_path / "fine")
    monkeypatch.setattr(pending, "handle", failing_third)
    rows, after_failure = handled(tmp_path)
    dispositions = [row.disposition for row in rows]
    assert (
        dispositions
        == [Disposition.CASE_OPENED] * 2 + [Disposition.QUARANTINED] + [Disposition.CASE_OPENED] * 2
    )
    assert rows[2].reason == "internal error: RuntimeError"
    engine = maildir_worker(tmp_path, Counting()).engine
    with transaction(engine) as session:
        cases = session.exec(select(Case)).all()
        events = session.exec(select(CaseEvent).order_by(col(CaseEvent.id))).all()
    assert len(cases) == 4  # none for the failing mail, none lost for the others
    assert verify_chain(events) is None
    # The five mails recorded in one commit when none fails, in five after a failure
    # (four cases and a quarantine); everything else the same.
    assert after_failure - together == 4


def test_in_a_batch_a_mail_handled_meanwhile_is_left_alone_and_the_others_recorded(
    tmp_path: Path,
) -> None:
    from mailbot.cases.models import Case
    from mailbot.pending import PendingMail
    from mailbot.pipeline import read_mail

    worker = maildir_worker(tmp_path, Counting())
    assert isinstance(worker.source, MaildirSource)
    raws = _requests(3)
    for number, raw in enumerate(raws):
        (worker.source.path / "new" / f"{number:04d}").write_bytes(raw)
    ingest(worker.engine, worker.source, 10_000_000, worker.bot.sealer)
    readings = {n + 1: read_mail(raw, worker.bot.settings) for n, raw in enumerate(raws)}
    with transaction(worker.engine) as session:  # the other worker's record, meanwhile
        session.get_one(InboundMessage, 2).disposition = Disposition.DUPLICATE
    outcomes = PendingMail(worker.engine, worker.bot)._record_all(readings)
    assert outcomes == {
        1: Disposition.CASE_OPENED,
        2: Disposition.DUPLICATE,
        3: Disposition.CASE_OPENED,
    }
    with transaction(worker.engine) as session:
        assert len(session.exec(select(Case)).all()) == 2  # none for the mail left alone


def test_a_worker_asked_to_stop_starts_no_new_batch(tmp_path: Path) -> None:
    """SIGTERM (systemd's stop) sets the worker's stop: the batches in flight are
    finished, the rest wait pending with no try counted, so a backlog does not hold the
    stop until systemd kills the worker (which would count tries against the mails)."""
    from mailbot.pending import PendingMail

    classifier = Counting()
    worker = maildir_worker(tmp_path, classifier)
    assert isinstance(worker.source, MaildirSource)
    for number, raw in enumerate(_requests(3 * BATCH)):
        (worker.source.path / "new" / f"{number:04d}").write_bytes(raw)
    ingest(worker.engine, worker.source, 10_000_000, worker.bot.sealer)
    pending = PendingMail(worker.engine, worker.bot, stopping=lambda: bool(classifier.batches))
    handled, _ = pending.handle_all()
    assert 0 < handled < 3 * BATCH
    with transaction(worker.engine) as session:
        rows = session.exec(select(InboundMessage)).all()
    waiting = [row for row in rows if row.disposition == Disposition.PENDING]
    assert len(waiting) == 3 * BATCH - handled
    assert {row.attempts for row in waiting} == {0}


def test_a_bystander_killed_with_its_batch_and_once_alone_is_still_answered(
    tmp_path: Path,
) -> None:
    """A try shared with a batch proves nothing against a mail: one more death while it
    was alone (an unrelated kill) leaves it a last try instead of quarantining it."""
    worker = maildir_worker(tmp_path, Counting())
    assert isinstance(worker.source, MaildirSource)
    (worker.source.path / "new" / "one").write_bytes(_requests(1)[0])
    ingest(worker.engine, worker.source, 10_000_000, worker.bot.sealer)
    with transaction(worker.engine) as session:
        session.exec(select(InboundMessage)).one().attempts = 2  # batch death, lone death
    worker.handle_pending()
    with transaction(worker.engine) as session:
        row = session.exec(select(InboundMessage)).one()
    assert (row.disposition, row.attempts) == (Disposition.CASE_OPENED, 3)
