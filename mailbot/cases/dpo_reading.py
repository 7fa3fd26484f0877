"""The DPO settles what a case asks when the classifier was unsure (the triage list).

A triaged case got the neutral acknowledgement and nothing else. Once the DPO names
its rights (`mailbot cases decide REF --rights ...`), the case goes on as a new one
would have: marketing stops at once, the identity policy runs on the original mail,
an ID request or the draft answer follows; a misdirected mail gets the redirect.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from classifiers import LABELS, RIGHTS
from mailbot.cases.audit import append_event
from mailbot.cases.handling import IMMEDIATE, Handling, request_with_identity
from mailbot.cases.lifecycle import IllegalTransition, transition
from mailbot.cases.models import Case, CaseStatus
from mailbot.cases.suppression import suppress
from mailbot.cases.verification import settle_id_copies
from mailbot.mail.parse import parse_mail
from mailbot.replies.drafts import draft_reply
from mailbot.store.models import Attachment, InboundMessage
from mailbot.store.sealed import stored_raw


def decide_reading(
    session: Session, case: Case, labels: Sequence[str], actor: str, bot: Handling, now: datetime
) -> None:
    unknown = [label for label in labels if label not in LABELS]
    if not labels or unknown:
        raise IllegalTransition(f"not labels of the vocabulary: {unknown or 'none given'}")
    if not case.needs_triage:
        raise IllegalTransition(f"{case.reference} is not waiting for triage")
    if case.status not in (CaseStatus.NEW, CaseStatus.IN_PROGRESS):
        raise IllegalTransition(f"{case.reference} is {case.status}: nothing to decide")
    case.labels, case.primary, case.needs_triage = " ".join(labels), labels[0], False
    session.add(case)
    assert case.id is not None
    append_event(session, case.id, "reading_decided", actor, {"labels": list(labels)})
    rights = [label for label in labels if label in RIGHTS]
    immediate = [right for right in rights if right in IMMEDIATE]
    for right in immediate:
        suppress(session, case, right)
        draft_reply(session, case, IMMEDIATE[right], {}, bot.letterhead)
    if case.primary == "not_a_request":
        extra = {"service_contact": bot.settings.service_contact}
        draft_reply(session, case, "redirect", extra, bot.letterhead)
        transition(session, case, CaseStatus.AWAITING_APPROVAL, actor, "redirect drafted")
    elif len(immediate) < len(rights):
        first = _first_mail(session, case)
        mail = parse_mail(stored_raw(first, bot.sealer))
        attachments = list(
            session.exec(select(Attachment).where(Attachment.inbound_id == first.id)).all()
        )
        request_with_identity(session, case, mail, attachments, None, bot, now)
    elif rights:
        transition(session, case, CaseStatus.IN_PROGRESS, actor, "takes effect at once")
    settle_id_copies(session, case, bot.sealer, now)


def _first_mail(session: Session, case: Case) -> InboundMessage:
    first = session.exec(
        select(InboundMessage)
        .where(InboundMessage.case_id == case.id)
        .order_by(col(InboundMessage.received_at), col(InboundMessage.id))
    ).first()
    if first is None:
        raise IllegalTransition(f"{case.reference} has no mail to read")
    return first
