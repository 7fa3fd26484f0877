"""The case state machine: each change of status is checked and leaves an audit event."""

from __future__ import annotations

from sqlmodel import Session

from mailbot.cases.audit import append_event
from mailbot.cases.models import Case, CaseStatus, utcnow

S = CaseStatus
ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.NEW: frozenset({S.AWAITING_IDENTITY, S.IN_PROGRESS, S.CLOSED}),
    S.AWAITING_IDENTITY: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.IN_PROGRESS: frozenset({S.AWAITING_APPROVAL, S.AWAITING_IDENTITY, S.CLOSED}),
    S.AWAITING_APPROVAL: frozenset({S.IN_PROGRESS, S.ANSWERED}),
    S.ANSWERED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset(),
}


class IllegalTransition(ValueError):
    """The requested change of status is not allowed from the case's current status."""


def transition(session: Session, case: Case, to: CaseStatus, actor: str, why: str = "") -> None:
    current = CaseStatus(case.status)
    if to not in ALLOWED[current]:
        raise IllegalTransition(f"{case.reference}: {current} -> {to} is not allowed")
    case.status = to
    case.updated_at = utcnow()
    session.add(case)
    assert case.id is not None
    append_event(session, case.id, "status_changed", actor, {"from": current, "to": to, "why": why})
