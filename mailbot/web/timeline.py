"""A case's history in one list: mails in, replies out and audit events, oldest first.

Mail text comes through `mailbot.store.reading` (control characters replaced, no
attachment bytes); the templates show all of it as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from mailbot.cases.models import Case, CaseEvent, OutboundMessage
from mailbot.cases.verification import ID_COPY_KINDS
from mailbot.handling.id_copies import awaits_review
from mailbot.sealing import Sealer
from mailbot.store.models import Attachment, InboundMessage
from mailbot.store.reading import StoredMail, read_stored


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    kind: str  # "in", "out" or "event"
    mail: StoredMail | None = None
    reply: OutboundMessage | None = None
    event: CaseEvent | None = None
    details: str = ""


@dataclass(frozen=True, slots=True)
class IdCopy:
    """An ID copy still held for the DPO's check: shown only while it is pending."""

    attachment_id: int
    kind: str
    sniffed_type: str
    size: int


def case_timeline(session: Session, case: Case, sealer: Sealer) -> list[Entry]:
    mails = session.exec(
        select(InboundMessage)
        .where(InboundMessage.case_id == case.id)
        .order_by(col(InboundMessage.id))
    ).all()
    replies = session.exec(
        select(OutboundMessage)
        .where(OutboundMessage.case_id == case.id)
        .order_by(col(OutboundMessage.id))
    ).all()
    events = session.exec(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
    ).all()
    entries = [Entry(m.received_at, "in", mail=read_stored(m, sealer)) for m in mails]
    entries += [Entry(r.sent_at or r.created_at, "out", reply=r) for r in replies]
    entries += [Entry(e.at, "event", event=e, details=_details(e.data)) for e in events]
    # Events are stamped to the second (the audit chain's precision), mails and replies
    # to the microsecond: compared at the second, a mail comes before the events it
    # caused and a reply after the event that queued it.
    order = {"in": 0, "event": 1, "out": 2}
    return sorted(entries, key=lambda entry: (entry.at.replace(microsecond=0), order[entry.kind]))


def pending_id_copies(session: Session, case: Case) -> list[IdCopy]:
    """The copies the DPO may look at: only while one waits for their check (also a copy
    sent with the request, when nothing was asked for)."""
    if not awaits_review(case):
        return []
    rows = session.exec(
        select(Attachment)
        .join(InboundMessage, col(Attachment.inbound_id) == col(InboundMessage.id))
        .where(InboundMessage.case_id == case.id)
        .where(col(Attachment.purged_at).is_(None))
        .where(col(Attachment.kind).in_(ID_COPY_KINDS | {"other_document"}))
    ).all()
    return [IdCopy(a.id or 0, a.kind, a.sniffed_type, a.size) for a in rows]


def holds_id_copy(session: Session, case: Case) -> bool:
    """Whether an ID copy of the case is still kept (for a check or a reading)."""
    held = session.exec(
        select(Attachment.id)
        .join(InboundMessage, col(Attachment.inbound_id) == col(InboundMessage.id))
        .where(InboundMessage.case_id == case.id)
        .where(col(Attachment.purged_at).is_(None))
        .where(col(Attachment.kind).in_(ID_COPY_KINDS))
    ).first()
    return held is not None


def _details(data: str) -> str:
    """An event's facts as `name: value` pairs on one line."""
    try:
        facts = json.loads(data)
    except ValueError:
        return ""
    if not isinstance(facts, dict):
        return ""
    return "; ".join(f"{name.replace('_', ' ')}: {value}" for name, value in facts.items())
