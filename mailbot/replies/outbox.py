"""The outbox: sends queued replies, retries with backoff, records what was sent.

At-least-once: a row is marked sent only after the SMTP server accepted the message,
in its own transaction. A crash between the two resends the same bytes with the same
Message-ID, the one duplicate the design allows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import col, select

from mailbot.cases.audit import append_event
from mailbot.cases.models import Case, OutboundMessage, OutboundStatus
from mailbot.config import Settings
from mailbot.database import transaction
from mailbot.mail.compose import Reply, compose
from mailbot.mail.smtp import SendFailure, SmtpSession
from mailbot.replies.outcomes import after_sent
from mailbot.store.models import utcnow

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour: quick when the blip is short."""
    delay: timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(delay, LONGEST_RETRY)


@dataclass(frozen=True, slots=True)
class SendSummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def reply_of(row: OutboundMessage, case: Case, settings: Settings) -> Reply:
    return Reply(
        sender=settings.sender,
        sender_name=settings.sender_name,
        to=row.to_address,
        subject=row.subject,
        body=row.body,
        language=row.language,
        message_id=row.message_id,
        date=row.created_at,
        case_reference=case.reference,
        in_reply_to=row.in_reply_to,
        references=tuple(row.references.split()),
    )


def next_retry_at(engine: Engine) -> datetime | None:
    """When the earliest queued reply becomes due, so the worker can wake up for it."""
    with transaction(engine) as session:
        return session.exec(
            select(OutboundMessage.next_attempt_at)
            .where(OutboundMessage.status == OutboundStatus.QUEUED)
            .order_by(col(OutboundMessage.next_attempt_at))
            .limit(1)
        ).first()


async def send_due(
    engine: Engine, settings: Settings, now: Callable[[], datetime] = utcnow
) -> SendSummary:
    endpoint = settings.smtp
    if endpoint is None:
        raise ValueError("MAILBOT_SMTP_URL is not set")
    with transaction(engine) as session:
        due = session.exec(
            select(OutboundMessage.id)
            .where(OutboundMessage.status == OutboundStatus.QUEUED)
            .where(OutboundMessage.next_attempt_at <= now())
            .order_by(col(OutboundMessage.id))
        ).all()
    sent = retrying = failed = 0
    smtp = SmtpSession(endpoint, settings.sender, settings.tls_ca_file)
    try:
        for row_id in due:
            assert row_id is not None
            with transaction(engine) as session:
                row = session.get_one(OutboundMessage, row_id)
                case = session.get_one(Case, row.case_id)
                message = compose(reply_of(row, case, settings))
            try:
                await smtp.send(message)
            except SendFailure as failure:
                gave_up = _record_failure(
                    engine, row_id, failure, settings.send_max_attempts, now()
                )
                failed += gave_up
                retrying += not gave_up
                continue
            _record_sent(engine, row_id, now())
            sent += 1
    finally:
        await smtp.close()
    return SendSummary(sent=sent, retrying=retrying, failed=failed)


def _record_sent(engine: Engine, row_id: int, at: datetime) -> None:
    with transaction(engine) as session:
        row = session.get_one(OutboundMessage, row_id)
        case = session.get_one(Case, row.case_id)
        row.status = OutboundStatus.SENT
        row.sent_at = at
        row.attempts += 1
        session.add(row)
        append_event(
            session,
            row.case_id,
            "reply_sent",
            "bot",
            {
                "kind": row.kind,
                "template": row.template,
                "language": row.language,
                "message_id": row.message_id,
                "approved_by": row.approved_by or "automatic",
            },
        )
        after_sent(session, case, row, at)
    log.info("sent %s for case %s", row.kind, case.reference)


def _record_failure(
    engine: Engine, row_id: int, failure: SendFailure, max_attempts: int, at: datetime
) -> bool:
    """Returns True when the bot gives up on this reply."""
    with transaction(engine) as session:
        row = session.get_one(OutboundMessage, row_id)
        row.attempts += 1
        row.last_error = failure.reason[:1000]
        gave_up = failure.permanent or row.attempts >= max_attempts
        if gave_up:
            row.status = OutboundStatus.FAILED
            append_event(
                session,
                row.case_id,
                "reply_failed",
                "bot",
                {"kind": row.kind, "attempts": row.attempts, "error": row.last_error},
            )
        else:
            row.next_attempt_at = at + retry_delay(row.attempts)
        session.add(row)
    log.warning("sending reply %s failed (attempt %s): %s", row_id, row.attempts, failure.reason)
    return gave_up
