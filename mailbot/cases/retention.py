"""Retention (LEGAL.md §5): a closed case's personal data goes once its period is over.

The case row, its deadlines, decisions and audit events stay (compliance's figures and
the hash chain need them); the requester's address and name, the mails' bytes and the
replies' texts are erased, and the source folder's copies removed by the worker.
Mails that never became a case (bounces, auto-replies, copies, mailing lists) go after
the same period from their receipt; a quarantined mail waits for the DPO instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlmodel import Session, col, select

from mailbot.cases.audit import append_event
from mailbot.cases.corrections import forget_corrections
from mailbot.cases.models import Case, CaseStatus, OutboundMessage
from mailbot.sealing import Sealer
from mailbot.store.models import Disposition, InboundMessage
from mailbot.store.sealed import erase_mail


def purge_due(case: Case, now: datetime, retention_days: int) -> bool:
    """Whether `case` has been closed for longer than the retention period."""
    return (
        case.status == CaseStatus.CLOSED
        and case.purged_at is None
        and case.closed_at is not None
        and now - case.closed_at >= timedelta(days=retention_days)
    )


# What became of mails that never open a case; only these are purged without one.
CASELESS: Final = frozenset(
    {
        Disposition.DUPLICATE,
        Disposition.AUTO_REPLY,
        Disposition.BOUNCE,
        Disposition.MAILING_LIST,
        Disposition.OWN_MAIL,
        Disposition.NO_SENDER,
    }
)


def purge_case(session: Session, case: Case, sealer: Sealer, now: datetime) -> None:
    assert case.id is not None
    inbound_rows = session.exec(select(InboundMessage).where(InboundMessage.case_id == case.id))
    for inbound in inbound_rows.all():
        erase_mail(session, inbound, sealer, now)
        inbound.reason = None
    replies = session.exec(select(OutboundMessage).where(OutboundMessage.case_id == case.id))
    for reply in replies.all():
        reply.subject = reply.body = ""
        reply.drafted_body = None
        reply.to_address = "purged"
        session.add(reply)
    case.requester = f"purged-{case.id}@invalid"
    case.requester_name = ""
    case.extension_reason = None if case.extension_reason is None else "purged"
    case.purged_at = now
    session.add(case)
    forget_corrections(session, case.id)
    append_event(session, case.id, "case_purged", "bot", {})


def purge_closed_cases(
    session: Session, sealer: Sealer, now: datetime, retention_days: int
) -> list[str]:
    """Purges every case past its retention; returns their references."""
    candidates = session.exec(
        select(Case).where(Case.status == CaseStatus.CLOSED).where(col(Case.purged_at).is_(None))
    ).all()
    purged = []
    for case in candidates:
        if purge_due(case, now, retention_days):
            purge_case(session, case, sealer, now)
            purged.append(case.reference)
    return purged


def purge_caseless_mails(
    session: Session, sealer: Sealer, now: datetime, retention_days: int
) -> int:
    """Erases the mails without a case received more than the retention period ago."""
    due = session.exec(
        select(InboundMessage)
        .where(col(InboundMessage.case_id).is_(None))
        .where(col(InboundMessage.erased_at).is_(None))
        .where(col(InboundMessage.disposition).in_(CASELESS))
        .where(InboundMessage.received_at <= now - timedelta(days=retention_days))
    ).all()
    for inbound in due:
        erase_mail(session, inbound, sealer, now)
    return len(due)
