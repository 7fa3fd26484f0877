"""The shell around handling one stored inbound mail: read it, gather, decide, record.

parse -> screen -> thread -> classify -> identity -> case -> draft. `read_mail` parses
and screens the mail once and runs the ID check of its documents (OCR, seconds per
image) before any transaction; `handle` gathers the rows around it, asks the pure
`mailbot.handling` decisions for a plan and records it, all in the caller's
transaction. Either everything a mail causes (the case, its audit events, the queued
acknowledgement) is committed, or nothing is, and the worker quarantines the mail.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlmodel import Session, col, select

from classifiers import Classification, Classifier
from mailbot.cases.models import Case, CaseStatus, OutboundMessage, OutboundStatus
from mailbot.config import Settings
from mailbot.database import reading_only
from mailbot.handling.disposition import (
    MailReading,
    Surroundings,
    content_digest,
    decide_mail,
    normalised_message_id,
)
from mailbot.handling.record import Handling, record_mail, settle
from mailbot.mail.parse import MalformedMail, ParsedMail, parse_mail
from mailbot.sealing import Sealer
from mailbot.store.models import Disposition, InboundMessage, utcnow
from mailbot.store.sealed import stored_raw
from mailbot.triage.attached_letter import attached_letter
from mailbot.triage.identity import check_documents
from mailbot.triage.screen import screen
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


def read_mail(raw: bytes, settings: Settings) -> MailReading:
    """Parse and screen the mail once; check its documents when the bot will answer it.
    No database: the worker calls this before the mail's write transaction."""
    try:
        mail = parse_mail(raw)
    except MalformedMail as exc:
        return MailReading(None, exc.reason)
    screening = screen(
        mail,
        own_addresses=frozenset({settings.sender}),
        own_domains=frozenset({settings.message_id_domain}),
    )
    if not (mail.attachments and screening.answerable):
        return MailReading(mail, None, screening, {})
    checks = check_documents(mail)
    return MailReading(mail, None, screening, checks, attached_letter(mail, checks))


def classify_together(readings: Sequence[MailReading], classifier: Classifier) -> list[MailReading]:
    """The readings with the classifier's reading of every mail the bot will answer, done
    in one batch (the encoder is several times faster on many texts than on one at a
    time). A batch that fails leaves them unclassified: each is then classified alone
    while it is handled, and only a mail that fails alone is quarantined."""
    wanted = [reading for reading in readings if reading.needs_classifying]
    many = getattr(classifier, "classify_many", None)
    if len(wanted) < 2 or not callable(many):
        return list(readings)
    mails = [(reading.mail.subject, reading.classifier_text) for reading in wanted if reading.mail]
    try:
        results: list[Classification] = many(mails)
        found = dict(zip(map(id, wanted), results, strict=True))
    except Exception as exc:
        log.warning("classifying %d mails together failed (%s)", len(mails), type(exc).__name__)
        return list(readings)
    return [
        replace(reading, classification=found[id(reading)]) if id(reading) in found else reading
        for reading in readings
    ]


def handle(session: Session, inbound: InboundMessage, bot: Bot, reading: MailReading) -> None:
    """Decide what `inbound` is and record it; sets its disposition. `reading`: the mail
    as `read_mail` read it, before the transaction (so the OCR never runs inside one)."""
    handling = bot.handling
    around = gather(session, inbound, reading, handling) if reading.mail else Surroundings()
    now = utcnow()
    plan = decide_mail(reading, around, inbound, bot.settings, bot.classifier.classify, now)
    record_mail(session, inbound, plan, reading, handling, now)


def quarantine(session: Session, inbound: InboundMessage, reason: str) -> None:
    inbound.handled_at = utcnow()
    settle(session, inbound, Disposition.QUARANTINED, reason)


def gather(
    session: Session, inbound: InboundMessage, reading: MailReading, handling: Handling
) -> Surroundings:
    """The rows a decision about the mail needs."""
    mail = reading.mail
    assert mail is not None
    copy = _earlier_copy(session, inbound, mail, handling.sealer)
    copy_case = session.get(Case, copy.case_id) if copy and copy.case_id else None
    if mail.sender is None:
        return Surroundings(copy, copy_case)
    clues = thread_clues(mail, handling.settings.reference_prefix)
    case = _find_case(session, clues, mail.sender)
    pending, approved = _closures(session, case) if case is not None else ((), False)
    return Surroundings(
        earlier_copy=copy,
        copy_case=copy_case,
        case=case,
        foreign_reference=_names_foreign_case(session, clues, mail.sender),
        sender_known=handling.sender_known(session, mail.sender),
        pending_closures=pending,
        closure_approved=approved,
    )


def _closures(session: Session, case: Case) -> tuple[tuple[int, ...], bool]:
    """The case's "not identified" letters awaiting approval (a card arriving now still
    counts: `handling.decide.late_identity`), and whether one was approved and not
    failed (then it does not: the requester is being told; a failed one stays failed,
    `actions.outbox.requeue_failed`)."""
    if case.status != CaseStatus.AWAITING_APPROVAL or case.identity_verified is not None:
        return (), False  # the only state the clock's closure leaves a case in: no query
    found = session.exec(
        select(OutboundMessage.id, OutboundMessage.status)
        .where(OutboundMessage.case_id == case.id)
        .where(OutboundMessage.kind == "not_identified")
        .where(OutboundMessage.status != OutboundStatus.REJECTED)
    ).all()
    pending = tuple(
        draft_id
        for draft_id, status in found
        if draft_id is not None and status == OutboundStatus.AWAITING_APPROVAL
    )
    on_its_way = (OutboundStatus.QUEUED, OutboundStatus.SENT)
    return pending, any(status in on_its_way for _, status in found)


# Rows sharing a Message-ID looked at: a copy is one of the first few.
_COPIES_COMPARED = 20


def _earlier_copy(
    session: Session, inbound: InboundMessage, mail: ParsedMail, sealer: Sealer
) -> InboundMessage | None:
    """The first handled copy of this very mail (a Cc delivered twice, a resend): the same
    Message-ID, sender, subject and text. A Message-ID alone proves nothing: any sender
    may write `<1@localhost>`, and another person's request is never a copy. A mail whose
    content is erased (dismissed) cannot be shown to be the same any more."""
    message_id = normalised_message_id(mail)
    if message_id is None or mail.sender is None:
        return None
    with reading_only(session, InboundMessage):
        rows = session.exec(
            select(InboundMessage)
            .where(InboundMessage.message_id == message_id)
            .where(InboundMessage.id != inbound.id)
            .where(InboundMessage.disposition != Disposition.PENDING)
            .where(InboundMessage.disposition != Disposition.QUARANTINED)
            .where(col(InboundMessage.erased_at).is_(None))
            .order_by(col(InboundMessage.id))
            .limit(_COPIES_COMPARED)
        ).all()
    digest = content_digest(mail)
    for row in rows:
        if not same_requester(mail.sender, row.sender):
            continue
        try:
            earlier = parse_mail(stored_raw(row, sealer))
        except MalformedMail:
            continue
        if content_digest(earlier) == digest:
            return row
    return None


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
