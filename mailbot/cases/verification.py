"""ID copies from arrival to deletion (LEGAL.md §2.1 and §2.5).

Every attachment that could be a document is checked by its content (never its name)
and the finding recorded; once the identity is marked checked, by the bot or the DPO,
the copies are cut out of the sealed mail, removed from the inbox folder, and only the
facts stay: verified yes/no, method, who, when, the doubt reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session, col, select

from mailbot.cases.audit import append_event
from mailbot.cases.lifecycle import record_identity_check
from mailbot.cases.models import Case, CaseStatus
from mailbot.mail.parse import ParsedMail
from mailbot.mail.redact import cut_attachments
from mailbot.sealing import Sealer
from mailbot.store.models import Attachment, InboundMessage
from mailbot.store.sealed import sealing_context, stored_raw
from mailbot.triage.id_evidence import IdCheck
from mailbot.triage.identity import DOCUMENT_TYPES
from mailbot.triage.identity import strongest_kind as strongest

# A copy of one of these, read as such, is enough for the bot to mark the identity checked.
VERIFYING_KINDS = ("eid_front", "passport", "driving_licence")
_NOTE = (
    "[An identity document was attached here. It was deleted after the identity check"
    " on {day}, as the privacy policy promises.]"
)


def check_documents(mail: ParsedMail) -> dict[int, IdCheck]:
    """The ID check of every attachment that could be a document, by part index.

    The OCR takes seconds per image: the worker runs this before the mail's database
    transaction, so that nobody else's write (a DPO's approval) waits for it."""
    from mailbot.triage.id_check import check_attachment  # OCR: loaded only when needed

    return {
        index: check_attachment(part.data, part.sniffed_type, mail.sender_name)
        for index, part in enumerate(mail.attachments)
        if part.sniffed_type in DOCUMENT_TYPES
    }


def record_attachments(
    session: Session,
    inbound: InboundMessage,
    mail: ParsedMail,
    checks: Mapping[int, IdCheck] | None = None,
) -> list[Attachment]:
    """One row per attachment, with what the ID check found in the documents (`checks`
    when the caller ran it already, else it runs here)."""
    assert inbound.id is not None
    if checks is None:
        checks = check_documents(mail)
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


def strongest_kind(rows: list[Attachment]) -> str:
    """The most telling finding among a mail's attachments."""
    return strongest(row.kind for row in rows)


def surest_kind(rows: list[Attachment]) -> str:
    """The most telling finding the check is sure of, on a document that does not show
    another name than the sender's ("none" when there is no such finding)."""
    return strongest(
        row.kind for row in rows if row.check_verified and row.holder_match is not False
    )


def mark_checked(
    session: Session,
    case: Case,
    verified: bool,
    method: str,
    actor: str,
    now: datetime,
    sealer: Sealer,
) -> int:
    """Record the identity facts, then delete every ID copy of the case; returns how many."""
    record_identity_check(session, case, verified, method, actor, now)
    return discard_id_copies(session, case, sealer, now, actor)


# What the check read as an identity document: never kept once the check is over.
ID_COPY_KINDS = frozenset({*VERIFYING_KINDS, "eid_back"})


def review_pending(case: Case) -> bool:
    """A document waits for the DPO's eye (`mailbot cases verify`): keep it until then."""
    return (
        case.status == CaseStatus.AWAITING_IDENTITY
        and case.identity_verified is None
        and case.id_received_at is not None
    )


def settle_id_copies(session: Session, case: Case, sealer: Sealer, now: datetime) -> int:
    """After the bot handled a mail of the case: every ID copy goes, unless the DPO still
    has to look at it. (Documents the check did not read as an ID stay sealed: a quote
    or a photo of the works may be what a request is about.)"""
    if review_pending(case):
        return 0
    return discard_id_copies(session, case, sealer, now, kinds=ID_COPY_KINDS)


def discard_id_copies(
    session: Session,
    case: Case,
    sealer: Sealer,
    now: datetime,
    actor: str = "bot",
    kinds: frozenset[str] | None = None,
) -> int:
    """Cut the case's document attachments (of `kinds`; None: every document) out of its
    stored mails, and have the worker remove the originals from the source folder."""
    inbound_rows = session.exec(
        select(InboundMessage).where(InboundMessage.case_id == case.id)
    ).all()
    removed = 0
    for inbound in inbound_rows:
        copies = session.exec(
            select(Attachment)
            .where(Attachment.inbound_id == inbound.id)
            .where(Attachment.kind != "none")
            .where(col(Attachment.purged_at).is_(None))
        ).all()
        copies = [a for a in copies if kinds is None or a.kind in kinds]
        if not copies:
            continue
        note = _NOTE.format(day=now.date().isoformat())
        raw, cut = cut_attachments(
            stored_raw(inbound, sealer), frozenset(a.sha256 for a in copies), note
        )
        inbound.raw = sealer.seal(raw, sealing_context(inbound.message_key))
        inbound.remove_from_source = inbound.uid is not None or inbound.source_ref is not None
        session.add(inbound)
        for attachment in copies:
            attachment.purged_at = now
            attachment.filename = None  # a file name can hold the person's name
            session.add(attachment)
        removed += cut
    if removed:
        assert case.id is not None
        append_event(session, case.id, "id_copy_deleted", actor, {"parts": removed})
    return removed
