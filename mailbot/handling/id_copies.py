"""When a case's ID copies go, decided from values (LEGAL.md §2.5: kept only until their
check). A copy stays while the DPO is to look at it (`mailbot cases verify`) or while
the DPO's reading of a triaged case, which decides whether anyone must look at it, is
still to come; otherwise it goes with the mail's handling or the DPO's decision, and
the worker's round deletes any a case moved past without either (`mailbot.schedule`).
"""

from __future__ import annotations

from typing import Protocol

from mailbot.cases.models import CaseStatus
from mailbot.handling.plan import DiscardIdCopies, Step


class CaseState(Protocol):
    """What of a case these rules read: a Case row, or just these columns of it (the
    figures read no more, so no name is unsealed for them)."""

    @property
    def status(self) -> str: ...
    @property
    def needs_triage(self) -> bool: ...
    @property
    def identity_verified(self) -> bool | None: ...
    @property
    def id_copy_in_review(self) -> bool: ...


def awaits_review(case: CaseState) -> bool:
    """A document waits for the DPO's eye (`mailbot cases verify`): keep it until then.
    Set when the bot holds one for the check (HoldForCheck); ended by the check, by a
    decision that settles the copies without one, or by the case's end."""
    return (
        case.id_copy_in_review
        and case.identity_verified is None
        and case.status not in (CaseStatus.ANSWERED, CaseStatus.CLOSED)
    )


def awaits_reading(case: CaseState, flagged: bool = False) -> bool:
    """The DPO is to decide what the case asks (`mailbot cases decide`), and with it
    whether an ID copy must be looked at: keep the copies until then. `flagged`: a
    follow-up flags it now. Only an open case not yet answered can have its reading
    decided (`handling.review.decide_reading`)."""
    return (
        (case.needs_triage or flagged)
        and case.status in (CaseStatus.NEW, CaseStatus.IN_PROGRESS)
        and case.identity_verified is None
    )


def keeps_id_copies(case: CaseState, flagged: bool = False) -> bool:
    """Whether the case's ID copies are still needed: the DPO's eye or the DPO's reading
    waits for them. Otherwise their check is over (LEGAL.md §2.5) and they go."""
    return awaits_review(case) or awaits_reading(case, flagged)


def why_id_copies_kept(case: CaseState | None) -> str:
    """What a case's ID copy waits for, for the figures and the alerts (no personal
    data): "identity_check", "reading", or "nothing" (the next round deletes it)."""
    # The reading first: until it is decided, the DPO's check is refused (verify_by_eye).
    if case is not None and awaits_reading(case):
        return "reading"
    if case is not None and awaits_review(case):
        return "identity_check"
    return "nothing"


def settle_id_copies(review_pending: bool) -> list[Step]:
    """After the bot handled a mail of the case: every ID copy goes, unless the DPO still
    has to look at it. (Documents the check did not read as an ID stay sealed: a quote
    or a photo of the works may be what a request is about.)"""
    return [] if review_pending else [DiscardIdCopies()]
