"""What the DPO does with a drafted reply (LEGAL.md §4): edit, approve, reject.

A draft with fill-ins `[[ ... ]]`, or a letter whose edit lost the complaint or court
paragraph, cannot be approved; nor can a draft of a closed case, or an extension
notice once the deadline it would extend has passed.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from mailbot.actions import Done, NotFound, Refused, who
from mailbot.cases.deadlines import receipt_date
from mailbot.cases.lifecycle import renew_id_wait
from mailbot.cases.models import Case, OutboundMessage
from mailbot.replies import approval


def find_draft(session: Session, draft_id: int) -> OutboundMessage:
    draft = session.get(OutboundMessage, draft_id)
    if draft is None or draft.kind == "dpo_warning":  # the DPO's own reminders are no drafts
        raise NotFound(f"no draft {draft_id}")
    return draft


def edit_draft(
    session: Session, draft_id: int, text: str, actor: str, based_on: str | None = None
) -> Done:
    """Replace the draft's text (audited with the lengths before and after); refused when
    the text changed since the version `based_on` the editor started from."""
    name, draft = who(actor), find_draft(session, draft_id)
    changed = approval.edit(session, draft, text, name, based_on)
    return Done(f"draft {draft_id} {'changed' if changed else 'unchanged'}", draft_id)


def approve_draft(session: Session, draft_id: int, actor: str, now: datetime) -> Done:
    """Queue the draft for sending; the worker sends it on its next round."""
    name, draft = who(actor), find_draft(session, draft_id)
    # The Brussels date: deadlines end at midnight there, not on the host's clock.
    approval.approve(session, draft, name, receipt_date(now))
    return Done(f"draft {draft_id} approved by {name}; it goes out with the next round", draft_id)


def reject_draft(session: Session, draft_id: int, actor: str, why: str, now: datetime) -> Done:
    """The draft never goes out; the reason lands in the audit trail. Rejecting the
    "not identified" closure of a case whose ID copy has not come is waiting longer for
    it: the clock drafts the closure again a full wait after now (mailbot.schedule)."""
    name, draft = who(actor), find_draft(session, draft_id)
    if not why.strip():
        raise Refused("say why the draft must not go out (--why): the audit trail keeps it")
    approval.reject(session, draft, name, why.strip())
    case = session.get_one(Case, draft.case_id)
    if draft.kind == "not_identified" and _waits_for_its_copy(case):
        renew_id_wait(session, case, now, name, "closure rejected")
    return Done(f"draft {draft_id} rejected", draft_id)


def _waits_for_its_copy(case: Case) -> bool:
    """An ID copy was asked for, none came and nobody checked an identity otherwise."""
    return (
        case.id_requested_at is not None
        and case.id_received_at is None
        and case.identity_verified is None
    )
