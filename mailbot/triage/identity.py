"""What a mail carries as a possible ID copy (LEGAL.md §2.1: always check, always record).

Every image or PDF attachment is read by `mailbot.triage.id_check` (by content, never by
file name); the most telling finding is the mail's: a card front over a back, any ID
over a document the check could not read as one (`other_document`, also what every
document is where OCR is unavailable).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mailbot.mail.parse import Attachment
from mailbot.triage.id_evidence import ID_KINDS

__all__ = ["DOCUMENT_TYPES", "ID_KINDS", "IdDocument", "find_id_document", "strongest_kind"]

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
# Most telling first: what a mail "carries" when it has several documents.
KIND_RANK = ("eid_front", "passport", "driving_licence", "eid_back", "other_document", "none")


def strongest_kind(kinds: Iterable[str]) -> str:
    """The most telling of `kinds` ("none" for none)."""
    ranked = [KIND_RANK.index(kind) for kind in kinds if kind in KIND_RANK]
    return KIND_RANK[min(ranked, default=len(KIND_RANK) - 1)]


@dataclass(frozen=True, slots=True)
class IdDocument:
    present: bool
    kind: str  # one of ID_KINDS
    filename: str | None

    def as_json(self) -> dict[str, object]:
        return {"present": self.present, "kind": self.kind, "filename": self.filename}


NO_DOCUMENT = IdDocument(present=False, kind="none", filename=None)


def find_id_document(attachments: tuple[Attachment, ...]) -> IdDocument:
    """The attachment most telling of an ID copy, judged by its bytes, not its name."""
    from mailbot.triage.id_check import check_attachment  # Pillow and OCR: on demand

    found = [
        (check_attachment(a.data, a.sniffed_type).kind, a)
        for a in attachments
        if a.sniffed_type in DOCUMENT_TYPES
    ]
    if not found:
        return NO_DOCUMENT
    kind = strongest_kind(kind for kind, _ in found)
    attachment = next(a for found_kind, a in found if found_kind == kind)
    return IdDocument(present=True, kind=kind, filename=attachment.filename)
