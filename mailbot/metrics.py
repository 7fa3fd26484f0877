"""The SLA figures compliance reviews (LEGAL.md §6), computed from the case records.

`sla_figures` is pure: it takes the facts of the cases received in a period (loaded by
mailbot.reports.load_facts) and the moment they are looked at, and returns every figure
with its numerator and denominator, so a reader can check each one against `mailbot
cases list`. Shared by `mailbot report` and, later, the web app.

Each case is held to the deadline `mailbot.cases.timeliness` names. This module is the
reference: `mailbot.figures` computes the same figures in SQL from facts recorded as
they happen, and a test holds the two equal.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from mailbot.cases.deadlines import is_late
from mailbot.cases.models import Case, CaseOutcome, CaseStatus, OutboundMessage
from mailbot.cases.timeliness import due_for, target_for
from mailbot.replies.approval import missing_remedies
from mailbot.replies.outcomes import FIRST_ANSWERS, REFUSING_LETTERS


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the figures need of one case."""

    case: Case
    replies_sent: tuple[OutboundMessage, ...]  # oldest first
    mails_received: tuple[datetime, ...]  # the case's inbound mails, oldest first
    objection_suppressed_at: datetime | None  # its address joined the list for an objection
    late_extension_notice: bool  # an extension notice went out after the deadline


@dataclass(frozen=True, slots=True)
class StoredCopies:
    """ID copies that should be gone, whatever the period (LEGAL.md §2.5: must be 0)."""

    after_check: int  # attachments of checked or closed cases not yet cut out
    awaiting_removal_from_mailbox: int  # originals the worker has still to delete


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
    copies: StoredCopies  # must be 0
    refusals_with_remedies: Share  # must be 100 %
    time_to_acknowledge: Duration
    not_acknowledged: list[str]  # references of cases no first answer has gone to yet
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
            "id_copies_kept_after_check": self.copies.after_check,
            "id_copies_awaiting_removal_from_mailbox": self.copies.awaiting_removal_from_mailbox,
            "refusals_with_remedies": self.refusals_with_remedies.as_json(),
            "time_to_acknowledge": self.time_to_acknowledge.as_json(),
            "not_acknowledged": self.not_acknowledged,
            "time_to_suppress": self.time_to_suppress.as_json(),
        }


def sla_figures(
    facts: Sequence[CaseFacts],
    copies: StoredCopies,
    now: datetime,
    first_day: date | None,
    last_day: date | None,
) -> SlaFigures:
    """Every LEGAL.md §6 figure over the cases received from `first_day` to `last_day`.

    Customer-service mails the bot redirected (outcome not_a_request) are no requests
    and are left out of every figure."""
    requests = [f for f in facts if f.case.outcome != CaseOutcome.NOT_A_REQUEST]
    closed = [f for f in requests if f.case.closed_at is not None]
    extended = [f.case for f in requests if f.case.extension_notified_on is not None]
    late_notices = sum(f.late_extension_notice for f in requests)
    refusals = [
        reply
        for f in requests
        if f.case.purged_at is None  # retention emptied the texts
        for reply in f.replies_sent
        if reply.kind in REFUSING_LETTERS
    ]
    first_answers = {f.case.reference: _first_answer(f) for f in requests}
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
            and is_late(now, due_for(f.case, now))
        ],
        closed_by_legal_deadline=_on_time(closed, due_for),
        closed_by_target=_on_time(closed, target_for),
        extended=Share(len(extended), len(requests)),
        extension_reasons=sorted(
            {c.extension_reason for c in extended if c.extension_reason and c.purged_at is None}
        ),
        # A notice sent too late extends nothing (lifecycle refuses it) but is counted here.
        extensions_notified_in_first_month=Share(len(extended), len(extended) + late_notices),
        id_requested=Share(
            sum(f.case.id_requested_at is not None for f in requests), len(requests)
        ),
        copies=copies,
        refusals_with_remedies=Share(
            sum(not missing_remedies(r.body, r.language) for r in refusals), len(refusals)
        ),
        time_to_acknowledge=Duration.of(
            [
                _hours(f.case.received_at, answered)
                for f in requests
                if (answered := first_answers[f.case.reference]) is not None
            ]
        ),
        not_acknowledged=[ref for ref, answered in first_answers.items() if answered is None],
        time_to_suppress=Duration.of(
            [
                _hours(_asked_before(f, f.objection_suppressed_at), f.objection_suppressed_at)
                for f in requests
                if f.objection_suppressed_at is not None
            ]
        ),
    )


def _first_answer(facts: CaseFacts) -> datetime | None:
    return next(
        (r.sent_at for r in facts.replies_sent if r.kind in FIRST_ANSWERS and r.sent_at),
        None,
    )


def _asked_before(facts: CaseFacts, suppressed_at: datetime) -> datetime:
    """When the mail asking for it arrived: the case's last mail before the suppression
    (an objection in a follow-up counts from the follow-up, not from the case)."""
    earlier = [at for at in facts.mails_received if at <= suppressed_at]
    return max(earlier) if earlier else facts.case.received_at


def _on_time(closed: Sequence[CaseFacts], due: Callable[[Case, datetime], date]) -> Share:
    """Closed within the day `due` names (Brussels time), out of the closed cases."""
    on_time = sum(
        not is_late(f.case.closed_at, due(f.case, f.case.closed_at))
        for f in closed
        if f.case.closed_at is not None
    )
    return Share(on_time, len(closed))


def _hours(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0) / 3600
