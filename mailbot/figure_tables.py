"""The tables behind the period figures, read from the database: extensions with their
reasons, refusals with whether the complaint and court information went out, the ID
copies still stored; and `period_figures`, the whole of `mailbot report`'s figures
(mailbot.metrics.SlaFigures) computed from sums instead of a walk over every case.

Rows carry references, dates, statuses and reasons only: never a requester, an address
or a letter's text (what the compliance role may see, DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, or_
from sqlalchemy.orm import load_only
from sqlmodel import Session, SQLModel, col, func, select

from mailbot.cases.models import Case, OutboundMessage, OutboundStatus, Suppression
from mailbot.database import transaction
from mailbot.figures import (
    day_totals,
    median_acknowledge_hours,
    not_acknowledged,
    open_overdue,
    requests_in,
)
from mailbot.metrics import Duration, Share, SlaFigures, StoredCopies
from mailbot.replies.outcomes import REFUSING_LETTERS
from mailbot.store.models import Attachment, InboundMessage
from mailbot.triage.id_evidence import IDENTITY_KINDS

REMOVED_AT_RETENTION = "(removed at retention)"


@dataclass(frozen=True, slots=True)
class Extension:
    reference: str
    receipt_date: date
    legal_due: date
    notified_on: date | None  # None: the notice left after the deadline and extended nothing
    extended_due: date | None
    reason: str
    status: str
    closed_on_time: bool | None

    def as_json(self) -> dict[str, object]:
        return {
            "reference": self.reference,
            "receipt_date": self.receipt_date.isoformat(),
            "legal_due": self.legal_due.isoformat(),
            "notified_on": self.notified_on.isoformat() if self.notified_on else None,
            "extended_due": self.extended_due.isoformat() if self.extended_due else None,
            "reason": self.reason,
            "status": self.status,
            "closed_on_time": self.closed_on_time,
        }


@dataclass(frozen=True, slots=True)
class Refusal:
    reference: str
    receipt_date: date
    letter: str  # refusal or not_identified
    sent_on: date | None
    remedies_included: bool | None

    def as_json(self) -> dict[str, object]:
        return {
            "reference": self.reference,
            "receipt_date": self.receipt_date.isoformat(),
            "letter": self.letter,
            "sent_on": self.sent_on.isoformat() if self.sent_on else None,
            "complaint_and_court_information": self.remedies_included,
        }


def _only(model: type[SQLModel], *names: str) -> Any:
    """Load these columns of `model` only: what a figure shows, never a sealed one."""
    return load_only(*(getattr(model, name) for name in names))


def extensions(
    session: Session, first_day: date, last_day: date, limit: int | None = None
) -> list[Extension]:
    """Extended cases, and those whose extension notice came too late, oldest first."""
    query = (
        select(Case)
        # The facts only: the sealed name is neither loaded nor opened (SealedText).
        .options(
            _only(
                Case,
                "reference",
                "receipt_date",
                "legal_due",
                "extension_notified_on",
                "extended_due",
                "purged_at",
                "extension_reason",
                "closed_on_time",
            )
        )
        .where(requests_in(first_day, last_day))
        .where(
            or_(
                col(Case.extension_notified_on).is_not(None),
                col(Case.late_extension_notice).is_(True),
            )
        )
        .order_by(col(Case.receipt_date), col(Case.id))
        .limit(limit)
    )
    return [
        Extension(
            reference=row.reference,
            receipt_date=row.receipt_date,
            legal_due=row.legal_due,
            notified_on=row.extension_notified_on,
            extended_due=row.extended_due if row.extension_notified_on else None,
            reason=REMOVED_AT_RETENTION if row.purged_at else (row.extension_reason or ""),
            status=("extended" if row.extension_notified_on else "notice after the deadline"),
            closed_on_time=row.closed_on_time,
        )
        for row in session.exec(query).all()
    ]


def _refusal_letters(first_day: date, last_day: date) -> list[ColumnElement[bool]]:
    # Purged cases are left out, as `mailbot report` (whose texts retention emptied) does.
    return [
        col(OutboundMessage.kind).in_(REFUSING_LETTERS),
        col(OutboundMessage.status) == OutboundStatus.SENT,
        col(Case.purged_at).is_(None),
        requests_in(first_day, last_day),
    ]


def refusals(
    session: Session, first_day: date, last_day: date, limit: int | None = None
) -> list[Refusal]:
    query = (
        select(OutboundMessage, Case)
        # The columns shown only: a letter's sealed text is neither loaded nor opened.
        .options(
            _only(OutboundMessage, "kind", "sent_at", "remedies_included"),
            _only(Case, "reference", "receipt_date"),
        )
        .join(Case, col(Case.id) == col(OutboundMessage.case_id))
        .where(*_refusal_letters(first_day, last_day))
        .order_by(col(Case.receipt_date), col(OutboundMessage.id))
        .limit(limit)
    )
    return [
        Refusal(
            reference=case.reference,
            receipt_date=case.receipt_date,
            letter=reply.kind,
            sent_on=reply.sent_at.date() if reply.sent_at else None,
            remedies_included=reply.remedies_included,
        )
        for reply, case in session.exec(query).all()
    ]


def stored_copies(session: Session) -> StoredCopies:
    """ID copies that should be gone, whatever the period (LEGAL.md §2.5: must be 0)."""
    identity = (
        select(func.count())
        .select_from(Attachment)
        .join(InboundMessage, col(Attachment.inbound_id) == col(InboundMessage.id))
        .where(col(Attachment.kind).in_(IDENTITY_KINDS))
    )
    after_check = session.exec(
        identity.join(Case, col(Case.id) == col(InboundMessage.case_id))
        .where(col(Attachment.purged_at).is_(None))
        .where(or_(col(Case.identity_checked_at).is_not(None), col(Case.closed_at).is_not(None)))
    ).one()
    awaiting = session.exec(identity.where(col(InboundMessage.remove_from_source).is_(True))).one()
    return StoredCopies(after_check=after_check, awaiting_removal_from_mailbox=awaiting)


def suppression_hours(session: Session, first_day: date, last_day: date) -> list[float]:
    """From the mail that objected to marketing to its address joining the list."""
    asked = (
        select(func.max(InboundMessage.received_at))
        .where(col(InboundMessage.case_id) == col(Suppression.case_id))
        .where(col(InboundMessage.received_at) <= col(Suppression.created_at))
        .scalar_subquery()
    )
    rows = session.exec(
        select(Suppression.created_at, Case.received_at, asked)
        .join(Case, col(Case.id) == col(Suppression.case_id))
        .where(Suppression.reason == "objection")
        .where(requests_in(first_day, last_day))
    ).all()
    return [
        max((done - (asked_at or received)).total_seconds(), 0.0) / 3600
        for done, received, asked_at in rows
    ]


def _reasons(session: Session, first_day: date, last_day: date) -> list[str]:
    found = session.exec(
        select(Case.extension_reason)
        .distinct()
        .where(requests_in(first_day, last_day))
        .where(col(Case.extension_notified_on).is_not(None))
        .where(col(Case.purged_at).is_(None))
    ).all()
    return sorted(reason for reason in found if reason)


def period_figures(engine: Engine, first_day: date, last_day: date, now: datetime) -> SlaFigures:
    """`mailbot.metrics.sla_figures` for the cases received from `first_day` to
    `last_day`, from the database's sums (a test holds the two equal)."""
    with transaction(engine) as session:
        days = day_totals(session, first_day, last_day)
        acknowledged = sum(day.acknowledged for day in days)
        median = median_acknowledge_hours(session, first_day, last_day, acknowledged)
        longest = max((d.longest_acknowledge or 0 for d in days if d.acknowledged), default=None)
        cases, closed = _sum(days, "received"), _sum(days, "closed")
        extended = _sum(days, "extended")
        return SlaFigures(
            first_day=first_day,
            last_day=last_day,
            cases=cases,
            closed=closed,
            open_overdue=open_overdue(session, first_day, last_day, now),
            closed_by_legal_deadline=Share(_sum(days, "on_time"), closed),
            closed_by_target=Share(_sum(days, "by_target"), closed),
            extended=Share(extended, cases),
            extension_reasons=_reasons(session, first_day, last_day),
            extensions_notified_in_first_month=Share(
                extended, extended + _sum(days, "late_notices")
            ),
            id_requested=Share(_sum(days, "id_requested"), cases),
            copies=stored_copies(session),
            refusals_with_remedies=Share(
                _sum(days, "refusals_with_remedies"), _sum(days, "refusals")
            ),
            time_to_acknowledge=Duration(
                acknowledged, median, None if longest is None else round(longest / 3600, 2)
            ),
            not_acknowledged=not_acknowledged(session, first_day, last_day),
            time_to_suppress=Duration.of(suppression_hours(session, first_day, last_day)),
        )


def _sum(days: Sequence[object], name: str) -> int:
    return sum(int(getattr(day, name)) for day in days)
