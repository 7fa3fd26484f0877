"""Ingest: each new mail's raw bytes go into the database before anything looks at them.

One transaction per mail stores it and advances the mailbox cursor together, so a crash
loses nothing (the mail is fetched again) and duplicates nothing (the cursor moved with
the row). A mail already stored under the same Message-ID, say after a UIDVALIDITY
reset, is recognised and skipped.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, select

from mailbot.cases.models import Disposition, InboundMessage, MailboxCursor
from mailbot.database import transaction
from mailbot.mail.source import FetchedMail, MailSource, Position

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestSummary:
    stored: int = 0
    duplicates: int = 0


def message_key(raw: bytes) -> tuple[str, str | None]:
    """(dedup key, Message-ID). Read from the raw header block: no parser can fail here."""
    header_block = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    message_id = None
    lines = header_block.replace(b"\r\n", b"\n").split(b"\n")
    for index, line in enumerate(lines):
        if line[:11].lower() == b"message-id:":
            value = line[11:]
            # A folded Message-ID continues on indented lines.
            for more in lines[index + 1 :]:
                if not more[:1].isspace():
                    break
                value += more
            text = value.decode("ascii", "replace").strip()
            if text and len(text) <= 900:
                message_id = "".join(text.split())
            break
    if message_id:
        return message_id, message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest(), None


def load_position(session: Session, label: str) -> Position | None:
    cursor = session.exec(select(MailboxCursor).where(MailboxCursor.source == label)).first()
    return None if cursor is None else Position(cursor.uidvalidity, cursor.last_uid)


def ingest(engine: Engine, source: MailSource, max_bytes: int) -> IngestSummary:
    with transaction(engine) as session:
        position = load_position(session, source.label)
    stored = duplicates = 0
    for mail in source.fetch_new(position, max_bytes):
        with transaction(engine) as session:
            is_new = _store(session, source.label, mail)
        source.after_store(mail)
        stored += is_new
        duplicates += not is_new
    if stored or duplicates:
        log.info("ingested %d new mail(s), %d already known", stored, duplicates)
    return IngestSummary(stored=stored, duplicates=duplicates)


def _store(session: Session, label: str, mail: FetchedMail) -> bool:
    key, message_id = message_key(mail.raw)
    if mail.uid is not None and mail.uidvalidity is not None:
        _advance(session, label, mail.uidvalidity, mail.uid)
    known = session.exec(select(InboundMessage.id).where(InboundMessage.message_key == key))
    if known.first() is not None:
        return False
    row = InboundMessage(
        source=label,
        uidvalidity=mail.uidvalidity,
        uid=mail.uid,
        message_key=key,
        message_id=message_id,
        raw=mail.raw,
        size=mail.size if mail.size is not None else len(mail.raw),
        sha256=hashlib.sha256(mail.raw).hexdigest(),
        received_at=mail.received_at,
    )
    if mail.truncated:
        row.disposition = Disposition.QUARANTINED
        row.reason = f"message too large ({row.size} bytes); only its headers were stored"
    session.add(row)
    return True


def _advance(session: Session, label: str, uidvalidity: int, uid: int) -> None:
    cursor = session.exec(select(MailboxCursor).where(MailboxCursor.source == label)).first()
    if cursor is None:
        cursor = MailboxCursor(source=label, uidvalidity=uidvalidity, last_uid=0)
    if cursor.uidvalidity != uidvalidity:
        cursor.uidvalidity, cursor.last_uid = uidvalidity, 0
    cursor.last_uid = max(cursor.last_uid, uid)
    session.add(cursor)
