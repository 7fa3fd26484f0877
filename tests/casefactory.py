"""Synthetic cases for tests: a `Case` received at a moment, with the deadlines the rules
give it (invented requesters at example.org), changed where a test needs it."""

from __future__ import annotations

from datetime import datetime

from mailbot.cases.deadlines import deadlines_for, receipt_date
from mailbot.cases.models import Case


def new_case(received: datetime, number: int = 1, **changes: object) -> Case:
    """Not yet added to a session; `changes` set any field (status, requester, ...)."""
    due = deadlines_for(receipt_date(received))
    case = Case(
        reference=f"JAIMY-PRIV-{due.receipt_date.year}-{number:04d}",
        requester=f"requester{number}@example.org",
        requester_name=f"Requester {number}",
        language="en",
        detected_language="en",
        primary="access",
        labels="access",
        confidence=0.9,
        received_at=received,
        receipt_date=due.receipt_date,
        legal_due=due.legal_due,
        target_due=due.target_due,
        extended_due=due.extended_due,
        rule_version=due.rule_version,
    )
    for name, value in changes.items():
        setattr(case, name, value)
    return case
