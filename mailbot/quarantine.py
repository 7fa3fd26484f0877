"""What the DPO does with a mail the bot kept but could not handle.

A quarantined mail (malformed, empty, or stopped by an internal error) is kept whole
and sealed, because it may be a request. The DPO reads it (`mailbot mails show`), hands
it back to the bot once the cause is fixed (`mails retry`: the worker runs it through
the pipeline again), or sets it aside (`mails dismiss`): its content, ID copies
included, is erased at once (LEGAL.md §2.5, §5) and only who dismissed it, when and
why stay on the row.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

from sqlmodel import Session

from mailbot.cases.models import Disposition, InboundMessage
from mailbot.cases.retention import erase_mail
from mailbot.ingest import stored_raw, stored_whole
from mailbot.mail.parse import MalformedMail, parse_mail
from mailbot.sealing import Sealer

# What `show` prints of a mail that does not parse: enough to recognise it.
UNPARSED_PREVIEW_BYTES = 20_000
_ENCODED_BLOCK = re.compile(r"(?m)(?:^[A-Za-z0-9+/=]{40,}\r?\n?)+")


class ReviewRefused(ValueError):
    """The mail cannot be retried or dismissed; the message says why."""


@dataclass(frozen=True, slots=True)
class StoredMail:
    """A stored mail as the DPO reads it: headers, the text, what was attached."""

    id: int
    received_at: datetime
    disposition: str
    reason: str | None
    sender: str | None
    subject: str
    text: str
    attachments: tuple[str, ...]  # "name (type, size)"; never the bytes
    erased: bool


def read_stored(inbound: InboundMessage, sealer: Sealer) -> StoredMail:
    """The mail's readable parts; a mail that does not parse shows its first bytes."""
    assert inbound.id is not None
    raw = b"" if inbound.erased_at is not None else stored_raw(inbound, sealer)
    try:
        mail = parse_mail(raw)
        sender, subject, text = mail.sender, mail.subject, mail.text
        attachments = tuple(
            f"{part.filename or 'unnamed'} ({part.sniffed_type}, {part.size} bytes)"
            for part in mail.attachments
        )
    except MalformedMail:
        # Our parser refused it (too many parts, too large, ...): its headers still read
        # cheaply, and the first bytes of the body show what it is about.
        separator = b"\r\n\r\n" if b"\r\n\r\n" in raw else b"\n\n"
        head, _, body = raw.partition(separator)
        headers = BytesHeaderParser(policy=policy.default).parsebytes(head + b"\r\n\r\n")
        sender = inbound.sender or _header(headers, "From")
        subject, attachments = _header(headers, "Subject"), ()
        text = _without_encoded_blocks(
            body[:UNPARSED_PREVIEW_BYTES].decode("utf-8", errors="replace")
        )
    return StoredMail(
        id=inbound.id,
        received_at=inbound.received_at,
        disposition=inbound.disposition,
        reason=inbound.reason,
        sender=_displayable(sender) if sender else sender,
        subject=_displayable(subject),
        text=_displayable(text),
        attachments=tuple(_displayable(name) for name in attachments),
        erased=inbound.erased_at is not None,
    )


def _displayable(text: str) -> str:
    """Control characters replaced: a mail must not drive the DPO's terminal (escape
    sequences that retitle it or write to the clipboard)."""
    return "".join(
        char if char in "\n\t" or unicodedata.category(char)[0] != "C" else "\ufffd"
        for char in text
    )


def _without_encoded_blocks(text: str) -> str:
    """Base64 lines (an image, perhaps an ID copy) replaced by one line saying so."""
    return _ENCODED_BLOCK.sub("[encoded attachment data]\n", text)


def _header(headers: Message, name: str) -> str:
    try:
        return str(headers.get(name, ""))
    except (ValueError, TypeError):  # an undecodable header: the DPO sees the rest
        return ""


def retry(session: Session, inbound: InboundMessage) -> None:
    """Hand a quarantined mail back to the worker, which handles it as if just stored."""
    _require_quarantined(inbound)
    if not stored_whole(inbound):
        # Handling its headers as the whole mail would open a case without its text and
        # never see its attachments; the mail itself stays in the mailbox folder.
        raise ReviewRefused(
            f"mail {inbound.id} was stored without its content ({inbound.reason}): read it "
            "in the mailbox folder, where it stays flagged $MailbotQuarantined"
        )
    inbound.disposition = Disposition.PENDING
    inbound.reason = None
    inbound.handled_at = None
    # Flag it again in the IMAP folder once handled: "done" replaces "quarantined".
    inbound.marked_in_source = False
    session.add(inbound)


def dismiss(
    session: Session,
    inbound: InboundMessage,
    actor: str,
    why: str,
    sealer: Sealer,
    now: datetime,
) -> None:
    """The DPO read it and nothing is to be done: erase its content, keep the decision."""
    _require_quarantined(inbound)
    if not actor.strip() or not why.strip():
        raise ValueError("a dismissal needs who decided (--as) and why (--reason)")
    erase_mail(session, inbound, sealer, now)
    inbound.disposition = Disposition.DISMISSED
    decision = f"dismissed by {actor.strip()} on {now:%Y-%m-%d}: {why.strip()}"
    inbound.reason = f"{inbound.reason}; {decision}"[:1000] if inbound.reason else decision[:1000]
    session.add(inbound)


def _require_quarantined(inbound: InboundMessage) -> None:
    if inbound.disposition != Disposition.QUARANTINED:
        raise ReviewRefused(
            f"mail {inbound.id} is {inbound.disposition}, not quarantined: "
            "only a quarantined mail can be retried or dismissed"
        )
