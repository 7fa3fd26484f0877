"""Figures and listings read from the database: `mailbot status`, `mailbot cases list`,
`mailbot mails list`, and the facts behind `mailbot report` (mailbot.metrics)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, func, select

from mailbot.cases.models import Case, CaseEvent, OutboundMessage, OutboundStatus, Suppression
from mailbot.database import transaction
from mailbot.figure_tables import stored_copies
from mailbot.metrics import CaseFacts, StoredCopies
from mailbot.replies.outbox import sending_state
from mailbot.store.models import Disposition, InboundMessage


def status_counts(engine: Engine) -> dict[str, Any]:
    """The DESIGN.md contract: inbound, cases, outbox {sent, queued, failed}, quarantined;
    and sending {state: sending or paused, reason, since, until}."""
    with transaction(engine) as session:
        inbound = session.exec(select(func.count()).select_from(InboundMessage)).one()
        cases = session.exec(select(func.count()).select_from(Case)).one()
        quarantined = session.exec(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.disposition == Disposition.QUARANTINED)
        ).one()
        by_status = dict(
            session.exec(
                select(OutboundMessage.status, func.count()).group_by(col(OutboundMessage.status))
            ).all()
        )
        sending = sending_state(session)
    outbox = {
        name: by_status.get(status, 0)
        for name, status in (
            ("sent", OutboundStatus.SENT),
            ("queued", OutboundStatus.QUEUED),
            ("failed", OutboundStatus.FAILED),
        )
    }
    return {
        "inbound": inbound,
        "cases": cases,
        "outbox": outbox,
        "quarantined": quarantined,
        "sending": sending,
    }


def case_rows(engine: Engine) -> list[dict[str, Any]]:
    with transaction(engine) as session:
        cases = session.exec(select(Case).order_by(col(Case.id))).all()
    return [
        {
            "reference": case.reference,
            "requester": case.requester,
            "language": case.language,
            "primary": case.primary,
            "labels": case.label_list,
            "status": case.status,
            "receipt_date": case.receipt_date.isoformat(),
            "legal_due": case.legal_due.isoformat(),
            "target_due": case.target_due.isoformat(),
            "extended_due": case.extended_due.isoformat(),
            "confidence": round(case.confidence, 3),
            "needs_triage": case.needs_triage,
            "id_document": case.id_document,
        }
        for case in cases
    ]


def inbound_rows(engine: Engine, only: str | None = None) -> list[dict[str, Any]]:
    """Every stored mail with what became of it (no content: subjects can be personal)."""
    with transaction(engine) as session:
        query = select(InboundMessage).order_by(col(InboundMessage.id))
        if only is not None:
            query = query.where(InboundMessage.disposition == only)
        rows = session.exec(query).all()
        references = dict(session.exec(select(Case.id, Case.reference)).all())
    return [
        {
            "id": row.id,
            "received_at": row.received_at.isoformat(),
            "message_id": row.message_id,
            "sender": row.sender,
            "size": row.size,
            "disposition": row.disposition,
            "reason": row.reason,
            "flags": row.flags.split(),
            "case": references.get(row.case_id) if row.case_id else None,
        }
        for row in rows
    ]


def load_facts(
    engine: Engine, first_day: date | None, last_day: date | None
) -> tuple[list[CaseFacts], StoredCopies]:
    """The facts of the cases received in the period (Brussels receipt dates, inclusive),
    and the ID copies still stored, whatever the period."""
    in_period = select(Case.id)
    if first_day is not None:
        in_period = in_period.where(Case.receipt_date >= first_day)
    if last_day is not None:
        in_period = in_period.where(Case.receipt_date <= last_day)
    with transaction(engine) as session:
        cases = session.exec(
            select(Case).where(col(Case.id).in_(in_period)).order_by(col(Case.id))
        ).all()
        replies = session.exec(
            select(OutboundMessage)
            .where(col(OutboundMessage.case_id).in_(in_period))
            .where(OutboundMessage.status == OutboundStatus.SENT)
            .order_by(col(OutboundMessage.sent_at))
        ).all()
        mails = session.exec(
            select(InboundMessage.case_id, InboundMessage.received_at)
            .where(col(InboundMessage.case_id).in_(in_period))
            .order_by(col(InboundMessage.received_at))
        ).all()
        objections = dict(
            session.exec(
                select(Suppression.case_id, Suppression.created_at)
                .where(col(Suppression.case_id).in_(in_period))
                .where(Suppression.reason == "objection")
            ).all()
        )
        late = set(
            session.exec(
                select(CaseEvent.case_id)
                .where(col(CaseEvent.case_id).in_(in_period))
                .where(CaseEvent.kind == "extension_notice_late")
            ).all()
        )
        copies = stored_copies(session)
    return [
        CaseFacts(
            case=case,
            replies_sent=tuple(r for r in replies if r.case_id == case.id),
            mails_received=tuple(at for case_id, at in mails if case_id == case.id),
            objection_suppressed_at=objections.get(case.id),
            late_extension_notice=case.id in late,
        )
        for case in cases
    ], copies
