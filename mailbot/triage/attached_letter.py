"""The text of the letters a mail carries as attachments, for the classifier.

"See my letter attached": the request is then in a PDF, a DOCX or ODT, a scan or a photo
of a printed letter. A document's own text (a PDF's text layer, the paragraphs of a
DOCX or ODT) is read directly; a scan or a photo is read by the OCR that the ID check
already ran on it, so nothing is read twice. The words of an identity document never
count: the ID check keeps them to itself. Bounded like the readings it joins: pages and
pixels by the ID check, pages, unpacked bytes and characters by `attachment_text`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mailbot.mail.attachment_text import PDF, attachment_text
from mailbot.mail.parse import ParsedMail, decode_text
from mailbot.triage.id_evidence import IDENTITY_KINDS, IdCheck

ATTACHED_CHARS: Final = 20_000  # all the attachments of one mail together
ZIP: Final = b"PK\x03\x04"  # DOCX and ODT are zip archives, whatever the sniffer calls them


def attached_letter(mail: ParsedMail, checks: Mapping[int, IdCheck]) -> str:
    """The words of the mail's attached letters, in the mail's order ("" when none)."""
    texts: list[str] = []
    for index, part in enumerate(mail.attachments):
        check = checks.get(index)
        if check is not None and check.kind in IDENTITY_KINDS:
            continue
        text = ""
        if part.sniffed_type == "text/plain":
            text, _ = decode_text(part.data[: ATTACHED_CHARS * 4], "utf-8")
        elif part.sniffed_type == PDF or part.data.startswith(ZIP):
            text = attachment_text(part.data, part.sniffed_type).text
        if not text and check is not None:
            text = check.text  # a scan or a photo: what the OCR read
        if text.strip():
            texts.append(text.strip())
    return "\n\n".join(texts)[:ATTACHED_CHARS]
