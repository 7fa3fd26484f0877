"""What a sent reply means for its case: acknowledged, answered, refused, closed.

The outbox calls `after_sent` in the transaction that records the sending, so a case is
closed exactly when the letter that closes it has left, never before.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from mailbot.cases.lifecycle import close, transition
from mailbot.cases.models import Case, CaseOutcome, CaseStatus

# The letters that settle a case, and the outcome each records.
CLOSING: dict[str, CaseOutcome] = {
    "objection_done": CaseOutcome.ANSWERED,
    "consent_withdrawn": CaseOutcome.ANSWERED,
    "access_answer": CaseOutcome.ANSWERED,
    "portability_answer": CaseOutcome.ANSWERED,
    "rectification_done": CaseOutcome.ANSWERED,
    "erasure_done": CaseOutcome.ANSWERED,
    "restriction_done": CaseOutcome.ANSWERED,
    "refusal": CaseOutcome.REFUSED,
    "not_identified": CaseOutcome.NOT_IDENTIFIED,
    "redirect": CaseOutcome.NOT_A_REQUEST,
}


def after_sent(session: Session, case: Case, kind: str, at: datetime) -> None:
    if case.status == CaseStatus.CLOSED:
        return  # a late copy of a letter (a resend after a crash) changes nothing
    if kind == "acknowledgement" and case.status == CaseStatus.NEW:
        transition(session, case, CaseStatus.IN_PROGRESS, "bot", "acknowledged")
        return
    outcome = CLOSING.get(kind)
    if outcome is None:
        return
    if outcome == CaseOutcome.ANSWERED:
        transition(session, case, CaseStatus.ANSWERED, "bot", f"{kind} sent")
    close(session, case, outcome, "bot", at, f"{kind} sent")
