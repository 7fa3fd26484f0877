"""The case state machine (DESIGN.md): each change is one function that refuses what the
rules do not allow and appends a hash-chained audit event.

new -> awaiting_identity -> in_progress -> awaiting_approval -> answered -> closed, with
the outcome (answered, refused, not_identified, withdrawn, not_a_request) recorded at
closing and the extension recorded beside the status. Deadlines come from the pure
`mailbot.cases.deadlines`; "now" is always passed in.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from mailbot.cases.audit import append_event
from mailbot.cases.deadlines import can_extend, pause_applies
from mailbot.cases.models import Case, CaseOutcome, CaseStatus
from mailbot.cases.refused import Refused
from mailbot.cases.timeliness import closed_in_time, days_paused, identity_asked_on
from mailbot.cases.timeliness import current_due as current_due
from mailbot.cases.timeliness import due_after_pause as due_after_pause
from mailbot.store.models import utcnow
from mailbot.triage.identity_policy import POLICY_ALWAYS

S = CaseStatus
ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.NEW: frozenset({S.AWAITING_IDENTITY, S.IN_PROGRESS, S.AWAITING_APPROVAL, S.CLOSED}),
    S.AWAITING_IDENTITY: frozenset({S.IN_PROGRESS, S.AWAITING_APPROVAL, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.AWAITING_APPROVAL, S.AWAITING_IDENTITY, S.ANSWERED, S.CLOSED}),
    S.AWAITING_APPROVAL: frozenset({S.IN_PROGRESS, S.ANSWERED, S.CLOSED}),
    S.ANSWERED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset(),
}


class IllegalTransition(Refused):
    """The requested change is not allowed from the case's current state."""


def transition(session: Session, case: Case, to: CaseStatus, actor: str, why: str = "") -> None:
    current = CaseStatus(case.status)
    if to == current:
        return
    if to not in ALLOWED[current]:
        raise IllegalTransition(f"{case.reference}: {current} -> {to} is not allowed")
    case.status = to
    _record(session, case, "status_changed", actor, {"from": current, "to": to, "why": why})


def request_identity(
    session: Session,
    case: Case,
    doubt_reason: str,
    now: datetime,
    pause_allowed: bool,
    actor: str = "bot",
) -> None:
    """An ID copy is to be asked for: the letter asking is drafted. The clock does not
    pause yet: only once that letter has left (`identity_request_sent`), so a request
    nobody received (a refused password, a letter held for approval) pauses nothing."""
    if not doubt_reason:
        raise IllegalTransition(f"{case.reference}: an ID request needs a recorded doubt reason")
    transition(session, case, S.AWAITING_IDENTITY, actor, "identity to be verified")
    case.doubt_reason = doubt_reason
    _record(
        session,
        case,
        "identity_requested",
        actor,
        {"doubt_reason": doubt_reason, "pause_allowed": pause_allowed, "clock_paused": False},
    )


def identity_request_sent(session: Session, case: Case, at: datetime, actor: str = "bot") -> None:
    """The letter asking for an ID copy left at `at`. The clock pauses only as LEGAL.md
    §1.7 allows: for a real doubt (the charter's "always" is none) asked, counted on the
    day the letter left, within a working day of receipt."""
    if case.id_requested_at is not None:
        return  # asked again (the back of a card came alone): the first request counts
    case.id_requested_at = at
    real_doubt = case.doubt_reason is not None and case.doubt_reason != POLICY_ALWAYS
    case.clock_paused = pause_applies(case.receipt_date, identity_asked_on(case), real_doubt)
    _record(
        session,
        case,
        "identity_request_sent",
        actor,
        {"asked_on": identity_asked_on(case).isoformat(), "clock_paused": case.clock_paused},
    )


def record_identity_check(
    session: Session, case: Case, verified: bool, method: str, actor: str, now: datetime
) -> None:
    """The identity facts LEGAL.md §2.5 keeps; a paused clock resumes with the days waited."""
    if case.identity_verified is not None:
        raise IllegalTransition(f"{case.reference}: identity was already checked")
    case.identity_verified = verified
    case.id_copy_in_review = False
    case.identity_method = method
    case.identity_checked_by = actor
    case.identity_checked_at = now
    if case.id_requested_at is not None:
        case.id_received_at = case.id_received_at or now
    if case.clock_paused and case.id_requested_at is not None and case.id_received_at:
        case.legal_due = due_after_pause(case, case.id_received_at)
        if case.extension_notified_on is None:
            # Once notified, the extended date is the one the requester was told.
            case.extended_due = due_after_pause(case, case.id_received_at, months=3)
        case.target_due += days_paused(case, case.id_received_at)
        case.clock_paused = False
    _record(
        session,
        case,
        "identity_checked",
        actor,
        {
            "verified": verified,
            "method": method,
            "legal_due": case.legal_due.isoformat(),
            "extended_due": case.extended_due.isoformat(),
        },
    )
    if verified and case.status == S.AWAITING_IDENTITY:
        transition(session, case, S.IN_PROGRESS, actor, "identity verified")


def renew_id_wait(session: Session, case: Case, at: datetime, actor: str, why: str) -> None:
    """The "not identified" closure was rejected to wait longer for an ID copy: the
    clock counts a full wait again from `at` (mailbot.schedule.waits_for_id_since). A
    mail handled late never shortens a wait renewed since."""
    case.id_wait_renewed_at = max(at, case.id_wait_renewed_at or at)
    _record(session, case, "id_wait_renewed", actor, {"why": why})


def extend(session: Session, case: Case, reason: str, today: date, actor: str) -> None:
    """Two more months (LEGAL.md §1.5): with a reason, told before the first deadline."""
    if case.outcome == CaseOutcome.REFUSED or case.status == S.CLOSED:
        raise IllegalTransition(f"{case.reference}: a closed or refused case is not extended")
    if case.extension_notified_on is not None:
        raise IllegalTransition(f"{case.reference}: already extended")
    if not can_extend(today, case.legal_due, reason):
        why = "a written reason is required" if not reason.strip() else "the deadline passed"
        raise IllegalTransition(f"{case.reference}: cannot extend: {why}")
    case.extension_reason = reason.strip()
    case.extension_notified_on = today
    _record(
        session,
        case,
        "extended",
        actor,
        {"extended_due": case.extended_due.isoformat(), "notified_on": today.isoformat()},
    )


def close(
    session: Session, case: Case, outcome: CaseOutcome, actor: str, now: datetime, why: str = ""
) -> None:
    transition(session, case, S.CLOSED, actor, why or outcome.value)
    case.outcome = outcome
    case.closed_at = now
    case.id_copy_in_review = False  # its copies go at the worker's next round
    # Recorded now, by the rule `mailbot report` applies, so figures over a million
    # cases are sums in SQL (mailbot.figures).
    case.closed_on_time, case.closed_by_target = closed_in_time(case)
    _record(session, case, "case_closed", actor, {"outcome": outcome.value})


def acted_on(case: Case) -> None:
    """What the transaction records was decided from the case as it read it, even where
    it changes nothing on the case row itself (a letter drafted, a reply queued again):
    the case is written too, so its version is checked (mailbot.cases.models) and a case
    another writer moved on meanwhile refuses the whole transaction."""
    case.updated_at = utcnow()


def _record(session: Session, case: Case, kind: str, actor: str, data: dict[str, object]) -> None:
    case.updated_at = utcnow()
    session.add(case)
    assert case.id is not None
    append_event(session, case.id, kind, actor, data)
