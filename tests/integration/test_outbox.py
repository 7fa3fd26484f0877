"""The outbox against real SMTP servers: retries with backoff, gives up on final refusals,
and a resend carries the same Message-ID."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlmodel import Session as DatabaseSession
from sqlmodel import col, select

from mailbot.cases.audit import verify_chain
from mailbot.cases.models import CaseEvent, OutboundMessage, OutboundStatus
from mailbot.config import Settings
from mailbot.database import transaction
from mailbot.replies.outbox import retry_delay, send_due
from mailbot.reports import status_counts
from mailbot.runtime import open_worker
from mailbot.store.models import utcnow
from mailbot.worker import Worker
from tests.mailfactory import request_mail
from tests.servers.mailservers import start_smtp_sink


def _worker(
    tmp_path: Path, smtp_url: str, max_attempts: int = 8, with_mail: bool = True, **more: Any
) -> Worker:
    inbox = tmp_path / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    if with_mail:
        (inbox / "new" / "one").write_bytes(request_mail(language="fr"))
    settings = Settings(
        maildir=inbox,
        classifier="baseline",
        smtp_url=smtp_url,
        data_dir=tmp_path,
        send_max_attempts=max_attempts,
        database_url=f"sqlite:///{tmp_path / 'outbox.sqlite3'}",
        **more,
    )
    return open_worker(settings)


def _reply(worker: Worker) -> OutboundMessage:
    with transaction(worker.engine) as session:
        return session.exec(select(OutboundMessage)).one()


def test_temporary_failure_is_retried_later_with_the_same_message_id(tmp_path: Path) -> None:
    sink = start_smtp_sink(tmp_path / "sink", fail_first=1)  # 451 on the first DATA
    try:
        worker = _worker(tmp_path, sink.url)
        summary = asyncio.run(worker.run(once=True))
        assert summary.sent == 0
        row = _reply(worker)
        assert (row.status, row.attempts) == (OutboundStatus.QUEUED, 1)
        assert "451" in (row.last_error or "")
        assert row.next_attempt_at > utcnow() + timedelta(seconds=20)

        # Not due yet: nothing is sent.
        assert asyncio.run(send_due(worker.engine, worker.bot.settings)).sent == 0
        later = lambda: utcnow() + timedelta(minutes=5)  # noqa: E731
        assert asyncio.run(send_due(worker.engine, worker.bot.settings, now=later)).sent == 1
        row = _reply(worker)
        assert (row.status, row.attempts) == (OutboundStatus.SENT, 2)
        (captured,) = sink.wait_for(1)
        assert captured["Message-ID"] == row.message_id
    finally:
        sink.stop()


class _Refusing:
    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        return "550 5.1.1 mailbox unavailable"


def test_final_refusal_fails_the_reply_at_once(tmp_path: Path) -> None:
    async def scenario() -> Worker:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(_Refusing()), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            worker = _worker(tmp_path, f"smtp://127.0.0.1:{port}")
            summary = await worker.run(once=True)
            assert summary.send_failures == 1
            return worker
        finally:
            server.close()
            await server.wait_closed()

    worker = asyncio.run(scenario())
    row = _reply(worker)
    assert (row.status, row.attempts) == (OutboundStatus.FAILED, 1)
    assert "550" in (row.last_error or "")


def test_unreachable_server_is_no_verdict_on_the_reply(tmp_path: Path) -> None:
    # Issue 11, defect 3/7: before, two refused connections failed the reply for good.
    worker = _worker(tmp_path, "smtp://127.0.0.1:9", max_attempts=2)  # nothing listens on 9
    asyncio.run(worker.run(once=True))
    later = lambda: utcnow() + timedelta(hours=2)  # noqa: E731
    asyncio.run(send_due(worker.engine, worker.bot.settings, now=later))
    row = _reply(worker)
    assert (row.status, row.attempts) == (OutboundStatus.QUEUED, 0)
    # Refused at once, or (on a loaded machine) no answer within the connect timeout:
    # either way a fault of the server, recorded as such.
    error = row.last_error or ""
    assert "cannot connect" in error or "did not answer" in error, error


def test_wrong_password_keeps_replies_queued_pauses_sending_and_says_so(
    tmp_path: Path, caplog: Any
) -> None:
    """Issue 11, defect 3: a 535 failed every reply after one attempt, for good."""
    sink = start_smtp_sink(tmp_path / "sink", password="right")
    try:
        url = f"smtp://bot:wrong@{sink.host}:{sink.port}"
        worker = _worker(tmp_path, url, max_attempts=1)
        with caplog.at_level("ERROR", logger="mailbot.replies.outbox"):
            summary = asyncio.run(worker.run(once=True))
        assert (summary.sent, summary.send_failures) == (0, 0)
        row = _reply(worker)
        assert (row.status, row.attempts) == (OutboundStatus.QUEUED, 0)
        assert "535" in (row.last_error or "")
        sending = status_counts(worker.engine)["sending"]
        assert sending["state"] == "paused" and "535" in sending["reason"]
        assert sending["since"] and sending["until"]
        (line,) = [r for r in caplog.records if r.levelname == "ERROR"]
        assert "SENDING PAUSED" in line.getMessage() and "535" in line.getMessage()
        assert row.to_address not in line.getMessage()

        # The same worker does not hammer the server while paused.
        assert asyncio.run(
            send_due(worker.engine, worker.bot.settings, breaker=worker.breaker)
        ).paused

        # The password fixed, the restarted worker sends the reply and says so.
        url = f"smtp://bot:right@{sink.host}:{sink.port}"
        fixed = _worker(tmp_path, url, max_attempts=1, with_mail=False)
        assert asyncio.run(fixed.run(once=True)).sent == 1
        row = _reply(fixed)
        assert (row.status, row.attempts) == (OutboundStatus.SENT, 1)
        assert status_counts(fixed.engine)["sending"]["state"] == "sending"
        sink.wait_for(1)
    finally:
        sink.stop()


def test_silent_server_does_not_hold_up_reading_and_handling(tmp_path: Path) -> None:
    """Issue 11, defect 7: each reply waited 60 s, one after the other, and ingest and
    handling waited too."""
    sink = start_smtp_sink(tmp_path / "sink", silent=True)
    try:
        inbox = tmp_path / "inbox" / "new"
        inbox.mkdir(parents=True)
        for n in range(3):
            (inbox / f"first-{n}").write_bytes(
                request_mail(language="fr", sender=f"p{n}@example.org")
            )
        worker = _worker(tmp_path, sink.url, smtp_timeout_seconds=1, smtp_breaker_failures=1)
        started = time.monotonic()
        summary = asyncio.run(worker.run(once=True))
        assert time.monotonic() - started < 8  # one 1 s timeout, not 60 s per reply
        assert summary.handled == 4 and summary.sent == 0
        assert status_counts(worker.engine)["sending"]["state"] == "paused"

        # New mail is read and handled at once while the replies wait for the server.
        (inbox / "later").write_bytes(request_mail(language="fr", sender="late@example.org"))
        started = time.monotonic()
        summary = asyncio.run(worker.round())
        assert time.monotonic() - started < 1
        assert summary.handled == 1
        with transaction(worker.engine) as session:
            rows = session.exec(select(OutboundMessage)).all()
        assert len(rows) >= 5
        assert {(r.status, r.attempts) for r in rows} == {(OutboundStatus.QUEUED, 0)}
    finally:
        sink.stop()


def test_backoff_grows_and_is_capped() -> None:
    delays = [retry_delay(n) for n in range(1, 10)]
    assert delays[0] == timedelta(seconds=30)
    assert delays == sorted(delays)
    assert delays[-1] == timedelta(hours=1)


def _two_replies_queued(tmp_path: Path, smtp_url: str) -> Worker:
    """Two requests from two senders handled, their acknowledgements queued."""
    from mailbot.store.ingest import ingest

    inbox = tmp_path / "inbox" / "new"
    inbox.mkdir(parents=True)
    (inbox / "second").write_bytes(request_mail(language="nl", sender="b@b.example.org"))
    worker = _worker(tmp_path, smtp_url)
    ingest(worker.engine, worker.source, 10_000_000, worker.bot.sealer)
    assert worker.handle_pending() == (2, 0)
    return worker


def _as_the_first_goes_out(
    worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
    dpo_acts: Callable[[DatabaseSession, str], None],
) -> list[str]:
    """The DPO acts (in a transaction of their own) just as the round's first reply is
    composed, given its address; the addresses of the replies composed, in order."""
    from mailbot.replies import outbox

    real = outbox.compose
    composed: list[str] = []

    def composing(reply: Any) -> Any:
        if not composed:
            with transaction(worker.engine) as dpo:
                dpo_acts(dpo, reply.to)
        composed.append(reply.to)
        return real(reply)

    monkeypatch.setattr(outbox, "compose", composing)
    return composed


def test_a_reply_the_dpo_holds_during_a_round_is_not_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The round's list of due replies is read once; a reply taken out of the queue after
    that (held, rejected) must not go out with the rest, even in the chunk of replies
    read together."""

    sink = start_smtp_sink(tmp_path / "sink")
    try:
        worker = _two_replies_queued(tmp_path, sink.url)

        def the_dpo_holds_the_other(dpo: DatabaseSession, first: str) -> None:
            for other in dpo.exec(select(OutboundMessage)).all():
                if other.status == OutboundStatus.QUEUED and other.to_address != first:
                    other.status = OutboundStatus.AWAITING_APPROVAL
                    dpo.add(other)

        _as_the_first_goes_out(worker, monkeypatch, the_dpo_holds_the_other)
        summary = asyncio.run(send_due(worker.engine, worker.bot.settings))
        assert summary.sent == 1
        assert len(sink.wait_for(1)) == 1
        time.sleep(0.5)
        assert len(sink.messages()) == 1
        with transaction(worker.engine) as session:
            statuses = sorted(row.status for row in session.exec(select(OutboundMessage)))
        assert statuses == [OutboundStatus.AWAITING_APPROVAL, OutboundStatus.SENT]
    finally:
        sink.stop()


class _RefusingSome:
    """Refuses one recipient for good (550) and answers another with 530, which says
    the session needs authentication: a configuration failure that stops sending."""

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("carol@"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("erin@"):
            return "530 5.7.0 authentication required"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        return "250 accepted"


def test_a_chunk_records_what_the_server_took_before_sending_stopped(tmp_path: Path) -> None:
    """Replies are recorded as sent chunk by chunk: a refusal in the middle fails only
    that reply, and a failure that stops sending still leaves every reply the server
    took marked sent (not resent in the next round) and the ones after it queued."""
    names = ["alice", "bob", "carol", "dave", "erin", "frank"]
    worker = _worker(tmp_path, "smtp://127.0.0.1:9", with_mail=False)
    inbox = tmp_path / "inbox" / "new"
    for number, name in enumerate(names):
        sender = f"{name}@{name}.example.org"
        (inbox / f"{number}").write_bytes(request_mail(language="en", sender=sender))
    asyncio.run(worker.run(once=True))  # nothing listens on port 9: all stay queued

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(_RefusingSome()), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        settings = worker.bot.settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"})
        try:
            summary = await send_due(worker.engine, settings)
            assert summary.failed == 1
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())
    with transaction(worker.engine) as session:
        rows = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
        events = session.exec(select(CaseEvent).order_by(col(CaseEvent.id))).all()
    assert len(rows) == len(names)
    erin = next(row.id or 0 for row in rows if row.to_address.startswith("erin@"))
    for row in rows:
        name = row.to_address.split("@")[0]
        if name == "carol":
            expected = (OutboundStatus.FAILED, 1)
        elif name == "erin" or (row.id or 0) > erin:
            expected = (OutboundStatus.QUEUED, 0)  # the session failed: no reply's fault
        else:
            expected = (OutboundStatus.SENT, 1)
        assert (row.status, row.attempts) == expected, name
    sent = [row.message_id for row in rows if row.status == OutboundStatus.SENT]
    assert sent, "erin came first: the test proves nothing"
    recorded = [json.loads(e.data)["message_id"] for e in events if e.kind == "reply_sent"]
    assert recorded == sent
    assert verify_chain(events) is None


def test_in_a_backlog_the_first_requesters_are_answered_before_the_last_mail_is_handled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round hands over to sending after HANDLING_SECONDS (here: after one batch), so
    the first replies of a backlog go out while later mails still wait, and `run
    --once` still goes on until every mail is handled and answered."""
    from mailbot import worker as worker_module
    from mailbot.pending import BATCH
    from mailbot.store.models import InboundMessage

    monkeypatch.setattr(worker_module, "HANDLING_SECONDS", 0.0)
    sink = start_smtp_sink(tmp_path / "sink")
    try:
        worker = _worker(tmp_path, sink.url, with_mail=False)
        inbox = tmp_path / "inbox" / "new"
        count = BATCH + 4
        for n in range(count):
            raw = request_mail(language="fr", sender=f"r{n}@d{n}.example.org")
            (inbox / f"{n:03d}").write_bytes(raw)
        summary = asyncio.run(worker.run(once=True))
        assert (summary.handled, summary.sent) == (count, count)
        assert len(sink.wait_for(count)) == count
        with transaction(worker.engine) as session:
            sent_at = session.exec(select(OutboundMessage.sent_at)).all()
            handled_at = session.exec(select(InboundMessage.handled_at)).all()
        first_sent = min(at for at in sent_at if at is not None)
        last_handled = max(at for at in handled_at if at is not None)
        assert first_sent < last_handled
    finally:
        sink.stop()


def test_a_case_the_dpo_closes_while_its_chunk_goes_out_stays_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replies and their cases are read a chunk at a time; the case of each sent reply
    is read again before sending moves it on, so a case the DPO closed meanwhile is not
    reopened by its acknowledgement going out."""
    from mailbot.cases.lifecycle import close
    from mailbot.cases.models import Case, CaseOutcome, CaseStatus

    sink = start_smtp_sink(tmp_path / "sink")
    try:
        worker = _two_replies_queued(tmp_path, sink.url)

        def the_dpo_closes_the_other_case(dpo: DatabaseSession, first: str) -> None:
            for case in dpo.exec(select(Case)).all():
                if case.requester != first:
                    close(dpo, case, CaseOutcome.WITHDRAWN, "dpo@example.test", utcnow())

        composed = _as_the_first_goes_out(worker, monkeypatch, the_dpo_closes_the_other_case)
        assert asyncio.run(send_due(worker.engine, worker.bot.settings)).sent == 2
        with transaction(worker.engine) as session:
            cases = {case.requester: case for case in session.exec(select(Case)).all()}
            closed = cases[composed[1]]
            kinds = session.exec(
                select(CaseEvent.kind)
                .where(CaseEvent.case_id == closed.id)
                .order_by(col(CaseEvent.id))
            ).all()
        assert (closed.status, closed.outcome) == (CaseStatus.CLOSED, CaseOutcome.WITHDRAWN)
        assert closed.id_requested_at is None  # the letter left after the DPO closed it
        # Once closed, its sending is recorded and nothing else moves the case.
        assert kinds[kinds.index("case_closed") + 1 :] == ["reply_sent"]
        assert cases[composed[0]].status != CaseStatus.CLOSED
    finally:
        sink.stop()


def _one_reply_queued(tmp_path: Path, smtp_url: str) -> Worker:
    """One request handled, its acknowledgement queued."""
    from mailbot.store.ingest import ingest

    worker = _worker(tmp_path, smtp_url)
    ingest(worker.engine, worker.source, 10_000_000, worker.bot.sealer)
    assert worker.handle_pending() == (1, 0)
    return worker


def test_a_case_the_dpo_closes_as_its_reply_is_recorded_stays_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DPO closes the case after the outbox read it again, before the reply's sending
    is written. The write names the version it read, finds the case moved on, writes
    nothing, and records the reply again on the closed case: one reply out, and the
    closed case's clock not set going again by the acknowledgement's request for an ID."""
    from mailbot.cases.lifecycle import close
    from mailbot.cases.models import Case, CaseOutcome, CaseStatus
    from mailbot.replies import outbox

    sink = start_smtp_sink(tmp_path / "sink")
    try:
        worker = _one_reply_queued(tmp_path, sink.url)
        real = outbox._mark_sent
        recordings: list[str] = []

        def the_dpo_closes_it_meanwhile(
            session: DatabaseSession, row: OutboundMessage, case: Case, at: Any
        ) -> None:
            recordings.append(case.status)
            if len(recordings) == 1:
                with transaction(worker.engine) as dpo:
                    mine = dpo.get_one(Case, case.id)
                    close(dpo, mine, CaseOutcome.WITHDRAWN, "dpo@example.test", utcnow())
            real(session, row, case, at)

        monkeypatch.setattr(outbox, "_mark_sent", the_dpo_closes_it_meanwhile)
        assert asyncio.run(send_due(worker.engine, worker.bot.settings)).sent == 1
        # Read, then read again once the DPO had closed it.
        assert recordings == [CaseStatus.AWAITING_IDENTITY, CaseStatus.CLOSED]
        assert len(sink.wait_for(1)) == 1
        with transaction(worker.engine) as session:
            case = session.exec(select(Case)).one()
            reply = session.exec(select(OutboundMessage)).one()
            events = session.exec(select(CaseEvent).order_by(col(CaseEvent.id))).all()
        assert (case.status, case.outcome) == (CaseStatus.CLOSED, CaseOutcome.WITHDRAWN)
        assert case.id_requested_at is None and not case.clock_paused
        assert (reply.status, reply.attempts) == (OutboundStatus.SENT, 1)
        kinds = [event.kind for event in events]
        assert kinds[kinds.index("case_closed") :] == ["case_closed", "reply_sent"]
        assert verify_chain(events) is None
    finally:
        sink.stop()


def test_a_sent_reply_is_recorded_through_repeated_case_changes_and_not_sent_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server took the reply; then the case changes under each of the first
    attempts to record that. Each reads the case afresh and the recording goes on: a
    reply left queued would go out a second time in the next round."""
    from mailbot.cases.models import Case, CaseStatus
    from mailbot.replies import outbox

    sink = start_smtp_sink(tmp_path / "sink")
    try:
        worker = _one_reply_queued(tmp_path, sink.url)
        real = outbox._mark_sent
        tries: list[int] = []

        def recorded_as_a_person_moves_the_case_on(
            session: DatabaseSession, row: OutboundMessage, case: Case, at: Any
        ) -> None:
            tries.append(1)
            if len(tries) <= 5:
                with transaction(worker.engine) as person:
                    person.get_one(Case, case.id).extension_reason = f"note {len(tries)}"
            real(session, row, case, at)

        monkeypatch.setattr(outbox, "_mark_sent", recorded_as_a_person_moves_the_case_on)
        assert asyncio.run(send_due(worker.engine, worker.bot.settings)).sent == 1
        assert len(tries) == 6
        assert asyncio.run(send_due(worker.engine, worker.bot.settings)).sent == 0
        time.sleep(0.5)
        assert len(sink.messages()) == 1
        with transaction(worker.engine) as session:
            reply = session.exec(select(OutboundMessage)).one()
            case = session.exec(select(Case)).one()
        assert (reply.status, reply.attempts) == (OutboundStatus.SENT, 1)
        assert case.extension_reason == "note 5" and case.id_requested_at is not None
        assert case.status == CaseStatus.AWAITING_IDENTITY
    finally:
        sink.stop()
