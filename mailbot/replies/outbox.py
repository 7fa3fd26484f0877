"""The outbox: sends queued replies, retries with backoff, records what was sent.

At-least-once: a row is marked sent only after the SMTP server accepted the message,
in its own transaction. A crash between the two resends the same bytes with the same
Message-ID, the one duplicate the design allows. Replies go in chunks through one
session: the ones still queued are read with their cases in one query, then each
reply's status is read again just before it goes out (the DPO may have held it) and
its case once it went (the DPO may have closed it).

Only a failure that concerns the message counts an attempt against it. A refused
password or sender, or a server that cannot be reached or says nothing, stops the batch
and leaves every reply queued; the `Breaker` then holds sending back: at once for a
configuration failure, after `smtp_breaker_failures` connection failures in a row
otherwise, for a pause that doubles from a minute to half an hour. The breaker lives in
the worker's memory (a restart, after fixing the configuration, tries again at once);
what it decided is written to the `sending_state` row for `mailbot status` and the web
app. A round's batch also stops after `send_budget_seconds`, so sending never holds up
reading and handling mail for long.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from mailbot.cases.audit import append_event
from mailbot.cases.models import Case, OutboundMessage, OutboundStatus, SendingState
from mailbot.config import Settings
from mailbot.database import transaction
from mailbot.mail.compose import Reply, compose
from mailbot.mail.smtp import FailureScope, SendFailure, SmtpSession
from mailbot.replies.outcomes import after_sent
from mailbot.store.models import utcnow

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# Between connection failures below the breaker's threshold: enough not to spin.
HOLD = timedelta(seconds=5)
# Replies read together (with their cases) before they are sent; each one's status is
# read again just before it goes out, and its case once it went.
SEND_CHUNK = 16
# A reply the server took is recorded against many more conflicts than a decision is
# retried (CASE_CHANGED_TRIES): each try reads the case afresh, so only another commit
# in those few milliseconds fails it again, and giving up means sending it twice.
SENT_RECORDING_TRIES = 50
FIRST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(minutes=30)


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour: quick when the blip is short."""
    delay: timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(delay, LONGEST_RETRY)


def pause_length(pauses: int) -> timedelta:
    """1 min, 2 min, 4 min, ... capped at 30 min: the `pauses`-th pause in a row."""
    pause: timedelta = FIRST_PAUSE * 2 ** max(pauses - 1, 0)
    return min(pause, LONGEST_PAUSE)


@dataclass
class Breaker:
    """The circuit breaker over the SMTP server (module docstring), kept in memory."""

    threshold: int = 3
    failures: int = 0  # connection or configuration failures in a row
    pauses: int = 0  # pauses in a row: each is twice as long as the one before
    reason: str | None = None
    since: datetime | None = None  # the first failure of the current run
    until: datetime | None = None  # no attempt before
    # Whether the `sending_state` row says what this breaker knows; not at start, when
    # the row may still hold a pause from before a restart.
    stored: bool = False

    @property
    def paused(self) -> bool:
        return self.pauses > 0

    def allows(self, now: datetime) -> bool:
        return self.until is None or now >= self.until

    def failed(self, failure: SendFailure, now: datetime) -> bool:
        """Count a failure that is no reply's; True when sending pauses now."""
        self.failures += 1
        self.reason = failure.reason
        self.since = self.since or now
        if failure.scope == FailureScope.CONFIGURATION or self.failures >= self.threshold:
            self.pauses += 1
            self.until = now + pause_length(self.pauses)
            return True
        self.until = now + HOLD
        return False

    def succeeded(self) -> bool:
        """The server took a message; True when the stored state must say so."""
        changed = self.paused or not self.stored
        self.failures = self.pauses = 0
        self.reason = self.since = self.until = None
        self.stored = True
        return changed


@dataclass(frozen=True, slots=True)
class SendSummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    paused: bool = False  # nothing tried: the breaker holds sending back


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


def next_retry_at(engine: Engine, breaker: Breaker | None = None) -> datetime | None:
    """When the earliest queued reply becomes due, so the worker can wake up for it;
    not before the breaker lets sending resume."""
    with transaction(engine) as session:
        due = session.exec(
            select(OutboundMessage.next_attempt_at)
            .where(OutboundMessage.status == OutboundStatus.QUEUED)
            .order_by(col(OutboundMessage.next_attempt_at))
            .limit(1)
        ).first()
    if due is not None and breaker is not None and breaker.until is not None:
        return max(due, breaker.until)
    return due


async def send_due(
    engine: Engine,
    settings: Settings,
    now: Callable[[], datetime] = utcnow,
    breaker: Breaker | None = None,
) -> SendSummary:
    """Send the replies due now, oldest first, until the round's time budget is spent
    or the server fails in a way that is no reply's (module docstring)."""
    endpoint = settings.smtp
    if endpoint is None:
        raise ValueError("MAILBOT_SMTP_URL is not set")
    breaker = breaker or Breaker(settings.smtp_breaker_failures)
    if not breaker.allows(now()):
        return SendSummary(paused=True)
    with transaction(engine) as session:
        due = session.exec(
            select(OutboundMessage.id)
            .where(OutboundMessage.status == OutboundStatus.QUEUED)
            .where(OutboundMessage.next_attempt_at <= now())
            .order_by(col(OutboundMessage.id))
        ).all()
    sent = retrying = failed = 0
    budget_ends = time.monotonic() + settings.send_budget_seconds
    smtp = SmtpSession(
        endpoint, settings.sender, settings.tls_ca_file, timeout=settings.smtp_timeout_seconds
    )
    try:
        for start in range(0, len(due), SEND_CHUNK):
            if time.monotonic() >= budget_ends:
                log.info("sending gives way to mail handling; %d due left", len(due) - start)
                break
            chunk = [row_id for row_id in due[start : start + SEND_CHUNK] if row_id is not None]
            outcome = await _send_chunk(engine, settings, smtp, chunk, now, budget_ends)
            sent, retrying, failed = (
                sent + outcome.sent, retrying + outcome.retrying, failed + outcome.failed
            )  # fmt: skip
            if outcome.sent and breaker.succeeded():
                _resume(engine)
            if outcome.stopped_by is not None:
                if breaker.failed(outcome.stopped_by, now()):
                    _pause(engine, breaker, len(due) - start - outcome.sent)
                break
    finally:
        await smtp.close()
    return SendSummary(sent=sent, retrying=retrying, failed=failed)


@dataclass(frozen=True, slots=True)
class _ChunkOutcome:
    sent: int
    retrying: int
    failed: int
    stopped_by: SendFailure | None  # a failure that is no reply's: sending stops


async def _send_chunk(
    engine: Engine,
    settings: Settings,
    smtp: SmtpSession,
    chunk: list[int],
    now: Callable[[], datetime],
    budget_ends: float,
) -> _ChunkOutcome:
    """Send the chunk's replies still queued, in order, each recorded as sent (committed)
    as soon as the server took it, until the round's budget is spent."""
    sent = retrying = failed = 0
    with Session(engine, expire_on_commit=False) as session:
        for row, case in _still_queued(session, chunk):
            assert row.id is not None
            if time.monotonic() >= budget_ends:
                break
            if not _queued_now(session, row.id):
                continue  # held or rejected by the DPO since the chunk was read
            message = compose(reply_of(row, case, settings))
            try:
                await smtp.send(message)
            except SendFailure as failure:
                if not failure.consumes_attempt:
                    _record_waiting(engine, row.id, failure)
                    retrying += 1
                else:
                    gave_up = _record_failure(
                        engine, row.id, failure, settings.send_max_attempts, now()
                    )
                    failed += gave_up
                    retrying += not gave_up
                if failure.scope == FailureScope.REPLY:
                    continue
                return _ChunkOutcome(sent, retrying, failed, failure)
            _mark_sent_afresh(session, row, case, now())
            sent += 1
    return _ChunkOutcome(sent, retrying, failed, None)


def _pause(engine: Engine, breaker: Breaker, waiting: int) -> None:
    assert breaker.until is not None
    # Loud, and without personal data: the reason is a code and a kind of failure.
    log.error(
        "SENDING PAUSED until %s: %s (%d failure(s) in a row); %d repl(ies) wait queued. "
        "Check MAILBOT_SMTP_URL and the SMTP server; `mailbot status` shows the state",
        breaker.until.isoformat(timespec="seconds"),
        breaker.reason,
        breaker.failures,
        waiting,
    )
    _write_state(engine, "paused", breaker)
    breaker.stored = True


def _resume(engine: Engine) -> None:
    with transaction(engine) as session:
        row = session.get(SendingState, 1)
        was_paused = row is not None and row.state == "paused"
    if was_paused:
        log.warning("sending resumed: the SMTP server took a reply again")
        _write_state(engine, "sending", None)


def _write_state(engine: Engine, state: str, breaker: Breaker | None) -> None:
    with transaction(engine) as session:
        row = session.get(SendingState, 1) or SendingState(id=1, state=state)
        row.state = state
        row.reason = breaker.reason[:200] if breaker and breaker.reason else None
        row.since = breaker.since if breaker else None
        row.until = breaker.until if breaker else None
        row.failures = breaker.failures if breaker else 0
        row.updated_at = utcnow()
        session.add(row)


def sending_state(session: Session) -> dict[str, object]:
    """What `mailbot status --json` says under "sending"."""
    row = session.get(SendingState, 1)
    if row is None or row.state != "paused":
        return {"state": "sending", "reason": None, "since": None, "until": None}
    return {
        "state": row.state,
        "reason": row.reason,
        "since": row.since.isoformat() if row.since else None,
        "until": row.until.isoformat() if row.until else None,
    }


def _record_waiting(engine: Engine, row_id: int, failure: SendFailure) -> None:
    """A failure that is no reply's: the reply stays due, its attempts untouched."""
    with transaction(engine) as session:
        row = session.get_one(OutboundMessage, row_id)
        row.last_error = failure.reason[:1000]
        session.add(row)


def _still_queued(session: Session, row_ids: list[int]) -> list[tuple[OutboundMessage, Case]]:
    """The replies of `row_ids` still queued, with their cases, in id order: read just
    before the chunk is sent, so a reply held or rejected meanwhile stays back. The read
    ends at once: sending takes a while, and other writers must not be held up."""
    found = session.exec(
        select(OutboundMessage, Case)
        .join(Case, col(Case.id) == col(OutboundMessage.case_id))
        .where(col(OutboundMessage.id).in_(row_ids))
        .where(OutboundMessage.status == OutboundStatus.QUEUED)
        .order_by(col(OutboundMessage.id))
    ).all()
    session.commit()
    return [(row, case) for row, case in found]


_STATUS = select(OutboundMessage.status).where(OutboundMessage.id == bindparam("row_id"))


def _queued_now(session: Session, row_id: int) -> bool:
    """Whether the reply is still queued, read just before it is sent (the read ends at
    once, as in `_still_queued`)."""
    status = session.connection().execute(_STATUS, {"row_id": row_id}).scalar()
    queued = status == OutboundStatus.QUEUED
    session.commit()
    return queued


def record_sent(engine: Engine, row: OutboundMessage, at: datetime) -> None:
    """`row`, as read just before sending, is sent: its case moves on (outcomes)."""
    with transaction(engine) as session:
        session.add(row)  # as read: its sealed letter need not be opened twice
        _mark_sent(session, row, session.get_one(Case, row.case_id), at)


def _mark_sent_afresh(session: Session, row: OutboundMessage, case: Case, at: datetime) -> None:
    """`row` is sent, recorded on its case read afresh, committed. The DPO may have moved
    the case (closed it, checked the ID) while the replies before this one went out, or
    between this read and the commit: then the case's version moved on, nothing was
    written, and the reply is recorded again on what the case has become."""
    tries_left = SENT_RECORDING_TRIES
    while True:
        tries_left -= 1
        fresh = session.get(Case, case.id, populate_existing=True)
        _mark_sent(session, row, fresh or case, at)
        try:
            session.commit()
            return
        except StaleDataError:
            session.rollback()  # `row` is as it was read again: queued
            if not tries_left:
                log.error("reply %s was sent but could not be recorded: it goes again", row.id)
                raise  # the round is retried; this reply goes again (module docstring)
            log.info("case %s changed while a reply was recorded as sent; again", case.id)


def _mark_sent(session: Session, row: OutboundMessage, case: Case, at: datetime) -> None:
    """In the caller's transaction: `row` is sent, and its case moves on (outcomes)."""
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
