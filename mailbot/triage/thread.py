"""Does an inbound mail continue an existing case? The clues, extracted without I/O.

A reply joins its case when it answers one of our Message-IDs (In-Reply-To or
References), or when its subject names a case reference and it comes from that case's
requester. A reference quoted from another address is not enough: anyone can type one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.mail.parse import ParsedMail


@dataclass(frozen=True, slots=True)
class ThreadClues:
    message_ids: tuple[str, ...]  # ids this mail answers, newest first
    references: tuple[str, ...]  # case references named in the subject

    @property
    def empty(self) -> bool:
        return not (self.message_ids or self.references)


def reference_pattern(prefix: str) -> re.Pattern[str]:
    """Finds a reference in free text such as a reply's subject line."""
    return re.compile(rf"\b{re.escape(prefix)}-(\d{{4}})-(\d{{4,}})\b", re.IGNORECASE)


def thread_clues(mail: ParsedMail, reference_prefix: str) -> ThreadClues:
    ids: list[str] = []
    if mail.in_reply_to:
        ids.append(mail.in_reply_to)
    ids.extend(reversed(mail.references))
    found = reference_pattern(reference_prefix).finditer(mail.subject)
    refs = tuple(dict.fromkeys(m.group(0).upper() for m in found))
    return ThreadClues(message_ids=tuple(dict.fromkeys(ids)), references=refs)


def same_requester(case_requester: str, sender: str | None) -> bool:
    return sender is not None and case_requester.casefold() == sender.casefold()
