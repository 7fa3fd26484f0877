"""What the DPO does to a case: settle a triaged reading or correct a sure one, record an
identity checked by eye, draft an extension notice or a refusal, stop marketing to the
requester."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from mailbot.actions import Done, NotFound, Refused, who
from mailbot.cases.audit import append_event
from mailbot.cases.corrections import record_correction, valid_reading
from mailbot.cases.models import Case, CaseStatus, OutboundMessage, OutboundStatus
from mailbot.handling.decide import answered_already
from mailbot.handling.plan import Draft, SetExtensionReason, Step, Suppress
from mailbot.handling.record import Handling, apply_steps
from mailbot.handling.review import decide_reading, verify_by_eye
from mailbot.mail.parse import MalformedMail, ParsedMail, parse_mail
from mailbot.replies.catalogue import TAKES_EFFECT_AT_ONCE
from mailbot.replies.drafts import letters_of, sent_letters_of
from mailbot.store.models import Attachment, InboundMessage
from mailbot.store.sealed import stored_raw
from mailbot.triage.id_evidence import IdCheck
from mailbot.triage.identity import Finding
from mailbot.triage.screen import authentication_failed


def find_case(session: Session, reference: str) -> Case:
    case = session.exec(select(Case).where(Case.reference == reference.strip().upper())).first()
    if case is None:
        raise NotFound(f"no case {reference}")
    return case


def failed_authentication(session: Session, case: Case) -> tuple[str, ...]:
    """The checks that failed ("dmarc", "spf", "dkim") on the case's mails whose sender
    authentication failed: the From address may be forged. Empty when none did."""
    failed: set[str] = set()
    flag_rows = session.exec(select(InboundMessage.flags).where(InboundMessage.case_id == case.id))
    for flags in flag_rows.all():
        words = flags.split()
        if authentication_failed(words):
            failed |= {w.removesuffix("_fail") for w in words if w.endswith("_fail")}
    return tuple(sorted(failed))


def decide_case(
    session: Session,
    reference: str,
    labels: Sequence[str],
    actor: str,
    handling: Handling,
    now: datetime,
) -> Done:
    """Settle a triaged case's reading (primary first); the bot then goes on as for any
    request: suppression, ID request, draft answer, or the redirect."""
    name, case = who(actor), find_case(session, reference)
    first, mail = _first_mail_read(session, case, handling)
    findings = _held_findings(session, case)
    checks = _checks(session, first) if first is not None else {}
    known = handling.sender_known(session, case.requester)
    bot_labels = case.labels.split()
    letters, sent = letters_of(session, case), sent_letters_of(session, case)
    steps = decide_reading(
        case, labels, name, mail, findings, known, handling.settings, now, letters, sent
    )
    apply_steps(session, case, steps, handling, now)
    record_correction(session, case, bot_labels, labels, name, mail, checks, now)
    return Done(f"{case.reference}: {', '.join(labels)}; now {case.status}")


def correct_reading(
    session: Session,
    reference: str,
    labels: Sequence[str],
    actor: str,
    handling: Handling,
    now: datetime,
) -> Done:
    """Correct the rights the classifier read in a case it was sure of (primary first).
    The case's reading changes and the classifier learns from it; a marketing stop it
    brings in takes effect at once; letters already drafted or sent stay as they are
    (edit or reject a draft that no longer fits)."""
    name, case = who(actor), find_case(session, reference)
    if (problem := valid_reading(labels)) is not None:
        raise Refused(problem)
    if case.needs_triage:
        raise Refused(f"{case.reference} waits for triage: decide its reading instead")
    if case.purged_at is not None:
        raise Refused(f"{case.reference} was purged at retention")
    before = case.labels.split()
    if list(labels) == before:
        raise Refused(f"{case.reference} is read as {', '.join(before)} already")
    case.labels, case.primary = " ".join(labels), labels[0]
    session.add(case)
    assert case.id is not None
    append_event(session, case.id, "reading_corrected", name, {"from": before, "to": list(labels)})
    # A marketing stop the correction brings in takes effect now (Art. 21(3)), with its
    # confirmation, as when a triaged case is settled.
    steps: list[Step] = []
    for right in labels:
        if right in TAKES_EFFECT_AT_ONCE and right not in before:
            steps += [Suppress(right), Draft(TAKES_EFFECT_AT_ONCE[right])]
    if case.answered_list and case.status != CaseStatus.CLOSED:
        # Read as less: what an answer sent already answered may be all there is.
        steps += answered_already(labels, case.answered_list, name)
    apply_steps(session, case, steps, handling, now)
    first, mail = _first_mail_read(session, case, handling)
    checks = _checks(session, first) if first is not None else {}
    record_correction(session, case, before, labels, name, mail, checks, now)
    return Done(f"{case.reference}: read as {', '.join(labels)} (was {', '.join(before)})")


def verify_identity(
    session: Session, reference: str, verified: bool, actor: str, handling: Handling, now: datetime
) -> Done:
    """Record the identity check the DPO made on the ID copy; the copy is then deleted."""
    name, case = who(actor), find_case(session, reference)
    closures = [d.id for d in _waiting(session, case, "not_identified") if d.id is not None]
    apply_steps(session, case, verify_by_eye(case, verified, name, closures), handling, now)
    verdict = "verified" if verified else "not verified"
    return Done(f"{case.reference}: identity {verdict}; copy deleted")


def draft_extension(
    session: Session, reference: str, reason: str, actor: str, handling: Handling, now: datetime
) -> Done:
    """Draft the extension notice; approving it (before the deadline) extends the case."""
    name, case = who(actor), find_case(session, reference)
    if not reason.strip():
        raise Refused("an extension needs a written reason (LEGAL.md §1.5)")
    _still_open(case)
    if case.extension_notified_on is not None:
        raise Refused(f"{case.reference} was extended already")
    extra = {"extended_due": case.extended_due, "extension_reason": reason.strip()}
    steps: list[Step] = [SetExtensionReason(reason.strip()), Draft("extension_notice", extra)]
    return _drafted(session, case, steps, handling, now, name, "extension notice")


def draft_refusal(
    session: Session,
    reference: str,
    reasons: str,
    partial: bool,
    actor: str,
    handling: Handling,
    now: datetime,
) -> Done:
    """Draft the refusal: reasons, complaint to the GBA/APD, judicial remedy (Art. 12(4))."""
    name, case = who(actor), find_case(session, reference)
    if not reasons.strip():
        raise Refused("a refusal must give its reasons (Art. 12(4), LEGAL.md §3.4)")
    _still_open(case)
    extra = {"refusal_reasons": reasons.strip(), "partial": partial}
    return _drafted(session, case, [Draft("refusal", extra)], handling, now, name, "refusal")


def suppress_marketing(
    session: Session, reference: str, right: str, actor: str, handling: Handling, now: datetime
) -> Done:
    """Put the requester on the suppression list when the bot did not (an objection or a
    withdrawal the classifier missed)."""
    name, case = who(actor), find_case(session, reference)
    if right not in ("objection", "withdraw_consent"):
        raise Refused(f"only an objection or a consent withdrawal suppresses, not {right!r}")
    if case.purged_at is not None:
        raise Refused(f"{case.reference} was purged: its address is gone")
    apply_steps(session, case, [Suppress(right, name)], handling, now)
    return Done(f"{case.reference}: the requester's address is on the suppression list")


def _drafted(
    session: Session,
    case: Case,
    steps: list[Step],
    handling: Handling,
    now: datetime,
    name: str,
    what: str,
) -> Done:
    apply_steps(session, case, steps, handling, now)
    draft = session.exec(
        select(OutboundMessage)
        .where(OutboundMessage.case_id == case.id)
        .order_by(col(OutboundMessage.id).desc())
    ).first()
    assert draft is not None and case.id is not None
    # The bot renders the letter; the decision to write it is the DPO's.
    append_event(
        session, case.id, "reply_asked_for", name, {"outbound_id": draft.id, "kind": draft.kind}
    )
    return Done(f"{case.reference}: {what} ({name}) drafted as draft {draft.id}", draft.id)


def _still_open(case: Case) -> None:
    if case.status == CaseStatus.CLOSED:
        raise Refused(f"{case.reference} is closed")


def _waiting(session: Session, case: Case, kind: str) -> list[OutboundMessage]:
    """The case's drafts of `kind` waiting for approval."""
    waiting = session.exec(
        select(OutboundMessage)
        .where(OutboundMessage.case_id == case.id)
        .where(OutboundMessage.kind == kind)
        .where(OutboundMessage.status == OutboundStatus.AWAITING_APPROVAL)
    )
    return list(waiting.all())


def _first_mail(session: Session, case: Case) -> InboundMessage | None:
    return session.exec(
        select(InboundMessage)
        .where(InboundMessage.case_id == case.id)
        .order_by(col(InboundMessage.received_at), col(InboundMessage.id))
    ).first()


def _parsed(inbound: InboundMessage, handling: Handling) -> ParsedMail | None:
    try:
        return parse_mail(stored_raw(inbound, handling.sealer))
    except MalformedMail:
        return None


def _first_mail_read(
    session: Session, case: Case, handling: Handling
) -> tuple[InboundMessage | None, ParsedMail | None]:
    """The case's first mail, and as parsed (None when erased or unreadable)."""
    first = _first_mail(session, case)
    return first, (_parsed(first, handling) if first is not None else None)


def _checks(session: Session, inbound: InboundMessage) -> dict[int, IdCheck]:
    """What the ID check found in each attachment of the mail, by part index."""
    rows = session.exec(select(Attachment).where(Attachment.inbound_id == inbound.id)).all()
    return {row.part_index: IdCheck(row.kind, row.check_verified, "") for row in rows}


def _held_findings(session: Session, case: Case) -> list[Finding]:
    """What the check found in the documents the case still holds, in any of its mails
    (a follow-up may have brought the ID copy). A copy deleted already counts for
    nothing: the DPO could not look at it, so the identity policy asks for another."""
    rows = session.exec(
        select(Attachment)
        .join(InboundMessage, col(Attachment.inbound_id) == col(InboundMessage.id))
        .where(InboundMessage.case_id == case.id)
        .where(col(Attachment.purged_at).is_(None))
        .order_by(col(Attachment.inbound_id), col(Attachment.id))
    ).all()
    return [Finding(row.kind, row.check_verified, row.holder_match) for row in rows]
