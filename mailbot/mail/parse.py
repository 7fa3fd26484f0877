"""Turn the raw bytes of one inbound mail into a ParsedMail, or refuse it with MalformedMail."""

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any

from mailbot.mail.bounds import DEFAULT_LIMITS, MalformedMail, ParseLimits, refuse_unbounded
from mailbot.mail.content import attempt, decode_text, html_to_text, sniff_type
from mailbot.mail.header_classes import MAIL_POLICY
from mailbot.mail.headers import (
    addresses,
    clean_value,
    first_msg_id,
    first_value,
    injected_header,
    msg_ids,
    read_field,
    sent_date,
)

# MalformedMail and ParseLimits live in bounds.py, decode_text, html_to_text and
# sniff_type in content.py; callers may import them here.
__all__ = [
    "Attachment",
    "MalformedMail",
    "ParseLimits",
    "ParsedMail",
    "decode_text",
    "html_to_text",
    "parse_mail",
    "sniff_type",
]


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str | None
    declared_type: str
    sniffed_type: str
    size: int
    sha256: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ParsedMail:
    message_id: str | None
    subject: str
    sender: str | None
    sender_name: str
    reply_to: str | None
    recipients: tuple[str, ...]
    date: datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    content_type: str
    headers: tuple[tuple[str, str], ...]
    text: str
    attachments: tuple[Attachment, ...]
    problems: tuple[str, ...]

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)


_ENCLOSED_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
_BODY_TYPES = frozenset({"text/plain", "text/html"})
_DEFECT_WORDS = {"NoBoundaryInMultipartDefect": "multipart without boundary"}


def parse_mail(raw: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> ParsedMail:
    """Parse one mail; whatever the bytes, the only exception raised is MalformedMail."""
    try:
        return _parse(raw, limits)
    except MalformedMail:
        raise
    except Exception as exc:  # the contract: no other exception leaves the parser
        raise MalformedMail(f"message could not be parsed ({type(exc).__name__})") from exc


def _parse(raw: bytes, limits: ParseLimits) -> ParsedMail:
    if not raw.strip():
        raise MalformedMail("empty message")
    # Some headers and part bombs cost the parser minutes: refuse them before parsing.
    refuse_unbounded(raw, limits)
    msg = BytesParser(policy=MAIL_POLICY).parsebytes(raw)
    counted = sum(1 for _ in msg.walk())
    if counted > limits.max_parts:
        raise MalformedMail(f"too many MIME parts ({counted} > {limits.max_parts})")
    fields = [read_field(str(name), str(value)) for name, value in msg.raw_items()]
    if injected := injected_header(fields):
        raise MalformedMail(f"CR/LF injection in {injected} header")
    text, attachments, problems = _read_body(msg, limits)
    senders = addresses(fields, "from")
    reply_to = addresses(fields, "reply-to")
    references = [i for f in fields if f.name == "references" for i in msg_ids(f.value)]
    return ParsedMail(
        message_id=first_msg_id(fields, "message-id"),
        subject=first_value(fields, "subject") or "",
        sender=senders[0][1] if senders else None,
        sender_name=senders[0][0] if senders else "",
        reply_to=reply_to[0][1] if reply_to else None,
        recipients=tuple(dict.fromkeys(a for _, a in addresses(fields, "to", "cc"))),
        date=sent_date(fields),
        in_reply_to=first_msg_id(fields, "in-reply-to"),
        references=tuple(references),
        content_type=attempt(msg.get_content_type, "text/plain").lower(),
        headers=tuple((f.name, f.value) for f in fields),
        text=text,
        attachments=tuple(attachments),
        problems=tuple(dict.fromkeys(problems)),
    )


def _parts(msg: Message) -> Iterator[Message]:
    """Every part in document order, without entering enclosed messages (they are attachments)."""
    stack: list[Message] = [msg]
    while stack:
        part = stack.pop()
        yield part
        if part.is_multipart() and attempt(part.get_content_maintype, "") == "multipart":
            children: Any = part.get_payload()
            stack.extend(reversed(children))


def _read_body(msg: Message, limits: ParseLimits) -> tuple[str, list[Attachment], list[str]]:
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    problems: list[str] = []
    for part in _parts(msg):
        problems.extend(_defect_text(type(d).__name__) for d in getattr(part, "defects", []))
        ctype = attempt(part.get_content_type, "application/octet-stream").lower()
        if ctype.startswith("multipart/"):
            if not part.is_multipart():  # boundary lost: the payload is just text
                plain.append(_part_text(part, problems))
                problems.append("multipart without boundary")
            continue
        disposition = attempt(part.get_content_disposition, None)
        if ctype in _BODY_TYPES and disposition != "attachment":
            (plain if ctype == "text/plain" else html).append(_part_text(part, problems))
        else:
            attachments.append(_attachment(part, ctype, limits))
    text = "\n\n".join(t for t in plain if t.strip())
    if not text and html:
        text = "\n\n".join(_html_text(h, problems) for h in html)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    if len(text) > limits.max_text_chars:
        text = text[: limits.max_text_chars]
        problems.append(f"text truncated to {limits.max_text_chars} characters")
    return text, attachments, problems


def _html_text(html: str, problems: list[str]) -> str:
    try:
        return html_to_text(html)
    except Exception:  # html.parser still asserts on some marked sections
        problems.append("HTML could not be read; tags stripped")
        return re.sub(r"<[^>]*>", " ", html).strip()


def _defect_text(name: str) -> str:
    if name in _DEFECT_WORDS:
        return _DEFECT_WORDS[name]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name.removesuffix("Defect")).lower()


def _part_bytes(part: Message) -> bytes:
    if part.is_multipart():  # message/* parts hold parsed messages
        enclosed: Any = part.get_payload()
        return b"".join(_message_bytes(m) for m in enclosed)
    payload: object = attempt(lambda: part.get_payload(decode=True), None)
    return payload if isinstance(payload, bytes) else b""


def _message_bytes(msg: Message) -> bytes:
    compat = attempt(lambda: msg.as_bytes(policy=policy.compat32), None)
    return compat if compat is not None else attempt(msg.as_bytes, b"")


def _part_text(part: Message, problems: list[str]) -> str:
    charset = attempt(part.get_content_charset, None)
    text, problem = decode_text(_part_bytes(part), charset)
    if problem:
        problems.append(problem)
    return text


def _attachment(part: Message, ctype: str, limits: ParseLimits) -> Attachment:
    data = _part_bytes(part)
    if len(data) > limits.max_attachment_bytes:
        too_big, allowed = _size(len(data)), _size(limits.max_attachment_bytes)
        raise MalformedMail(f"attachment too large ({too_big} > {allowed})")
    return Attachment(
        filename=_safe_filename(attempt(part.get_filename, None)),
        declared_type=ctype,
        sniffed_type="message/rfc822" if ctype in _ENCLOSED_MESSAGE_TYPES else sniff_type(data),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    return f"{count / 1024:.1f} KB" if count >= 1024 else f"{count} bytes"


def _safe_filename(name: str | None) -> str | None:
    """The sender's file name without directories or control characters, or None."""
    if not name:
        return None
    base = re.split(r"[/\\]", clean_value(str(name)))[-1]
    # Cf covers bidi overrides that disguise "gpj.exe" as "exe.jpg".
    kept = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf")).strip()
    return kept[:255] if kept not in ("", ".", "..") else None
