"""The deadline a case is held to, and whether it was closed in time.

One rule for everyone who measures: `lifecycle.close` records `closed_on_time` and
`closed_by_target` with it the moment a case closes, and `mailbot.metrics` recomputes
the same from the case's facts for `mailbot report`.

Each case is held to the deadline that applies to it: a refusal to the unpaused,
unextended month (LEGAL.md §1.7, §3.4); a case whose clock is still stopped for an ID
copy to the month plus the days waited so far; any other to its current deadline.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol

from mailbot.cases.deadlines import deadlines_for, is_late, paused_due, receipt_date
from mailbot.cases.models import CaseOutcome


class CaseDates(Protocol):
    """What the rules below read of a case: a `Case`, or a row of just these columns
    (the dashboard places thousands of open cases without loading whole cases)."""

    @property
    def outcome(self) -> str | None: ...
    @property
    def receipt_date(self) -> date: ...
    @property
    def legal_due(self) -> date: ...
    @property
    def target_due(self) -> date: ...
    @property
    def extended_due(self) -> date: ...
    @property
    def extension_notified_on(self) -> date | None: ...
    @property
    def clock_paused(self) -> bool: ...
    @property
    def id_requested_at(self) -> datetime | None: ...
    @property
    def id_received_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...


CASE_DATES = (
    "outcome",
    "receipt_date",
    "legal_due",
    "target_due",
    "extended_due",
    "extension_notified_on",
    "clock_paused",
    "id_requested_at",
    "id_received_at",
    "closed_at",
)


def current_due(case: CaseDates) -> date:
    """The deadline the case is held to now: the extended one once it was notified."""
    return case.extended_due if case.extension_notified_on is not None else case.legal_due


def due_after_pause(case: CaseDates, stopped_until: datetime, months: int = 1) -> date:
    """The deadline of a case whose clock stood still from the ID request to
    `stopped_until` (LEGAL.md §1.7); `months=3` for the extended one."""
    asked_on = identity_asked_on(case)
    got_on = max(receipt_date(stopped_until), asked_on)
    return paused_due(case.receipt_date, asked_on, got_on, months)


def days_paused(case: CaseDates, stopped_until: datetime) -> timedelta:
    return max(receipt_date(stopped_until) - identity_asked_on(case), timedelta(0))


def identity_asked_on(case: CaseDates) -> date:
    """The Brussels day the ID copy was asked for."""
    # A server clock behind the inbox's (INTERNALDATE) must not put the request first.
    assert case.id_requested_at is not None
    return max(receipt_date(case.id_requested_at), case.receipt_date)


def due_for(case: CaseDates, now: datetime) -> date:
    """The legal deadline `case` is measured against (module docstring)."""
    if case.outcome == CaseOutcome.REFUSED:
        return deadlines_for(case.receipt_date).legal_due
    if case.clock_paused and case.id_requested_at is not None:
        # Stopped from the ID request until the copy came (a copy waiting for the DPO's
        # eye counts as come), or until now if none has.
        return due_after_pause(case, case.id_received_at or case.closed_at or now)
    return current_due(case)


def target_for(case: CaseDates, now: datetime) -> date:
    """The internal target, on the same footing as `due_for` (a refusal's is unpaused)."""
    if case.outcome == CaseOutcome.REFUSED:
        return deadlines_for(case.receipt_date).target_due
    return case.target_due


def closed_in_time(case: CaseDates) -> tuple[bool, bool]:
    """(by the legal deadline, by the internal target) for a closed case."""
    assert case.closed_at is not None
    at = case.closed_at
    return not is_late(at, due_for(case, at)), not is_late(at, target_for(case, at))
