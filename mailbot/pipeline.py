"""The stages one stored inbound mail goes through, inside one database transaction.

parse -> screen -> thread -> classify -> identity -> case -> draft. The decisions are
made by pure functions (mail.parse, triage.*, classifiers, cases.deadlines,
replies.render); this module records them. Either everything a mail causes (the case,
its audit events, the queued acknowledgement) is committed, or nothing is, and the
worker quarantines the mail with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select

from classifiers import Classification, Classifier
from mailbot.cases.audit import append_event
from mailbot.cases.deadlines import deadlines_for, receipt_date
from mailbot.cases.handling import Handling, continue_case, respond_to_new_case
from mailbot.cases.models import Case, CaseStatus, OutboundMessage
from mailbot.cases.reference import next_reference
from mailbot.cases.verification import (
    check_documents,
    record_attachments,
    settle_id_copies,
    strongest_kind,
)
from mailbot.config import Settings
from mailbot.mail.parse import MalformedMail, ParsedMail, parse_mail
from mailbot.replies.drafts import mail_thread
from mailbot.sealing import Sealer
from mailbot.store.models import Disposition, InboundMessage, utcnow
from mailbot.store.sealed import erase_mail, stored_raw
from mailbot.triage.id_evidence import IdCheck
from mailbot.triage.screen import Screening, screen
from mailbot.triage.thread import ThreadClues, same_requester, thread_clues

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Bot:
    """What the pipeline needs besides the mail: settings and the loaded classifier."""

    settings: Settings
    classifier: Classifier
    sealer: Sealer

    @property
    def handling(self) -> Handling:
        return Handling.of(self.settings, self.sealer)


def check_documents_first(raw: bytes, bot: Bot) -> dict[int, IdCheck] | None:
    """The ID check of an answerable mail's documents, run before its transaction (OCR
    takes seconds); None when the mail will not get that far."""
    try:
        mail = parse_mail(raw)
    except MalformedMail:
        return None
    if not mail.attachments or not _screening(mail, bot).answerable:
        return None
    return check_documents(mail)


def handle(
    session: Session,
    inbound: InboundMessage,
    bot: Bot,
    checks: Mapping[int, IdCheck] | None = None,
) -> None:
    """Decide what `inbound` is and record it; sets its disposition. `checks`: the ID
    check of its documents when the caller ran it already (check_documents_first)."""
    inbound.handled_at = utcnow()
    try:
        mail = parse_mail(stored_raw(inbound, bot.sealer))
    except MalformedMail as exc:
        _settle(session, inbound, Disposition.QUARANTINED, exc.reason)
        return
    if mail.sender is not None and len(mail.sender) > 320:
        _settle(
            session,
            inbound,
            Disposition.QUARANTINED,
            "sender address longer than 320 characters (RFC 5321 limit)",
        )
        return
    inbound.sender = mail.sender
    # The parser's normalised form, so copies and replies compare equal.
    inbound.message_id = (
        mail.message_id if mail.message_id and len(mail.message_id) <= 1000 else None
    )
    screening = _screening(mail, bot)
    inbound.flags = " ".join(screening.flags)
    if not screening.answerable:
        _settle(session, inbound, Disposition(screening.verdict.value), screening.reason)
        return
    assert mail.sender is not None  # an answerable mail has a sender address
    if not (mail.subject.strip() or mail.text.strip() or mail.attachments):
        # Nothing to read or acknowledge; a person decides whether it meant something.
        _settle(
            session,
            inbound,
            Disposition.QUARANTINED,
            "empty message: no subject, text or attachment",
        )
        return
    copy_of = _earlier_copy(session, inbound)
    if copy_of is not None and copy_of.disposition == Disposition.DISMISSED:
        # The DPO set the first copy aside: the same decision erases this one at once
        # (its attachments recorded as rows, unchecked, only to mark them gone).
        record_attachments(session, inbound, mail, checks or {})
        erase_mail(session, inbound, bot.sealer, utcnow())
        _settle(session, inbound, Disposition.DISMISSED, f"copy of mail {copy_of.id}, dismissed")
        return
    if copy_of is not None:
        inbound.case_id = copy_of.case_id
        _settle(
            session,
            inbound,
            Disposition.DUPLICATE,
            f"same Message-ID as mail {copy_of.id}, already handled",
        )
        if copy_of.case_id is not None and mail.attachments:
            # Its ID copy is the first copy's: it goes the same way.
            record_attachments(session, inbound, mail, checks)
            case = session.get_one(Case, copy_of.case_id)
            settle_id_copies(session, case, bot.sealer, utcnow())
        return
    clues = thread_clues(mail, bot.settings.reference_prefix)
    existing = _find_case(session, clues, mail.sender)
    attachments = record_attachments(session, inbound, mail, checks)
    now = utcnow()
    if existing is not None:
        _join(session, inbound, existing)
        reading = bot.classifier.classify(mail.subject, mail.text)
        continue_case(session, existing, reading, attachments, bot.handling, inbound.received_at)
        return
    if _names_foreign_case(session, clues, mail.sender):
        # Someone quoting another person's case reference: a case of its own, flagged.
        inbound.flags = " ".join(filter(None, [inbound.flags, "foreign_reference"]))
    classification = bot.classifier.classify(mail.subject, mail.text)
    case = _open_case(session, inbound, mail, classification, strongest_kind(attachments), bot)
    inbound.case_id = case.id
    _settle(session, inbound, Disposition.CASE_OPENED, None)
    thread = mail_thread(inbound.id, mail.message_id, mail.references, mail.subject)
    respond_to_new_case(session, case, mail, attachments, thread, bot.handling, now)


def _screening(mail: ParsedMail, bot: Bot) -> Screening:
    return screen(
        mail,
        own_addresses=frozenset({bot.settings.sender}),
        own_domains=frozenset({bot.settings.message_id_domain}),
    )


def quarantine(session: Session, inbound: InboundMessage, reason: str) -> None:
    inbound.handled_at = utcnow()
    _settle(session, inbound, Disposition.QUARANTINED, reason)


def _settle(
    session: Session, inbound: InboundMessage, disposition: Disposition, reason: str | None
) -> None:
    inbound.disposition = disposition
    inbound.reason = reason[:1000] if reason else None
    session.add(inbound)


def _earlier_copy(session: Session, inbound: InboundMessage) -> InboundMessage | None:
    """The first handled mail with the same Message-ID (a Cc delivered twice, a resend)."""
    if inbound.message_id is None:
        return None
    return session.exec(
        select(InboundMessage)
        .where(InboundMessage.message_id == inbound.message_id)
        .where(InboundMessage.id != inbound.id)
        .where(InboundMessage.disposition != Disposition.PENDING)
        .where(InboundMessage.disposition != Disposition.QUARANTINED)
        .order_by(col(InboundMessage.id))
        .limit(1)
    ).first()


def _find_case(session: Session, clues: ThreadClues, sender: str) -> Case | None:
    """The case this mail continues, if any; only ever one of the sender's own cases."""
    if clues.empty:
        return None
    candidates: list[Case] = []
    if clues.message_ids:
        ids = list(clues.message_ids)
        ours = select(OutboundMessage.case_id).where(col(OutboundMessage.message_id).in_(ids))
        theirs = select(InboundMessage.case_id).where(col(InboundMessage.message_id).in_(ids))
        case_ids = {*session.exec(ours).all(), *session.exec(theirs).all()} - {None}
        candidates += session.exec(select(Case).where(col(Case.id).in_(case_ids))).all()
    if clues.references:
        refs = list(clues.references)
        candidates += session.exec(select(Case).where(col(Case.reference).in_(refs))).all()
    # A closed case is not reopened by a reply: the mail is then a new request with a
    # clock of its own.
    own = [
        case
        for case in candidates
        if same_requester(case.requester, sender) and case.status != CaseStatus.CLOSED
    ]
    return min(own, key=lambda case: case.id or 0) if own else None


def _names_foreign_case(session: Session, clues: ThreadClues, sender: str) -> bool:
    if not clues.references:
        return False
    named = session.exec(select(Case.requester).where(col(Case.reference).in_(clues.references)))
    return any(not same_requester(requester, sender) for requester in named.all())


def _join(session: Session, inbound: InboundMessage, case: Case) -> None:
    assert case.id is not None
    inbound.case_id = case.id
    append_event(session, case.id, "follow_up_received", "bot", {"inbound_id": inbound.id})
    _settle(session, inbound, Disposition.FOLLOW_UP, f"joined case {case.reference}")


def _open_case(
    session: Session,
    inbound: InboundMessage,
    mail: ParsedMail,
    classification: Classification,
    id_document: str,
    bot: Bot,
) -> Case:
    assert mail.sender is not None
    deadlines = deadlines_for(receipt_date(inbound.received_at), bot.settings.target_days)
    case = Case(
        reference=next_reference(
            session, bot.settings.reference_prefix, deadlines.receipt_date.year
        ),
        requester=mail.sender,
        requester_name=mail.sender_name[:300],
        language=classification.reply_language,
        detected_language=classification.language[:8],
        primary=classification.primary,
        labels=" ".join(classification.labels),
        confidence=classification.confidence,
        needs_triage=classification.needs_triage,
        received_at=inbound.received_at,
        receipt_date=deadlines.receipt_date,
        legal_due=deadlines.legal_due,
        target_due=deadlines.target_due,
        extended_due=deadlines.extended_due,
        rule_version=deadlines.rule_version,
        id_document=id_document,
    )
    session.add(case)
    session.flush()
    assert case.id is not None
    append_event(
        session,
        case.id,
        "case_opened",
        "bot",
        {
            "inbound_id": inbound.id,
            "labels": list(classification.labels),
            "language": case.language,
            "confidence": round(classification.confidence, 3),
            "needs_triage": classification.needs_triage,
            "receipt_date": case.receipt_date.isoformat(),
            "legal_due": case.legal_due.isoformat(),
            "rule_version": case.rule_version,
            "id_document": id_document,
            "flags": inbound.flags,
        },
    )
    return case
