"""Ingest: each new mail's raw bytes go into the database before anything looks at them.

One transaction stores a few mails and advances the mailbox cursor with them, so a crash
loses nothing (the mails are fetched again) and duplicates nothing (the cursor moved with
the rows); a transaction per mail cost more than the storing. The same bytes fetched
again, say after a UIDVALIDITY reset, are recognised by their hash and skipped; a copy
with other bytes is kept, and the pipeline answers each mail once (same Message-ID,
sender and text: a shared Message-ID alone is no copy).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from mailbot.database import transaction
from mailbot.mail.bounds import DEFAULT_LIMITS
from mailbot.mail.source import FetchedMail, MailSource, Position
from mailbot.sealing import Sealer
from mailbot.store.models import Disposition, InboundMessage, MailboxCursor
from mailbot.store.sealed import HEADERS_ONLY, NOT_FETCHED, UNFETCHED_KEY, sealing_context

log = logging.getLogger(__name__)

# Mails stored per transaction, and the bytes that end a batch sooner (a batch is held
# in memory until it is stored).
STORE_BATCH = 32
STORE_BATCH_BYTES = 8_000_000


@dataclass(frozen=True, slots=True)
class IngestSummary:
    stored: int = 0
    duplicates: int = 0


def message_key(raw: bytes) -> str:
    """What makes a stored mail the same mail: its exact bytes."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def header_message_id(raw: bytes) -> str | None:
    """The Message-ID read straight from the raw header block, so that even a mail the
    parser later refuses can be named; the pipeline replaces it with the parsed form.
    Only the first bytes a header may take are read, in time linear in them."""
    head = raw[: DEFAULT_LIMITS.max_header_bytes]
    header_block = head.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    lines = header_block.replace(b"\r\n", b"\n").split(b"\n")
    for index, line in enumerate(lines):
        if line[:11].lower() != b"message-id:":
            continue
        value = [line[11:]]
        for more in itertools.islice(lines, index + 1, None):  # folded: indented lines
            if not more[:1].isspace():
                break
            value.append(more)
        text = "".join(b"".join(value).decode("ascii", "replace").split())
        return text if 0 < len(text) <= 1000 else None
    return None


def load_position(session: Session, label: str) -> Position | None:
    cursor = session.exec(select(MailboxCursor).where(MailboxCursor.source == label)).first()
    return None if cursor is None else Position(cursor.uidvalidity, cursor.last_uid)


def ingest(engine: Engine, source: MailSource, max_bytes: int, sealer: Sealer) -> IngestSummary:
    with transaction(engine) as session:
        position = load_position(session, source.label)
        if position is None and (position := source.start_position()) is not None:
            session.add(
                MailboxCursor(
                    source=source.label,
                    uidvalidity=position.uidvalidity,
                    last_uid=position.last_uid,
                )
            )
    stored = duplicates = 0
    batch: list[FetchedMail] = []
    try:
        for mail in source.fetch_new(position, max_bytes):
            batch.append(mail)
            if len(batch) == STORE_BATCH or sum(len(m.raw) for m in batch) >= STORE_BATCH_BYTES:
                new = _store_all(engine, source, batch, sealer)
                stored, duplicates, batch = stored + new, duplicates + len(batch) - new, []
    finally:
        # Also when the source fails midway: what was fetched need not be fetched again.
        new = _store_all(engine, source, batch, sealer)
        stored, duplicates = stored + new, duplicates + len(batch) - new
    if stored or duplicates:
        log.info("ingested %d new mail(s), %d already known", stored, duplicates)
    return IngestSummary(stored=stored, duplicates=duplicates)


def _store_all(engine: Engine, source: MailSource, mails: list[FetchedMail], sealer: Sealer) -> int:
    """Store `mails` in one transaction, then tell the source; how many were new."""
    if not mails:
        return 0
    label = source.label
    keys = [_key(label, mail) for mail in mails]
    with transaction(engine) as session:
        # One query for the batch's keys, and one flush at the end: a query per mail
        # flushed the mail before it, and cost more than storing it.
        query = select(InboundMessage).where(col(InboundMessage.message_key).in_(set(keys)))
        known = {row.message_key: row for row in session.exec(query)}
        new = 0
        for key, mail in zip(keys, mails, strict=True):
            earlier = known.get(key)  # a second copy within the batch is found too
            if earlier is None:
                known[key] = _store(session, label, key, mail, sealer)
                new += 1
            elif earlier.source == label and mail.uid is not None and mail.uidvalidity is not None:
                _moved(session, earlier, mail.uidvalidity, mail.uid)
        _advance(session, label, mails)
    for mail in mails:
        source.after_store(mail)
    return new


def _key(label: str, mail: FetchedMail) -> str:
    if mail.problem is not None:
        # Nothing could be fetched: the key names the folder position instead.
        return f"{UNFETCHED_KEY}{label}:{mail.uidvalidity}:{mail.uid}"
    return message_key(mail.raw)


def _store(
    session: Session, label: str, key: str, mail: FetchedMail, sealer: Sealer
) -> InboundMessage:
    row = InboundMessage(
        source=label,
        uidvalidity=mail.uidvalidity,
        uid=mail.uid,
        message_key=key,
        message_id=header_message_id(mail.raw),
        raw=sealer.seal(mail.raw, sealing_context(key)),
        size=mail.size if mail.size is not None else len(mail.raw),
        sha256=hashlib.sha256(mail.raw).hexdigest(),
        received_at=mail.received_at,
        # A Maildir file's base name (its flags change): where to remove an ID copy later.
        source_ref=mail.source_ref.rpartition("/")[2].partition(":2,")[0]
        if mail.source_ref
        else None,
    )
    if mail.problem is not None:
        row.disposition = Disposition.QUARANTINED
        row.reason = mail.problem
        row.flags = NOT_FETCHED
    elif mail.truncated:
        row.disposition = Disposition.QUARANTINED
        row.reason = f"message too large ({row.size} bytes); only its headers were stored"
        row.flags = HEADERS_ONLY
    session.add(row)
    return row


def _moved(session: Session, row: InboundMessage, uidvalidity: int, uid: int) -> None:
    """A renumbered folder (new UIDVALIDITY) gave a known mail a new UID: record it, so
    the mail can still be flagged there and, once its ID copy is checked, removed."""
    if row.uidvalidity == uidvalidity:
        # Same numbering: another copy with the same bytes, not this mail moved.
        return
    taken = session.exec(
        select(InboundMessage.id)
        .where(InboundMessage.source == row.source)
        .where(InboundMessage.uidvalidity == uidvalidity)
        .where(InboundMessage.uid == uid)
    ).first()
    if taken is not None:
        return  # a folder numbered like one seen before: the position is another row's
    row.uidvalidity, row.uid = uidvalidity, uid
    row.marked_in_source = False
    session.add(row)


def _advance(session: Session, label: str, mails: list[FetchedMail]) -> None:
    """The cursor moves past the batch, in the batch's transaction."""
    positions = [
        (m.uidvalidity, m.uid) for m in mails if m.uid is not None and m.uidvalidity is not None
    ]
    if not positions:
        return
    cursor = session.exec(select(MailboxCursor).where(MailboxCursor.source == label)).first()
    if cursor is None:
        cursor = MailboxCursor(source=label, uidvalidity=positions[0][0], last_uid=0)
    for uidvalidity, uid in positions:
        if cursor.uidvalidity != uidvalidity:
            cursor.uidvalidity, cursor.last_uid = uidvalidity, 0
        cursor.last_uid = max(cursor.last_uid, uid)
    session.add(cursor)
