"""The outbox against real SMTP servers: retries with backoff, gives up on final refusals,
and a resend carries the same Message-ID."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlmodel import select

from mailbot.cases.models import OutboundMessage, OutboundStatus
from mailbot.config import Settings
from mailbot.database import transaction
from mailbot.replies.outbox import retry_delay, send_due
from mailbot.runtime import open_worker
from mailbot.store.models import utcnow
from mailbot.worker import Worker
from tests.mailfactory import request_mail
from tests.servers.mailservers import start_smtp_sink


def _worker(tmp_path: Path, smtp_url: str, max_attempts: int = 8) -> Worker:
    inbox = tmp_path / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    (inbox / "new" / "one").write_bytes(request_mail(language="fr"))
    settings = Settings(
        maildir=inbox,
        classifier="baseline",
        smtp_url=smtp_url,
        data_dir=tmp_path,
        send_max_attempts=max_attempts,
        database_url=f"sqlite:///{tmp_path / 'outbox.sqlite3'}",
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


def test_unreachable_server_counts_attempts_until_it_gives_up(tmp_path: Path) -> None:
    worker = _worker(tmp_path, "smtp://127.0.0.1:9", max_attempts=2)  # nothing listens on 9
    asyncio.run(worker.run(once=True))
    later = lambda: utcnow() + timedelta(hours=2)  # noqa: E731
    asyncio.run(send_due(worker.engine, worker.bot.settings, now=later))
    row = _reply(worker)
    assert (row.status, row.attempts) == (OutboundStatus.FAILED, 2)


def test_backoff_grows_and_is_capped() -> None:
    delays = [retry_delay(n) for n in range(1, 10)]
    assert delays[0] == timedelta(seconds=30)
    assert delays == sorted(delays)
    assert delays[-1] == timedelta(hours=1)
