"""The SLA figures compliance reviews (LEGAL.md §6), computed from the case records.

`sla_figures` is pure: it takes the facts of the cases received in a period (loaded by
`load_facts`) and the day they are looked at, and returns every figure with its
numerator and denominator, so a reader can check each one against `mailbot cases list`.
Shared by `mailbot report` and, later, the web app.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine
from sqlmodel import col, select

from mailbot.cases.deadlines import is_late
from mailbot.cases.lifecycle import current_due
from mailbot.cases.models import (
    Attachment,
    Case,
    CaseOutcome,
    CaseStatus,
    InboundMessage,
    OutboundMessage,
    OutboundStatus,
    Suppression,
)
from mailbot.database import transaction
from mailbot.replies.approval import missing_remedies
from mailbot.replies.catalogue import CATALOGUE
from mailbot.triage.id_evidence import IDENTITY_KINDS


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the figures need of one case."""

    case: Case
    replies_sent: tuple[OutboundMessage, ...]  # oldest first
    id_copies_kept: int  # ID-document attachments not (yet) deleted
    suppressed_at: datetime | None  # when its address joined the suppression list


@dataclass(frozen=True, slots=True)
class Share:
    count: int
    of: int

    @property
    def percent(self) -> float | None:
        return None if self.of == 0 else round(100 * self.count / self.of, 1)

    def as_json(self) -> dict[str, object]:
        return {"count": self.count, "of": self.of, "percent": self.percent}


@dataclass(frozen=True, slots=True)
class Duration:
    """Hours, over the cases where the event happened."""

    cases: int
    median_hours: float | None
    max_hours: float | None

    @classmethod
    def of(cls, hours: Sequence[float]) -> Duration:
        if not hours:
            return cls(0, None, None)
        return cls(len(hours), round(statistics.median(hours), 2), round(max(hours), 2))

    def as_json(self) -> dict[str, object]:
        return {"cases": self.cases, "median_hours": self.median_hours, "max_hours": self.max_hours}


@dataclass(frozen=True, slots=True)
class SlaFigures:
    first_day: date | None
    last_day: date | None
    cases: int
    closed: int
    open_overdue: list[str]  # references of open cases past their deadline
    closed_by_legal_deadline: Share  # goal 100 %
    closed_by_target: Share
    extended: Share
    extension_reasons: list[str]
    extensions_notified_in_first_month: Share  # must be 100 %
    id_requested: Share
    id_copies_kept_after_check: int  # must be 0
    refusals_with_remedies: Share  # must be 100 %
    time_to_acknowledge: Duration
    time_to_suppress: Duration

    def as_json(self) -> dict[str, object]:
        return {
            "period": {
                "first_day": self.first_day.isoformat() if self.first_day else None,
                "last_day": self.last_day.isoformat() if self.last_day else None,
            },
            "cases": self.cases,
            "closed": self.closed,
            "open_overdue": self.open_overdue,
            "closed_by_legal_deadline": self.closed_by_legal_deadline.as_json(),
            "closed_by_target": self.closed_by_target.as_json(),
            "extended": self.extended.as_json(),
            "extension_reasons": self.extension_reasons,
            "extensions_notified_in_first_month": (
                self.extensions_notified_in_first_month.as_json()
            ),
            "id_requested": self.id_requested.as_json(),
            "id_copies_kept_after_check": self.id_copies_kept_after_check,
            "refusals_with_remedies": self.refusals_with_remedies.as_json(),
            "time_to_acknowledge": self.time_to_acknowledge.as_json(),
            "time_to_suppress": self.time_to_suppress.as_json(),
        }


def sla_figures(
    facts: Sequence[CaseFacts], now: datetime, first_day: date | None, last_day: date | None
) -> SlaFigures:
    """Every LEGAL.md §6 figure over the cases received from `first_day` to `last_day`.

    Customer-service mails the bot redirected (outcome not_a_request) are no requests
    and are left out of every figure."""
    requests = [f for f in facts if f.case.outcome != CaseOutcome.NOT_A_REQUEST]
    closed = [f for f in requests if f.case.closed_at is not None]
    extended = [f.case for f in requests if f.case.extension_notified_on is not None]
    refusals = [
        reply
        for f in requests
        if f.case.purged_at is None  # retention emptied the texts
        for reply in f.replies_sent
        if (spec := CATALOGUE.get(reply.kind)) is not None and spec.closes_with_remedies
    ]
    return SlaFigures(
        first_day=first_day,
        last_day=last_day,
        cases=len(requests),
        closed=len(closed),
        open_overdue=[
            f.case.reference
            for f in requests
            if f.case.closed_at is None
            and f.case.status != CaseStatus.ANSWERED
            and is_late(now, current_due(f.case))
        ],
        closed_by_legal_deadline=_on_time(closed, current_due),
        closed_by_target=_on_time(closed, lambda case: case.target_due),
        extended=Share(len(extended), len(requests)),
        extension_reasons=sorted({c.extension_reason for c in extended if c.extension_reason}),
        extensions_notified_in_first_month=Share(
            sum(
                c.extension_notified_on <= c.legal_due for c in extended if c.extension_notified_on
            ),
            len(extended),
        ),
        id_requested=Share(
            sum(f.case.id_requested_at is not None for f in requests), len(requests)
        ),
        id_copies_kept_after_check=sum(f.id_copies_kept for f in requests if _checked(f.case)),
        refusals_with_remedies=Share(
            sum(not missing_remedies(r.body, r.language) for r in refusals), len(refusals)
        ),
        time_to_acknowledge=Duration.of(
            [
                _hours(f.case.received_at, f.replies_sent[0].sent_at)
                for f in requests
                if f.replies_sent and f.replies_sent[0].sent_at is not None
            ]
        ),
        time_to_suppress=Duration.of(
            [
                _hours(f.case.received_at, f.suppressed_at)
                for f in requests
                if f.suppressed_at is not None
            ]
        ),
    )


def _on_time(closed: Sequence[CaseFacts], due: Callable[[Case], date]) -> Share:
    """Closed within the day `due` names (Brussels time), out of the closed cases."""
    on_time = sum(
        not is_late(f.case.closed_at, due(f.case)) for f in closed if f.case.closed_at is not None
    )
    return Share(on_time, len(closed))


def _checked(case: Case) -> bool:
    """The identity check is over: the copies should be gone (LEGAL.md §2.5)."""
    return case.identity_checked_at is not None or case.closed_at is not None


def _hours(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0) / 3600


def load_facts(engine: Engine, first_day: date | None, last_day: date | None) -> list[CaseFacts]:
    """The facts of the cases received in the period (Brussels receipt dates, inclusive)."""
    with transaction(engine) as session:
        query = select(Case).order_by(col(Case.id))
        if first_day is not None:
            query = query.where(Case.receipt_date >= first_day)
        if last_day is not None:
            query = query.where(Case.receipt_date <= last_day)
        cases = session.exec(query).all()
        ids = [case.id for case in cases]
        replies = session.exec(
            select(OutboundMessage)
            .where(col(OutboundMessage.case_id).in_(ids))
            .where(OutboundMessage.status == OutboundStatus.SENT)
            .order_by(col(OutboundMessage.sent_at))
        ).all()
        kept = session.exec(
            select(InboundMessage.case_id)
            .join(Attachment, col(Attachment.inbound_id) == col(InboundMessage.id))
            .where(col(InboundMessage.case_id).in_(ids))
            .where(col(Attachment.kind).in_(IDENTITY_KINDS))
            .where(col(Attachment.purged_at).is_(None))
        ).all()
        suppressions = session.exec(
            select(Suppression).where(col(Suppression.case_id).in_(ids))
        ).all()
    suppressed = {s.case_id: s.created_at for s in suppressions}
    return [
        CaseFacts(
            case=case,
            replies_sent=tuple(r for r in replies if r.case_id == case.id),
            id_copies_kept=sum(1 for case_id in kept if case_id == case.id),
            suppressed_at=suppressed.get(case.id),
        )
        for case in cases
    ]
