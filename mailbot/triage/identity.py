"""What a mail carries as a possible ID copy (LEGAL.md §2.1: always check, always record).

This skeleton version looks at the sniffed types only: an image or PDF attachment is
recorded as an unverified `other_document`. Reading the card itself (OCR, machine-readable
zone) is the identity issue's work; until then the DPO checks the copy by eye.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailbot.mail.parse import Attachment

DOCUMENT_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/heic",
        "image/heif",
        "image/webp",
        "image/tiff",
        "application/pdf",
    }
)
ID_KINDS = ("eid_front", "eid_back", "passport", "driving_licence", "other_document", "none")


@dataclass(frozen=True, slots=True)
class IdDocument:
    present: bool
    kind: str  # one of ID_KINDS
    filename: str | None

    def as_json(self) -> dict[str, object]:
        return {"present": self.present, "kind": self.kind, "filename": self.filename}


NO_DOCUMENT = IdDocument(present=False, kind="none", filename=None)


def find_id_document(attachments: tuple[Attachment, ...]) -> IdDocument:
    """The first attachment that could be an ID copy, judged by its bytes, not its name."""
    for attachment in attachments:
        if attachment.sniffed_type in DOCUMENT_TYPES:
            return IdDocument(present=True, kind="other_document", filename=attachment.filename)
    return NO_DOCUMENT


def attachment_kind(attachment: Attachment) -> str:
    return "other_document" if attachment.sniffed_type in DOCUMENT_TYPES else "none"
