"""What the DPO does with replies the bot gave up on: put them back in the queue.

A reply fails for good when the server refused that message (a recipient unknown) or
after the configured attempts. Once the cause is fixed (an address corrected at the
server, an outage over), `requeue_failed` hands them back to the worker with their
attempts reset, each under the person's name in its case's audit trail. A reply of a
closed case stays failed: the case was settled without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from mailbot.actions import Done, NotFound, Refused, who
from mailbot.cases.audit import append_event
from mailbot.cases.lifecycle import acted_on
from mailbot.cases.models import Case, CaseStatus, OutboundMessage, OutboundStatus

WAITING = (OutboundStatus.FAILED, OutboundStatus.QUEUED)

# Why a failed reply stays failed (`why_it_stays_failed`), as the DPO reads it.
CASE_CLOSED = "its case is closed"
IDENTITY_CAME = "an ID copy came since"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A failed or queued reply as the DPO sees it: no address, subject or text."""

    id: int
    reference: str
    kind: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    stays_failed: str | None = None  # why this failed reply cannot be queued again


def outbox_rows(session: Session, limit: int = 500) -> list[OutboxRow]:
    """Failed replies first, then queued ones, oldest first."""
    rows = session.exec(
        select(OutboundMessage, Case)
        .join(Case, col(Case.id) == col(OutboundMessage.case_id))
        .where(col(OutboundMessage.status).in_(WAITING))
        .order_by(col(OutboundMessage.status), col(OutboundMessage.id))
        .limit(limit)
    ).all()
    return [
        OutboxRow(
            id=reply.id or 0,
            reference=case.reference,
            kind=reply.kind,
            status=reply.status,
            attempts=reply.attempts,
            last_error=reply.last_error,
            next_attempt_at=reply.next_attempt_at,
            created_at=reply.created_at,
            stays_failed=why_it_stays_failed(reply, case),
        )
        for reply, case in rows
    ]


def why_it_stays_failed(reply: OutboundMessage, case: Case) -> str | None:
    """Why a failed reply must not be queued again (None: it may). A closed case was
    settled without it. A "not identified" letter whose case got an ID copy (or a card's
    back alone, which renews the wait), or a recorded check, after it was drafted would
    refuse a requester who answered, or repeat the letter the check drafted afresh; the
    letter a check drafted still goes."""
    if reply.status != OutboundStatus.FAILED:
        return None
    if case.status == CaseStatus.CLOSED:
        return CASE_CLOSED
    answers = (case.id_received_at, case.identity_checked_at, case.id_wait_renewed_at)
    since = [at for at in answers if at is not None]
    if reply.kind == "not_identified" and any(at > reply.created_at for at in since):
        return IDENTITY_CAME
    return None


def requeue_failed(
    session: Session, actor: str, now: datetime, reply_id: int | None = None
) -> Done:
    """Put one failed reply (`reply_id`) or every failed one back in the queue."""
    name = who(actor)
    if reply_id is not None:
        reply = session.get(OutboundMessage, reply_id)
        if reply is None:
            raise NotFound(f"no reply numbered {reply_id}")
        if reply.status != OutboundStatus.FAILED:
            raise Refused(f"reply {reply_id} is {reply.status}: only a failed reply is re-queued")
        if (why := _stays_failed(session, reply)) is not None:
            raise Refused(f"reply {reply_id} stays failed: {why}")
        _requeue(session, reply, name, now)
        return Done(f"reply {reply_id} is queued again: the worker sends it on its next round")
    failed = session.exec(
        select(OutboundMessage)
        .where(OutboundMessage.status == OutboundStatus.FAILED)
        .order_by(col(OutboundMessage.id))
    ).all()
    requeued = kept = answered = 0
    for reply in failed:
        why = _stays_failed(session, reply)
        if why == CASE_CLOSED:
            kept += 1
        elif why == IDENTITY_CAME:
            answered += 1
        else:
            _requeue(session, reply, name, now)
            requeued += 1
    if not failed:
        return Done("no failed reply to re-queue")
    closed = f"; {kept} of closed cases stay failed" if kept else ""
    if answered:
        closed += f'; {answered} "not identified" letter(s) stay failed: an ID copy came since'
    return Done(f"{requeued} failed repl(ies) queued again{closed}")


def _stays_failed(session: Session, reply: OutboundMessage) -> str | None:
    """`why_it_stays_failed`, decided on this reading of the reply's case (a case moved
    on meanwhile refuses the action, mailbot.actions.acting)."""
    case = session.get_one(Case, reply.case_id)
    acted_on(case)
    return why_it_stays_failed(reply, case)


def _requeue(session: Session, reply: OutboundMessage, name: str, now: datetime) -> None:
    detail = {
        "outbound_id": reply.id,
        "kind": reply.kind,
        "attempts": reply.attempts,
        "error": reply.last_error,
    }
    reply.status = OutboundStatus.QUEUED
    reply.attempts = 0
    reply.next_attempt_at = now
    session.add(reply)
    append_event(session, reply.case_id, "reply_requeued", name, detail)
