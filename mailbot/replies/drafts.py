"""Drafting the replies of a case: rendered from templates, queued or held for the DPO."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, func, select

from classifiers import RIGHTS
from mailbot.cases.audit import append_event
from mailbot.cases.models import Case, OutboundMessage, OutboundStatus, utcnow
from mailbot.mail.compose import new_message_id, thread_references
from mailbot.mail.parse import ParsedMail
from mailbot.replies.render import render_reply


def draft_acknowledgement(
    session: Session,
    inbound_id: int | None,
    mail: ParsedMail,
    case: Case,
    sender: str,
    message_id_domain: str,
) -> None:
    """Queue the acknowledgement of a newly opened case (LEGAL.md §3.1)."""
    assert case.id is not None and mail.sender is not None
    # Only name rights the classifier is sure of: the acknowledgement must not state a
    # guess as fact. An unsure reading is the DPO's (triage) and the mail says "your
    # message about your personal data".
    rights = [label for label in case.label_list if label in RIGHTS and not case.needs_triage]
    rendered = render_reply(
        "acknowledgement",
        case.language,
        {
            "reference": case.reference,
            "receipt_date": case.receipt_date,
            "legal_due": case.legal_due,
            "rights": rights or ["other"],
            "original_subject": mail.subject[:200],
            "requester_name": case.requester_name,
            "id_request": None,
            "sender": sender,
        },
    )
    # LEGAL.md §4: an acknowledgement goes out without approval, unless this address
    # already got several today: a loop with a misbehaving responder looks like that
    # (RFC 3834 §2), and a person writing that often is better answered by the DPO.
    recent = _recent_replies(session, mail.sender)
    held = recent >= ACKNOWLEDGEMENTS_PER_DAY
    reply = OutboundMessage(
        case_id=case.id,
        inbound_id=inbound_id,
        kind="acknowledgement",
        template=rendered.template,
        language=rendered.language,
        status=OutboundStatus.AWAITING_APPROVAL if held else OutboundStatus.QUEUED,
        to_address=mail.sender,  # never Reply-To (DESIGN.md, Mail handling rules)
        subject=rendered.subject,
        body=rendered.body,
        message_id=new_message_id(case.reference, message_id_domain),
        in_reply_to=mail.message_id,
        references=" ".join(thread_references(mail.message_id, mail.references)),
        approved_by=None if held else "automatic",
    )
    session.add(reply)
    append_event(
        session,
        case.id,
        "reply_held" if held else "reply_queued",
        "bot",
        {
            "kind": reply.kind,
            "template": reply.template,
            "language": reply.language,
            "replies_to_address_last_24h": recent,
        },
    )


ACKNOWLEDGEMENTS_PER_DAY = 3


def _recent_replies(session: Session, address: str) -> int:
    since = utcnow() - timedelta(days=1)
    count: int = session.exec(
        select(func.count())
        .select_from(OutboundMessage)
        .where(OutboundMessage.to_address == address)
        .where(OutboundMessage.created_at >= since)
    ).one()
    return count
