"""ID copies at the end of their check (LEGAL.md §2.1 and §2.5).

Once the identity is marked checked, by the bot or the DPO, the copies are cut out of
the sealed mail and removed from the inbox folder; only the facts stay: verified
yes/no, method, who, when, the doubt reason. (The check itself is
`mailbot.triage.identity.check_documents`; what is recorded of it,
`mailbot.handling.record`.)
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from mailbot.cases.audit import append_event
from mailbot.cases.models import Case
from mailbot.mail.redact import cut_attachments
from mailbot.sealing import Sealer
from mailbot.store.models import Attachment, InboundMessage
from mailbot.store.sealed import reseal, stored_raw

# A copy of one of these, read as such, is enough for the bot to mark the identity checked.
VERIFYING_KINDS = ("eid_front", "passport", "driving_licence")
_NOTE = (
    "[An identity document was attached here. It was deleted after the identity check"
    " on {day}, as the privacy policy promises.]"
)


# What the check read as an identity document: never kept once the check is over.
ID_COPY_KINDS = frozenset({*VERIFYING_KINDS, "eid_back"})


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
    # The attachments first, in one query: most cases have none, and their mails need
    # not be loaded (nor their sealed text opened) to find that out.
    found = session.exec(
        select(Attachment)
        .join(InboundMessage, col(Attachment.inbound_id) == col(InboundMessage.id))
        .where(InboundMessage.case_id == case.id)
        .where(Attachment.kind != "none")
        .where(col(Attachment.purged_at).is_(None))
        .order_by(col(Attachment.inbound_id), col(Attachment.id))
    ).all()
    by_mail: dict[int, list[Attachment]] = {}
    for attachment in found:
        if kinds is None or attachment.kind in kinds:
            by_mail.setdefault(attachment.inbound_id, []).append(attachment)
    removed = 0
    for inbound_id, copies in by_mail.items():
        inbound = session.get_one(InboundMessage, inbound_id)
        note = _NOTE.format(day=now.date().isoformat())
        raw, cut = cut_attachments(
            stored_raw(inbound, sealer), frozenset(a.sha256 for a in copies), note
        )
        reseal(inbound, raw, sealer)
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
