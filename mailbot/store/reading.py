"""A stored mail as a person reads it: sender, subject, text, attachment names.

Whatever the mail holds, what comes out is safe to print: control characters are
replaced (a mail must not drive the DPO's terminal) and attachment bytes never shown.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

from mailbot.mail.bounds import DEFAULT_LIMITS, refuse_unbounded
from mailbot.mail.parse import MalformedMail, parse_mail
from mailbot.sealing import Sealer
from mailbot.store.models import InboundMessage
from mailbot.store.sealed import stored_raw

# What `show` prints of a mail that does not parse: enough to recognise it.
UNPARSED_PREVIEW_BYTES = 20_000
_ENCODED_BLOCK = re.compile(r"(?m)(?:^[A-Za-z0-9+/=]{40,}\r?\n?)+")


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
        headers = _bounded_headers(head)
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
        sender=displayable(sender) if sender else sender,
        subject=displayable(subject),
        text=displayable(text),
        attachments=tuple(displayable(name) for name in attachments),
        erased=inbound.erased_at is not None,
    )


def displayable(text: str) -> str:
    """Control characters replaced: a mail must not drive the DPO's terminal (escape
    sequences that retitle it or write to the clipboard). For anything printed that a
    mail or a person may have written: a stored mail, a draft."""
    return "".join(
        char if char in "\n\t" or unicodedata.category(char)[0] != "C" else "\ufffd"
        for char in text
    )


def _without_encoded_blocks(text: str) -> str:
    """Base64 lines (an image, perhaps an ID copy) replaced by one line saying so."""
    return _ENCODED_BLOCK.sub("[encoded attachment data]\n", text)


def _bounded_headers(head: bytes) -> Message:
    """The header block parsed, or no header at all when it is past the bounds that keep
    the parser fast (the reason the mail was refused then says which)."""
    try:
        refuse_unbounded(head, DEFAULT_LIMITS)
    except MalformedMail:
        return Message()
    return BytesHeaderParser(policy=policy.default).parsebytes(head + b"\r\n\r\n")


def _header(headers: Message, name: str) -> str:
    try:
        return str(headers.get(name, ""))
    except Exception:  # undecodable, or nested past the parser's recursion: the rest shows
        return ""
