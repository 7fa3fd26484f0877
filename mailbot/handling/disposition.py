"""What becomes of one inbound mail, decided from values: the plan for it.

Quarantined (malformed, empty, an impossible sender), set aside unanswered (auto-reply,
bounce, list, our own mail), a copy of a mail handled already, a follow-up of one of
the sender's open cases, or a new case. The worker gathers the facts (the mail parsed
and screened once, its ID check run outside any transaction, the rows around it) and
`mailbot.handling.record` applies the plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from classifiers import Classification, with_attached
from mailbot.cases.deadlines import deadlines_for, receipt_date
from mailbot.cases.models import Case
from mailbot.config import Settings
from mailbot.handling.decide import continue_case, respond_to_new_case
from mailbot.handling.id_copies import keeps_id_copies, settle_id_copies
from mailbot.handling.plan import MailPlan, NewCase
from mailbot.mail.parse import ParsedMail
from mailbot.replies.render import without_controls
from mailbot.store.models import Disposition, InboundMessage
from mailbot.triage.id_evidence import IdCheck
from mailbot.triage.identity import Finding, strongest_kind
from mailbot.triage.screen import Screening

# RFC 5321's limit on a path; longer is no address anyone can answer.
LONGEST_ADDRESS = 320
LONGEST_MESSAGE_ID = 1000


@dataclass(frozen=True, slots=True)
class MailReading:
    """One mail read once: parsed (or why it could not be), screened, and its documents
    checked (only for a mail the bot answers)."""

    mail: ParsedMail | None
    error: str | None = None
    screening: Screening | None = None
    checks: Mapping[int, IdCheck] | None = None
    attached: str = ""  # the text of its attached letters (mailbot.triage.attached_letter)
    # The classifier's reading when the worker classified a batch of mails at once.
    classification: Classification | None = None

    def classified(self, classify: Callable[[str, str], Classification]) -> Classification:
        if self.classification is not None:
            return self.classification
        assert self.mail is not None
        return classify(self.mail.subject, self.classifier_text)

    @property
    def classifier_text(self) -> str:
        """What the classifier reads besides the subject: the text, then its letters."""
        assert self.mail is not None
        return with_attached(self.mail.text, self.attached)

    @property
    def needs_classifying(self) -> bool:
        """Whether `decide_mail` may ask the classifier: a mail the bot answers."""
        mail, screening = self.mail, self.screening
        if mail is None or screening is None or not screening.answerable:
            return False
        return bool(mail.subject.strip() or mail.text.strip() or mail.attachments)

    @property
    def findings(self) -> list[Finding]:
        return [Finding.of(check) for _, check in sorted((self.checks or {}).items())]


@dataclass(frozen=True, slots=True)
class Surroundings:
    """What the database says about the mail: an earlier copy of it (the same mail: same
    Message-ID, sender, subject and text; and that copy's case), the sender's open case
    it continues (and that case's "not identified" letters, awaiting approval or
    approved), whether it quotes another person's case reference, whether the sender's
    address belongs to an account."""

    earlier_copy: InboundMessage | None = None
    copy_case: Case | None = None
    case: Case | None = None
    foreign_reference: bool = False
    sender_known: bool = False
    pending_closures: tuple[int, ...] = ()
    closure_approved: bool = False


def normalised_message_id(mail: ParsedMail) -> str | None:
    """The parser's normalised form, so copies and replies compare equal."""
    if mail.message_id and len(mail.message_id) <= LONGEST_MESSAGE_ID:
        return mail.message_id
    return None


def content_digest(mail: ParsedMail) -> str:
    """What makes two deliveries the same mail besides their Message-ID: the sender, the
    subject and the text (not the transport headers a second route adds, nor the
    attachments, which an ID check may have cut out of the first copy since)."""
    text = "\n".join(line.rstrip() for line in mail.text.strip().splitlines())
    parts = ((mail.sender or "").casefold(), " ".join(mail.subject.split()), text)
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def decide_mail(
    reading: MailReading,
    around: Surroundings,
    inbound: InboundMessage,
    settings: Settings,
    classify: Callable[[str, str], Classification],
    now: datetime,
) -> MailPlan:
    """The plan for `inbound`. `classify` reads subject and text (the classifier: no I/O)."""
    mail, screening = reading.mail, reading.screening
    if mail is None or screening is None:
        return MailPlan(Disposition.QUARANTINED, reading.error or "unreadable")
    if mail.sender is not None and len(mail.sender) > LONGEST_ADDRESS:
        reason = "sender address longer than 320 characters (RFC 5321 limit)"
        return MailPlan(Disposition.QUARANTINED, reason)
    read = MailPlan(
        Disposition.PENDING,
        sender=mail.sender,
        message_id=normalised_message_id(mail),
        flags=screening.flags,
        read=True,
    )
    if not screening.answerable:
        return replace(
            read, disposition=Disposition(screening.verdict.value), reason=screening.reason
        )
    assert mail.sender is not None  # an answerable mail has a sender address
    if not (mail.subject.strip() or mail.text.strip() or mail.attachments):
        # Nothing to read or acknowledge; a person decides whether it meant something.
        reason = "empty message: no subject, text or attachment"
        return replace(read, disposition=Disposition.QUARANTINED, reason=reason)
    copy = around.earlier_copy
    if copy is not None and copy.disposition == Disposition.DISMISSED:
        # The DPO set the first copy aside: the same decision erases this one at once
        # (its attachments recorded as rows, unchecked, only to mark them gone).
        reason = f"copy of mail {copy.id}, dismissed"
        return replace(
            read,
            disposition=Disposition.DISMISSED,
            reason=reason,
            attachments="unchecked",
            erase=True,
        )
    if copy is not None:
        reason = f"copy of mail {copy.id} (same Message-ID, sender and text), already handled"
        if copy.case_id is None or not mail.attachments or around.copy_case is None:
            return replace(
                read, disposition=Disposition.DUPLICATE, reason=reason, case_id=copy.case_id
            )
        # Its ID copy is the first copy's: it goes the same way.
        steps = settle_id_copies(keeps_id_copies(around.copy_case))
        return replace(
            read,
            disposition=Disposition.DUPLICATE,
            reason=reason,
            attachments="checked",
            case_id=copy.case_id,
            steps=tuple(steps),
        )
    if around.case is not None:
        reading_now = reading.classified(classify)
        steps = continue_case(
            around.case,
            reading_now,
            reading.findings,
            inbound.received_at,
            around.pending_closures,
            around.closure_approved,
        )
        return replace(
            read,
            disposition=Disposition.FOLLOW_UP,
            reason=f"joined case {around.case.reference}",
            attachments="checked",
            case_id=around.case.id,
            steps=tuple(steps),
        )
    if around.foreign_reference:
        # Someone quoting another person's case reference: a case of its own, flagged.
        read = replace(read, flags=(*screening.flags, "foreign_reference"))
    classification = reading.classified(classify)
    new_case = _new_case(inbound, mail, classification, reading.findings, settings)
    steps = respond_to_new_case(
        new_case, mail, reading.findings, around.sender_known, settings, now
    )
    return replace(
        read,
        disposition=Disposition.CASE_OPENED,
        attachments="checked",
        new_case=new_case,
        steps=tuple(steps),
    )


def opened(new: NewCase, reference: str) -> Case:
    """The case row a NewCase becomes once it has its reference."""
    return Case(
        reference=reference,
        requester=new.requester,
        requester_name=new.requester_name,
        language=new.language,
        detected_language=new.detected_language,
        primary=new.primary,
        labels=" ".join(new.labels),
        confidence=new.confidence,
        needs_triage=new.needs_triage,
        received_at=new.received_at,
        receipt_date=new.receipt_date,
        legal_due=new.legal_due,
        target_due=new.target_due,
        extended_due=new.extended_due,
        rule_version=new.rule_version,
        id_document=new.id_document,
    )


def _new_case(
    inbound: InboundMessage,
    mail: ParsedMail,
    classification: Classification,
    findings: list[Finding],
    settings: Settings,
) -> NewCase:
    assert mail.sender is not None
    deadlines = deadlines_for(receipt_date(inbound.received_at), settings.target_days)
    return NewCase(
        requester=mail.sender,
        # No control characters: the name is shown on screens and terminals.
        requester_name=without_controls(mail.sender_name)[:300],
        language=classification.reply_language,
        detected_language=classification.language[:8],
        primary=classification.primary,
        labels=tuple(classification.labels),
        confidence=classification.confidence,
        needs_triage=classification.needs_triage,
        received_at=inbound.received_at,
        receipt_date=deadlines.receipt_date,
        legal_due=deadlines.legal_due,
        target_due=deadlines.target_due,
        extended_due=deadlines.extended_due,
        rule_version=deadlines.rule_version,
        id_document=strongest_kind(f.kind for f in findings),
    )
