"""The one place a plan becomes rows: cases, audit events, drafts, ID copies cut out.

`record_mail` applies the plan for an inbound mail inside the caller's transaction;
`apply_steps` applies a case's steps, whether the bot decided them about a mail or a
person's action did. Nothing here decides: each step says what, this says how.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, select

from mailbot.accounts import AccountDirectory, account_key
from mailbot.cases.audit import append_event
from mailbot.cases.lifecycle import (
    acted_on,
    close,
    record_identity_check,
    renew_id_wait,
    request_identity,
    transition,
)
from mailbot.cases.models import Case, CaseOutcome, CaseStatus, OutboundMessage
from mailbot.cases.reference import next_reference
from mailbot.cases.suppression import suppress
from mailbot.cases.verification import ID_COPY_KINDS, discard_id_copies
from mailbot.config import Settings
from mailbot.database import reading_only
from mailbot.handling.disposition import MailReading, opened
from mailbot.handling.plan import (
    BOT,
    CloseAnswered,
    DiscardIdCopies,
    Draft,
    FlagForTriage,
    HoldForCheck,
    IdReceived,
    MailPlan,
    NewCase,
    Note,
    RecordIdentityCheck,
    RejectDraft,
    RenewIdWait,
    RequestIdentity,
    SetDoubt,
    SetExtensionReason,
    SetReading,
    Step,
    Suppress,
    Transition,
)
from mailbot.mail.parse import ParsedMail
from mailbot.replies.approval import reject
from mailbot.replies.drafts import Letterhead, Thread, draft_reply, mail_thread
from mailbot.replies.outcomes import retire_waiting_drafts
from mailbot.sealing import Sealer
from mailbot.store.models import Attachment, Disposition, InboundMessage, KnownAccount
from mailbot.store.sealed import erase_mail
from mailbot.triage.id_evidence import IdCheck


@dataclass(frozen=True, slots=True)
class Handling:
    """The parts of the bot that recording a plan uses."""

    settings: Settings
    sealer: Sealer
    letterhead: Letterhead
    # Another source of known account addresses (Jaimy's user database, say); None
    # reads the table `mailbot accounts import` fills.
    accounts: AccountDirectory | None = None

    @classmethod
    def of(cls, settings: Settings, sealer: Sealer) -> Handling:
        return cls(settings, sealer, Letterhead.of(settings))

    def sender_known(self, session: Session, address: str) -> bool:
        return (self.accounts or ImportedAccounts(session)).is_known(address)


class ImportedAccounts:
    """The directory `mailbot accounts import` fills: the known_account table."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def is_known(self, address: str) -> bool:
        with reading_only(self.session, KnownAccount) as database:
            found = database.execute(_KNOWN, {"address": account_key(address)})
            return found.first() is not None


# Built once: asked for every mail's sender.
_KNOWN = select(KnownAccount.id).where(KnownAccount.address == bindparam("address")).limit(1)


def record_mail(
    session: Session,
    inbound: InboundMessage,
    plan: MailPlan,
    reading: MailReading,
    handling: Handling,
    now: datetime,
) -> Case | None:
    """Apply the plan for `inbound`; returns the case it opened or joined."""
    inbound.handled_at = now
    if plan.read:
        inbound.sender = plan.sender
        inbound.message_id = plan.message_id
        inbound.flags = " ".join(plan.flags)
    mail = reading.mail
    if plan.attachments is not None and mail is not None:
        checks = reading.checks if plan.attachments == "checked" else {}
        record_attachments(session, inbound, mail, checks or {})
    if plan.erase:
        erase_mail(session, inbound, handling.sealer, now)
    case: Case | None = None
    thread: Thread | None = None
    if plan.new_case is not None:
        assert mail is not None
        case = open_case(session, inbound, plan.new_case, handling.settings.reference_prefix)
        thread = mail_thread(inbound.id, mail.message_id, mail.references, mail.subject)
    elif plan.case_id is not None:
        case = session.get_one(Case, plan.case_id)
        if plan.steps:
            acted_on(case)  # decided from the case as read (a duplicate's none are not)
    if case is not None:
        inbound.case_id = case.id
    if plan.disposition == Disposition.FOLLOW_UP:
        assert case is not None and case.id is not None
        append_event(session, case.id, "follow_up_received", "bot", {"inbound_id": inbound.id})
    settle(session, inbound, plan.disposition, plan.reason)
    if case is not None:
        # A follow-up's clock facts date from its arrival, not from when it was handled.
        at = inbound.received_at if plan.disposition == Disposition.FOLLOW_UP else now
        apply_steps(session, case, plan.steps, handling, at, thread)
    return case


def settle(
    session: Session, inbound: InboundMessage, disposition: Disposition, reason: str | None
) -> None:
    inbound.disposition = disposition
    inbound.reason = reason[:1000] if reason else None
    session.add(inbound)


def open_case(session: Session, inbound: InboundMessage, new: NewCase, prefix: str) -> Case:
    case = opened(new, next_reference(session, prefix, new.receipt_date.year))
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
            "labels": list(new.labels),
            "language": case.language,
            "confidence": round(new.confidence, 3),
            "needs_triage": new.needs_triage,
            "receipt_date": case.receipt_date.isoformat(),
            "legal_due": case.legal_due.isoformat(),
            "rule_version": case.rule_version,
            "id_document": new.id_document,
            "flags": inbound.flags,
        },
    )
    return case


def record_attachments(
    session: Session, inbound: InboundMessage, mail: ParsedMail, checks: Mapping[int, IdCheck]
) -> list[Attachment]:
    """One row per attachment, with what the ID check found in the documents (LEGAL.md
    §2.1: always check, always record); facts only, never the bytes."""
    assert inbound.id is not None
    rows = []
    for index, part in enumerate(mail.attachments):
        kind, reason, sure, holder = "none", None, False, None
        found = checks.get(index)
        if found is not None:
            kind, reason, sure = found.kind, found.reason[:300], found.verified
            holder = found.holder_match
        row = Attachment(
            inbound_id=inbound.id,
            filename=part.filename[:500] if part.filename else None,
            declared_type=part.declared_type[:200],
            sniffed_type=part.sniffed_type[:200],
            size=part.size,
            sha256=part.sha256,
            kind=kind,
            part_index=index,
            check_verified=sure,
            holder_match=holder,
            check_reason=reason,
        )
        session.add(row)
        rows.append(row)
    return rows


def apply_steps(
    session: Session,
    case: Case,
    steps: Iterable[Step],
    handling: Handling,
    now: datetime,
    thread: Thread | None = None,
) -> None:
    """Apply `steps` to `case` in order; `thread`: the mail threaded letters answer."""
    assert case.id is not None
    for step in steps:
        match step:
            case Suppress(right=right, actor=actor):
                suppress(session, case, right, actor)
            case Transition(to=to, why=why, actor=actor):
                transition(session, case, to, actor, why)
            case Draft(template=template, extra=extra, threaded=threaded):
                answering = thread if threaded else None
                draft_reply(session, case, template, extra, handling.letterhead, answering)
            case Note(kind=kind, data=data, actor=actor):
                append_event(session, case.id, kind, actor, dict(data))
            case SetDoubt(reason=reason):
                case.doubt_reason = reason
            case RequestIdentity(doubt_reason=reason, pause_allowed=pause):
                request_identity(session, case, reason, now, pause)
            case IdReceived(at=at):
                # The earliest arrival, whichever mail was handled first (a retried one).
                earlier = case.id_received_at
                case.id_received_at = min(earlier, at) if earlier else at
            case HoldForCheck(kind=kind):
                case.id_copy_in_review = True
                append_event(session, case.id, "identity_needs_review", "bot", {"kind": kind})
            case RecordIdentityCheck(verified=verified, method=method, actor=actor):
                record_identity_check(session, case, verified, method, actor, now)
            case DiscardIdCopies(every_document=every, actor=actor):
                kinds = None if every else ID_COPY_KINDS
                discard_id_copies(session, case, handling.sealer, now, actor, kinds)
                case.id_copy_in_review = False  # settled: no copy waits for a check now
            case FlagForTriage():
                case.needs_triage = True
            case SetReading(labels=labels):
                case.labels, case.primary, case.needs_triage = " ".join(labels), labels[0], False
            case RejectDraft(outbound_id=draft_id, why=why, actor=actor):
                reject(session, session.get_one(OutboundMessage, draft_id), actor, why)
            case RenewIdWait(at=at, why=why):
                renew_id_wait(session, case, at, BOT, why)
            case SetExtensionReason(reason=reason):
                case.extension_reason = reason
            case CloseAnswered(why=why, actor=actor):
                transition(session, case, CaseStatus.ANSWERED, actor, why)
                close(session, case, CaseOutcome.ANSWERED, actor, now, why)
                retire_waiting_drafts(session, case)
        session.add(case)
