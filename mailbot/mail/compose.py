"""Building the MIME message of one reply from what the outbox row holds (no I/O)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from mailbot.mail.header_classes import MAIL_POLICY


@dataclass(frozen=True, slots=True)
class Reply:
    sender: str
    sender_name: str
    to: str
    subject: str
    body: str
    language: str
    message_id: str
    date: datetime
    case_reference: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()


def new_message_id(case_reference: str, domain: str) -> str:
    """Unique, and naming the case so a human reading raw headers sees where it belongs.

    Short enough that the header is never folded: make_msgid's longer form got folded
    over two lines, which some receivers read back with a leading space."""
    return f"<{case_reference}.{secrets.token_hex(8)}@{domain}>"


def thread_references(in_reply_to: str | None, references: tuple[str, ...]) -> tuple[str, ...]:
    """RFC 5322 §3.6.4: the parent's References followed by the parent's Message-ID."""
    chain = list(references)
    if in_reply_to and in_reply_to not in chain:
        chain.append(in_reply_to)
    # Long threads would grow the header without bound; the first and the latest
    # entries are what threading clients use.
    return tuple(chain[:1] + chain[-19:]) if len(chain) > 20 else tuple(chain)


def compose(reply: Reply) -> EmailMessage:
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = Address(reply.sender_name, addr_spec=reply.sender)
    message["To"] = reply.to
    message["Subject"] = _one_line(reply.subject)
    message["Date"] = format_datetime(reply.date)
    message["Message-ID"] = reply.message_id
    if reply.in_reply_to:
        message["In-Reply-To"] = reply.in_reply_to
    if reply.references:
        message["References"] = " ".join(reply.references)
    # RFC 3834: marks the mail as automatic so well-behaved systems do not answer it,
    # and lets our own screen recognise it if it ever comes back.
    message["Auto-Submitted"] = "auto-replied"
    message["X-Mailbot-Reference"] = reply.case_reference
    message.set_content(reply.body, charset="utf-8", cte="quoted-printable")
    # After set_content, which drops every Content-* header set before it.
    message["Content-Language"] = reply.language
    return message


def _one_line(text: str) -> str:
    return " ".join(text.split())
