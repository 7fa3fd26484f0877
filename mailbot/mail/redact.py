"""Cutting ID copies out of a stored mail once they were checked (LEGAL.md §2.5).

The rest of the mail (the request, its headers) stays as evidence of what was asked;
each removed part becomes a short text/plain note saying what was there and when it
was deleted, so the DPO reading the mail later sees why an attachment is missing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from typing import Any

REMOVED_HEADER = "X-Mailbot-Removed"


def cut_attachments(raw: bytes, sha256s: frozenset[str], note: str) -> tuple[bytes, int]:
    """`raw` with every leaf part whose decoded bytes hash to one of `sha256s` replaced by
    `note`; returns the new bytes and how many parts were cut."""
    message = message_from_bytes(raw, policy=compat32)
    cut = 0
    for part in _leaves(message):
        if _digest(part) in sha256s:
            _replace_with_note(part, note)
            cut += 1
    if not cut:
        return raw, 0
    return message.as_bytes(), cut


def _leaves(message: Message) -> Iterator[Message]:
    stack: list[Message] = [message]
    while stack:
        part = stack.pop()
        if part.is_multipart():
            children: Any = part.get_payload()
            stack.extend(reversed(children))
        else:
            yield part


def _digest(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a damaged part cannot be an attachment we recorded
        return ""
    return hashlib.sha256(payload).hexdigest() if isinstance(payload, bytes) else ""


def _replace_with_note(part: Message, note: str) -> None:
    for header in ("Content-Type", "Content-Transfer-Encoding", "Content-Disposition"):
        del part[header]
    part[REMOVED_HEADER] = "id-copy"
    part["Content-Type"] = 'text/plain; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "8bit"
    part["Content-Disposition"] = 'inline; filename="removed.txt"'
    part.set_payload(note.encode("utf-8"), charset=None)
