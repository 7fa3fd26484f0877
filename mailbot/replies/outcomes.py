"""What a sent reply means for its case: acknowledged, extended, answered, closed.

The outbox calls `after_sent` in the transaction that records the sending, so a case is
extended only once the requester was told (LEGAL.md §1.5), and closed exactly when the
letter that closes it has left, never before. It must not raise: the mail is gone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlmodel import Session, col, select

from classifiers import RIGHTS
from mailbot.cases.audit import append_event
from mailbot.cases.deadlines import receipt_date
from mailbot.cases.lifecycle import (
    IllegalTransition,
    close,
    extend,
    identity_request_sent,
    transition,
)
from mailbot.cases.models import (
    Case,
    CaseEvent,
    CaseOutcome,
    CaseStatus,
    OutboundMessage,
    OutboundStatus,
)
from mailbot.replies.approval import AUTOMATIC, missing_remedies, under_approval
from mailbot.replies.catalogue import CATALOGUE, TAKES_EFFECT_AT_ONCE

# The first answer a requester gets: the acknowledgement, or for a marketing objection
# or a consent withdrawal the confirmation that replaces it. Never the DPO's warnings.
FIRST_ANSWERS: Final = frozenset({"acknowledgement", "objection_done", "consent_withdrawn"})

# Letters refusing to act (Art. 12(4)); "not identified" refuses for want of identity.
REFUSING_LETTERS: Final = frozenset({"refusal", "not_identified"})

# Confirmations of rights that take effect at once settle only those rights.
_IMMEDIATE_RIGHTS = frozenset(TAKES_EFFECT_AT_ONCE)


def after_sent(session: Session, case: Case, reply: OutboundMessage, at: datetime) -> None:
    kind = reply.kind
    _record_facts(session, case, reply, at)
    if case.status == CaseStatus.CLOSED:
        return  # a late copy of a letter (a resend after a crash) changes nothing
    if asks_for_identity(case, reply):
        identity_request_sent(session, case, at)
    if kind == "acknowledgement" and case.status == CaseStatus.NEW:
        transition(session, case, CaseStatus.IN_PROGRESS, "bot", "acknowledged")
        return
    if kind == "extension_notice":
        _extended(session, case, reply, at)
        _nothing_left_to_approve(session, case, reply)
        return
    letter = CATALOGUE.get(kind)
    outcome = letter.closes if letter is not None else None
    if outcome is None or (letter and letter.confirms and not _confirmed_whole(case)):
        _nothing_left_to_approve(session, case, reply)
        return
    if outcome in _SETTLES_WHAT_IT_READ and _flagged_by_a_follow_up(session, case):
        _settled_in_part(session, case, reply)
        return
    if outcome == CaseOutcome.ANSWERED:
        transition(session, case, CaseStatus.ANSWERED, "bot", f"{kind} sent")
    close(session, case, outcome, "bot", at, f"{kind} sent")
    retire_waiting_drafts(session, case)


def _confirmed_whole(case: Case) -> bool:
    """Whether a confirmation completes the case's answer: every other right it asks
    was answered already (by a letter sent before a follow-up was read), and no
    follow-up asked more that the DPO has still to read (FlagForTriage: the labels do
    not say it yet)."""
    if case.needs_triage:
        return False
    others = [r for r in case.label_list if r in RIGHTS and r not in _IMMEDIATE_RIGHTS]
    return all(right in case.answered_list for right in others)


# Letters that settle the request as the DPO read it: an answer, a refusal, the
# redirect. The "not identified" letter ends every request of the requester alike.
_SETTLES_WHAT_IT_READ = frozenset(
    {CaseOutcome.ANSWERED, CaseOutcome.REFUSED, CaseOutcome.NOT_A_REQUEST}
)


def _flagged_by_a_follow_up(session: Session, case: Case) -> bool:
    """Whether the case waits for the DPO's reading because a follow-up asked more
    since the case was read, not because the classifier was unsure of its first mail
    (a refusal of such an unread request settles it whole)."""
    if not case.needs_triage:
        return False
    last = session.exec(
        select(CaseEvent.kind)
        .where(CaseEvent.case_id == case.id)
        .where(col(CaseEvent.kind).in_(["follow_up_new_rights", "reading_decided"]))
        .order_by(col(CaseEvent.id).desc())
    ).first()
    return last == "follow_up_new_rights"


def _settled_in_part(session: Session, case: Case, reply: OutboundMessage) -> None:
    """A letter settling the case (an answer, a refusal, the redirect) drafted before a
    follow-up asked more, which the DPO has still to read (FlagForTriage): it settles
    what the case asked then, and the case stays open for the rest instead of closing
    with the follow-up's request unanswered."""
    assert case.id is not None
    rights = [r for r in case.label_list if r in RIGHTS and r not in _IMMEDIATE_RIGHTS]
    answered = case.answered_list + [r for r in rights if r not in case.answered_list]
    case.answered_rights = " ".join(answered)
    session.add(case)
    append_event(
        session, case.id, "answered_in_part", "bot", {"kind": reply.kind, "rights": answered}
    )
    _nothing_left_to_approve(session, case, reply)


def _nothing_left_to_approve(session: Session, case: Case, reply: OutboundMessage) -> None:
    """A case awaiting approval whose last letter the DPO approved left, with none
    other waiting for or approved and not sent, is in progress again: else it would sit
    on the DPO's list with nothing to approve, and its reading (a follow-up's) could
    never be decided. An automatic letter leaving changes nothing of that."""
    if case.status != CaseStatus.AWAITING_APPROVAL or reply.approved_by in (None, AUTOMATIC):
        return
    assert case.id is not None
    if not under_approval(session, case.id, reply.id):
        why = f"{reply.kind} sent; nothing else waits for approval"
        transition(session, case, CaseStatus.IN_PROGRESS, "bot", why)


def asks_for_identity(case: Case, reply: OutboundMessage) -> bool:
    """Whether `reply` is the letter asking for the ID copy: the ID request itself, or
    the acknowledgement drafted with it (`lifecycle.request_identity` put the case in
    awaiting_identity with a doubt; no copy arrived or was checked since)."""
    if case.status != CaseStatus.AWAITING_IDENTITY or case.doubt_reason is None:
        return False
    if reply.kind == "id_request":
        return True
    return (
        reply.kind == "acknowledgement"
        and case.id_received_at is None
        and case.identity_verified is None
    )


def _record_facts(session: Session, case: Case, reply: OutboundMessage, at: datetime) -> None:
    """What the figures sum later (mailbot.figures), recorded as it happens."""
    if reply.kind in FIRST_ANSWERS and case.acknowledged_at is None:
        case.acknowledged_at = at
        case.acknowledge_seconds = acknowledge_seconds(case.received_at, at)
        session.add(case)
    if reply.kind in REFUSING_LETTERS:
        reply.remedies_included = not missing_remedies(reply.body, reply.language)
        case.refusals_sent += 1
        case.refusals_with_remedies += reply.remedies_included
        session.add(reply)
        session.add(case)


def acknowledge_seconds(received_at: datetime, answered_at: datetime) -> int:
    """Whole seconds from receipt to the first answer (never negative)."""
    return max(int((answered_at - received_at).total_seconds()), 0)


def _extended(session: Session, case: Case, reply: OutboundMessage, at: datetime) -> None:
    actor = reply.approved_by or "bot"
    assert case.id is not None
    if case.extension_notified_on is not None:
        # A second notice: the case was extended already; not a late notice.
        append_event(session, case.id, "extension_notice_repeated", "bot", {})
        return
    try:
        extend(session, case, case.extension_reason or "", receipt_date(at), actor)
    except IllegalTransition as refused:
        # Sent after the deadline (a retry, a late approval): it extends nothing, and
        # compliance must see it (LEGAL.md §6: extensions notified within the month).
        case.late_extension_notice = True
        session.add(case)
        append_event(session, case.id, "extension_notice_late", "bot", {"why": str(refused)})


def retire_waiting_drafts(session: Session, case: Case) -> None:
    """A closed case answers nothing more: drafts still waiting would contradict it."""
    waiting = session.exec(
        select(OutboundMessage)
        .where(OutboundMessage.case_id == case.id)
        .where(OutboundMessage.status == OutboundStatus.AWAITING_APPROVAL)
    ).all()
    for draft in waiting:
        draft.status = OutboundStatus.REJECTED
        session.add(draft)
        assert case.id is not None
        detail = {"outbound_id": draft.id, "kind": draft.kind, "why": "case closed"}
        append_event(session, case.id, "reply_rejected", "bot", detail)
