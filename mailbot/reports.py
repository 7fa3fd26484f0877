"""Figures and listings read from the database: `mailbot status` and `mailbot cases list`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, func, select

from mailbot.cases.models import (
    Case,
    Disposition,
    InboundMessage,
    OutboundMessage,
    OutboundStatus,
)
from mailbot.database import transaction


def status_counts(engine: Engine) -> dict[str, Any]:
    """The DESIGN.md contract: inbound, cases, outbox {sent, queued, failed}, quarantined."""
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
    outbox = {
        name: by_status.get(status, 0)
        for name, status in (
            ("sent", OutboundStatus.SENT),
            ("queued", OutboundStatus.QUEUED),
            ("failed", OutboundStatus.FAILED),
        )
    }
    return {"inbound": inbound, "cases": cases, "outbox": outbox, "quarantined": quarantined}


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
