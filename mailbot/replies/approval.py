"""The DPO's decisions on drafts (LEGAL.md §4): approve, reject, edit, each audited.

A draft that still holds a fill-in, or a refusal-type letter whose edit lost the
complaint or court paragraph (LEGAL.md §3.4), cannot be approved: `approval_problems`
says what is missing. Approving an extension notice is what extends the case.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from mailbot.cases.audit import append_event
from mailbot.cases.deadlines import add_months, can_extend, next_working_day
from mailbot.cases.lifecycle import acted_on, transition
from mailbot.cases.models import Case, CaseStatus, OutboundMessage, OutboundStatus
from mailbot.cases.refused import Refused
from mailbot.replies.catalogue import CATALOGUE, unfilled

# Words that must survive in a letter closing with the remedies, per reply language:
# the authority (with its address) and a court.
_AUTHORITY = ("Gegevensbeschermingsautoriteit", "Autorité de protection des données", "GBA", "APD")
_ADDRESS = ("Drukpersstraat 35", "Rue de la Presse 35")
_COURT = {
    "nl": re.compile(r"\b(?:rechter|rechtbank)", re.IGNORECASE),
    "fr": re.compile(r"\b(?:tribuna(?:l|ux)|juridiction|juge)\b", re.IGNORECASE),
    "de": re.compile(r"\bGericht", re.IGNORECASE),
    "en": re.compile(r"\bcourts?\b", re.IGNORECASE),
}


# The approver recorded on letters that need nobody's approval (replies.drafts).
AUTOMATIC = "automatic"


class ApprovalRefused(Refused):
    """The draft cannot be approved (or changed) as it is; the message says why."""


def approval_problems(draft: OutboundMessage, case: Case) -> list[str]:
    """Why `draft` of `case` cannot go out yet; empty when it can."""
    problems = [f"fill in: {text or '...'}" for text in unfilled(draft.body)]
    spec = CATALOGUE.get(draft.kind)
    if spec is not None and spec.closes_with_remedies:
        problems += missing_remedies(draft.body, draft.language)
    if draft.kind == "not_identified" and _card_awaits_check(case):
        problems.append(
            "an ID copy came after this letter was drafted: record its check first (the"
            " identity check on the case), which rejects this letter if it proves who they are"
        )
    return problems


def missing_remedies(body: str, language: str) -> list[str]:
    """What a letter closing with the remedies (LEGAL.md §3.4) lacks; empty when whole."""
    problems = []
    if not any(word in body for word in _AUTHORITY) or not any(a in body for a in _ADDRESS):
        problems.append("the right to complain to the GBA/APD, with its address, is missing")
    court = _COURT.get(language)
    if court is None or not court.search(body):
        problems.append("the right to a judicial remedy is missing")
    return problems


def approve(session: Session, draft: OutboundMessage, approver: str, today: date) -> None:
    _pending(draft)
    case = session.get_one(Case, draft.case_id)
    problems = approval_problems(draft, case)
    if problems:
        raise ApprovalRefused(f"draft {draft.id} cannot be approved: " + "; ".join(problems))
    acted_on(case)  # approved on this reading of the case (mailbot.actions.acting)
    if case.status == CaseStatus.CLOSED:
        raise ApprovalRefused(f"draft {draft.id}: case {case.reference} is closed")
    if draft.kind == "extension_notice" and not can_extend(
        today, case.legal_due, case.extension_reason or ""
    ):
        # The extension itself is recorded when the notice is sent (replies.outcomes).
        raise ApprovalRefused(f"draft {draft.id}: too late to extend (due {case.legal_due})")
    if draft.kind == "refusal" and today > next_working_day(add_months(case.receipt_date, 1)):
        # LEGAL.md §3.4: a refusal is due within one month, never paused or extended.
        # It must still go out; compliance sees that it was late.
        late = {"outbound_id": draft.id, "due": case.receipt_date.isoformat()}
        append_event(session, draft.case_id, "refusal_after_one_month", approver, late)
    draft.status = OutboundStatus.QUEUED
    draft.approved_by = approver
    session.add(draft)
    append_event(
        session,
        draft.case_id,
        "reply_approved",
        approver,
        {"outbound_id": draft.id, "kind": draft.kind},
    )


def _card_awaits_check(case: Case) -> bool:
    """An ID copy was received and nobody has recorded its check: refusing the requester
    for want of one would ignore it (handling.decide.late_identity)."""
    return case.identity_verified is None and case.id_received_at is not None


def reject(session: Session, draft: OutboundMessage, approver: str, why: str) -> None:
    _pending(draft)
    draft.status = OutboundStatus.REJECTED
    session.add(draft)
    append_event(
        session,
        draft.case_id,
        "reply_rejected",
        approver,
        {"outbound_id": draft.id, "kind": draft.kind, "why": why},
    )
    case = session.get_one(Case, draft.case_id)
    if case.status == CaseStatus.AWAITING_APPROVAL and not under_approval(
        session, draft.case_id, draft.id
    ):
        transition(session, case, CaseStatus.IN_PROGRESS, approver, "draft rejected")


def text_digest(body: str) -> str:
    """Names one version of a draft's text: an editor sends back the version it started
    from, so a save over someone else's newer edit is refused instead of losing it."""
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def edit(
    session: Session, draft: OutboundMessage, body: str, editor: str, based_on: str | None = None
) -> bool:
    """Replace the draft's text; False when nothing changed. `based_on`: the digest of
    the text the editor started from (None: the command line, which reads it just before)."""
    _pending(draft)
    if based_on is not None and based_on != text_digest(draft.body):
        raise ApprovalRefused(
            f"draft {draft.id} was changed by someone else after you opened it; your text "
            "was not saved: compare it with theirs below and save again"
        )
    text = body.replace("\r\n", "\n").rstrip() + "\n"
    if text == draft.body:
        return False
    before = len(draft.body)
    draft.body = text
    session.add(draft)
    append_event(
        session,
        draft.case_id,
        "reply_edited",
        editor,
        {"outbound_id": draft.id, "chars_before": before, "chars_after": len(text)},
    )
    return True


def _pending(draft: OutboundMessage) -> None:
    if draft.status != OutboundStatus.AWAITING_APPROVAL:
        raise ApprovalRefused(f"draft {draft.id} is {draft.status}, not awaiting approval")


def under_approval(session: Session, case_id: int, besides: int | None) -> bool:
    """Whether a letter of the case other than `besides` waits for the DPO's approval,
    or was approved by them and has not left yet: the case awaits approval until none
    does (an approved answer still queued will close it, or answer it in part)."""
    approved_not_sent = and_(
        col(OutboundMessage.status) == OutboundStatus.QUEUED,
        col(OutboundMessage.approved_by).is_not(None),
        col(OutboundMessage.approved_by) != AUTOMATIC,
    )
    others = session.exec(
        select(OutboundMessage.id)
        .where(OutboundMessage.case_id == case_id)
        .where(
            or_(col(OutboundMessage.status) == OutboundStatus.AWAITING_APPROVAL, approved_not_sent)
        )
        .where(col(OutboundMessage.id) != (besides or 0))
    )
    return others.first() is not None
