"""Drafting the replies of a case: rendered from templates, queued or held for the DPO.

Which drafts go out on their own is the catalogue's (LEGAL.md §4); a reply an address
receives more than ACKNOWLEDGEMENTS_PER_DAY times a day is held even so (RFC 3834 §2:
a loop with a misbehaving responder looks like that), and so is a reply to a domain
that had its day's share already (forged senders at one company's domain must not turn
the bot into a relay towards it). Held is not lost: the DPO approves it by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ScalarSelect, bindparam
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, func, select

from classifiers import RIGHTS
from mailbot.cases.audit import append_event
from mailbot.cases.lifecycle import current_due
from mailbot.cases.models import Case, OutboundMessage, OutboundStatus, reply_domain
from mailbot.config import Settings
from mailbot.database import reading_only
from mailbot.mail.compose import new_message_id, thread_references
from mailbot.replies.approval import AUTOMATIC
from mailbot.replies.catalogue import spec
from mailbot.replies.render import render_reply
from mailbot.store.models import InboundMessage, utcnow

ACKNOWLEDGEMENTS_PER_DAY = 3
# Replies a sending domain gets a day before the rest are held (MAILBOT_REPLIES_PER_DOMAIN).
# A free-mail domain is shared by unrelated people, who must not hold up one another's
# acknowledgements: its cap is ten times higher (MAILBOT_REPLIES_PER_FREE_MAIL_DOMAIN).
REPLIES_PER_DOMAIN = 20
REPLIES_PER_FREE_MAIL_DOMAIN = 200
FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        # international
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "yahoo.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me",
        "protonmail.com", "gmx.com", "mail.com", "zoho.com",
        # Belgium and its neighbours, where Jaimy's customers write from
        "telenet.be", "skynet.be", "proximus.be", "scarlet.be", "hotmail.be", "outlook.be",
        "live.be", "yahoo.be", "hotmail.fr", "outlook.fr", "live.fr", "yahoo.fr",
        "orange.fr", "free.fr", "laposte.net", "sfr.fr", "wanadoo.fr", "hotmail.nl",
        "outlook.nl", "live.nl", "ziggo.nl", "kpnmail.nl", "gmx.de", "gmx.net", "web.de",
        "t-online.de", "hotmail.de", "outlook.de", "yahoo.de", "pt.lu",
    }
)  # fmt: skip
_MAX_REFERENCES = 10


@dataclass(frozen=True, slots=True)
class Letterhead:
    """What every reply carries from the settings."""

    sender: str
    message_id_domain: str
    replies_per_domain: int = REPLIES_PER_DOMAIN
    replies_per_free_mail_domain: int = REPLIES_PER_FREE_MAIL_DOMAIN

    @classmethod
    def of(cls, settings: Settings) -> Letterhead:
        return cls(
            settings.sender,
            settings.message_id_domain,
            settings.replies_per_domain,
            settings.replies_per_free_mail_domain,
        )

    def domain_cap(self, domain: str) -> int:
        """How many replies `domain` gets a day before the rest wait for the DPO."""
        if domain in FREE_MAIL_DOMAINS:
            return self.replies_per_free_mail_domain
        return self.replies_per_domain


@dataclass(frozen=True, slots=True)
class Thread:
    """The conversation a reply continues: what it answers and the ids before it."""

    in_reply_to: str | None
    references: tuple[str, ...]
    inbound_id: int | None = None
    original_subject: str = ""


def case_context(case: Case, letterhead: Letterhead, original_subject: str) -> dict[str, object]:
    """What every template may read about a case (catalogue.COMMON_CONTEXT)."""
    # Only name rights the classifier is sure of: a letter must not state a guess as
    # fact. An unsure reading is the DPO's (triage): "your message about your data".
    rights = [label for label in case.label_list if label in RIGHTS and not case.needs_triage]
    return {
        "reference": case.reference,
        "receipt_date": case.receipt_date,
        "legal_due": current_due(case),
        "requester_name": case.requester_name,
        "original_subject": original_subject[:200],
        "sender": letterhead.sender,
        "rights": rights or ["other"],
    }


def draft_reply(
    session: Session,
    case: Case,
    template: str,
    extra: Mapping[str, object],
    letterhead: Letterhead,
    thread: Thread | None = None,
) -> OutboundMessage:
    """Render `template` for `case` and queue it, or hold it for the DPO."""
    assert case.id is not None
    thread = thread or case_thread(session, case)
    context = {**case_context(case, letterhead, thread.original_subject), **extra}
    rendered = render_reply(template, case.language, context)
    domain = reply_domain(case.requester)
    recent, to_domain = _recent_replies(session, case.requester, domain)
    held = (
        spec(template).needs_approval
        or recent >= ACKNOWLEDGEMENTS_PER_DAY
        or to_domain >= letterhead.domain_cap(domain)
    )
    reply = OutboundMessage(
        case_id=case.id,
        inbound_id=thread.inbound_id,
        kind=template,
        template=rendered.template,
        language=rendered.language,
        status=OutboundStatus.AWAITING_APPROVAL if held else OutboundStatus.QUEUED,
        to_address=case.requester,  # never Reply-To (DESIGN.md, Mail handling rules)
        subject=rendered.subject,
        body=rendered.body,
        drafted_body=rendered.body if held else None,
        message_id=new_message_id(case.reference, letterhead.message_id_domain),
        in_reply_to=thread.in_reply_to,
        references=" ".join(thread.references),
        approved_by=None if held else AUTOMATIC,
    )
    session.add(reply)
    session.flush()
    append_event(
        session,
        case.id,
        "reply_held" if held else "reply_queued",
        "bot",
        {
            "outbound_id": reply.id,
            "kind": reply.kind,
            "template": reply.template,
            "language": reply.language,
            "replies_to_address_last_24h": recent,
            "replies_to_domain_last_24h": to_domain,
        },
    )
    return reply


def letters_of(session: Session, case: Case) -> frozenset[str]:
    """The kinds of the case's letters drafted, queued or sent (not rejected)."""
    kinds = session.exec(
        select(OutboundMessage.kind)
        .where(OutboundMessage.case_id == case.id)
        .where(OutboundMessage.status != OutboundStatus.REJECTED)
    )
    return frozenset(kinds.all())


def sent_letters_of(session: Session, case: Case) -> frozenset[str]:
    """The kinds of the case's letters sent."""
    kinds = session.exec(
        select(OutboundMessage.kind)
        .where(OutboundMessage.case_id == case.id)
        .where(OutboundMessage.status == OutboundStatus.SENT)
    )
    return frozenset(kinds.all())


def mail_thread(
    inbound_id: int | None, message_id: str | None, references: tuple[str, ...], subject: str
) -> Thread:
    """The thread of a reply to one inbound mail."""
    return Thread(
        in_reply_to=message_id,
        references=tuple(thread_references(message_id, references)),
        inbound_id=inbound_id,
        original_subject=subject,
    )


def case_thread(session: Session, case: Case) -> Thread:
    """A later reply continues the whole conversation: the requester's last mail is what
    it answers, and the ids of every mail of the case so far are its references."""
    inbound = session.exec(
        select(InboundMessage.id, InboundMessage.message_id, InboundMessage.received_at)
        .where(InboundMessage.case_id == case.id)
        .order_by(col(InboundMessage.received_at), col(InboundMessage.id))
    ).all()
    outbound = session.exec(
        select(OutboundMessage.message_id, OutboundMessage.created_at)
        .where(OutboundMessage.case_id == case.id)
        .where(OutboundMessage.status != OutboundStatus.REJECTED)
    ).all()
    dated = [(at, mid) for _, mid, at in inbound if mid] + [(at, mid) for mid, at in outbound]
    ids = tuple(dict.fromkeys(mid for _, mid in sorted(dated)))[-_MAX_REFERENCES:]
    last_in = next((row for row in reversed(inbound) if row[1]), None)
    return Thread(
        in_reply_to=last_in[1] if last_in else None,
        references=ids,
        inbound_id=last_in[0] if last_in else None,
    )


def _recent_replies(session: Session, address: str, domain: str) -> tuple[int, int]:
    """Replies drafted in the last 24 hours to `address`, and to `domain`."""
    since = utcnow() - timedelta(days=1)
    with reading_only(session, OutboundMessage) as database:
        counts = database.execute(_RECENT, {"address": address, "domain": domain, "since": since})
        to_address, to_domain = counts.one()
    return int(to_address), int(to_domain)


def _count_since(column: Mapped[str], value: str) -> ScalarSelect[int]:
    return (
        select(func.count())
        .select_from(OutboundMessage)
        .where(column == bindparam(value))
        .where(OutboundMessage.created_at >= bindparam("since"))
        .scalar_subquery()
    )


# Two counts in one query, each walking its own index; built once, as it runs per draft.
_RECENT = select(
    _count_since(col(OutboundMessage.to_address), "address"),
    _count_since(col(OutboundMessage.to_domain), "domain"),
)
