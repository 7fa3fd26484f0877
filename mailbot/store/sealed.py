"""A stored mail's bytes: sealed at rest (AES-GCM), each bound to its own row.

Only these functions open, reseal or erase them, so what a row's bytes are bound to
(`sealing_context`) is decided in one place.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from mailbot.sealing import Sealer, is_sealed
from mailbot.store.models import Attachment, InboundMessage

# Flags of a mail stored in part: the server refused it, or it was over the size limit.
NOT_FETCHED = "not_fetched"
HEADERS_ONLY = "headers_only"
UNFETCHED_KEY = "unfetched:"


def sealing_context(message_key: str) -> str:
    """What a stored mail's sealed bytes are bound to: its own row, by its unique key."""
    return f"inbound:{message_key}"


def stored_whole(row: InboundMessage) -> bool:
    """Whether the row holds the whole mail, not only its headers or nothing at all."""
    flags = row.flags.split()
    return (
        NOT_FETCHED not in flags
        and HEADERS_ONLY not in flags
        and not row.message_key.startswith(UNFETCHED_KEY)
        and not (row.reason or "").startswith("message too large")  # rows stored before flags
    )


def stored_raw(row: InboundMessage, sealer: Sealer) -> bytes:
    """The mail's bytes as received (less any ID copy cut out after its check).

    Rows stored before encryption existed (schema 0001) are read as they are."""
    if not is_sealed(row.raw):
        return row.raw
    return sealer.open(row.raw, sealing_context(row.message_key))


def reseal(row: InboundMessage, raw: bytes, sealer: Sealer) -> None:
    """Replace the row's bytes (an ID copy cut out of them)."""
    row.raw = sealer.seal(raw, sealing_context(row.message_key))


def erase_mail(session: Session, inbound: InboundMessage, sealer: Sealer, now: datetime) -> None:
    """Erase a stored mail's content, ID copies included, here and in the source folder;
    the row (when, size, what became of it) stays."""
    inbound.raw = sealer.seal(b"", sealing_context(inbound.message_key))
    inbound.sender = None
    inbound.erased_at = inbound.erased_at or now
    inbound.remove_from_source = inbound.uid is not None or inbound.source_ref is not None
    session.add(inbound)
    attachments = session.exec(select(Attachment).where(Attachment.inbound_id == inbound.id))
    for attachment in attachments.all():
        attachment.filename = None
        attachment.purged_at = attachment.purged_at or now
        session.add(attachment)
