"""What a mail carries as a possible ID copy (LEGAL.md §2.1: always check, always record).

Every image or PDF attachment is read by `mailbot.triage.id_check` (by content, never by
file name); the most telling finding is the mail's: a card front over a back, any ID
over a document the check could not read as one (`other_document`, also what every
document is where OCR is unavailable).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mailbot.mail.parse import ParsedMail
from mailbot.triage.id_evidence import ID_KINDS, IdCheck

__all__ = [
    "DOCUMENT_TYPES",
    "ID_KINDS",
    "Finding",
    "IdDocument",
    "check_documents",
    "find_id_document",
    "strongest_kind",
    "surest_kind",
]

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


def check_documents(mail: ParsedMail) -> dict[int, IdCheck]:
    """The ID check of every attachment that could be a document, by part index: the
    one judgement of what a mail carries, for the worker and `mailbot classify` alike.

    The OCR takes seconds per image: the worker runs this before the mail's database
    transaction, so that nobody else's write (a DPO's approval) waits for it."""
    from mailbot.triage.id_check import check_attachment  # Pillow and OCR: on demand

    return {
        index: check_attachment(part.data, part.sniffed_type, mail.sender_name)
        for index, part in enumerate(mail.attachments)
        if part.sniffed_type in DOCUMENT_TYPES
    }


@dataclass(frozen=True, slots=True)
class Finding:
    """What the check found in one attachment, as the identity decisions need it."""

    kind: str
    sure: bool  # enough evidence, or valid MRZ check digits
    holder_match: bool | None  # shows the sender's display name (None: not compared)

    @classmethod
    def of(cls, check: IdCheck) -> Finding:
        return cls(check.kind, check.verified, check.holder_match)


def surest_kind(findings: Iterable[Finding]) -> str:
    """The most telling finding the check is sure of, on a document that does not show
    another name than the sender's ("none" when there is no such finding)."""
    return strongest_kind(f.kind for f in findings if f.sure and f.holder_match is not False)


def find_id_document(mail: ParsedMail, checks: Mapping[int, IdCheck] | None = None) -> IdDocument:
    """The attachment most telling of an ID copy, judged by its bytes, not its name."""
    if checks is None:
        checks = check_documents(mail)
    if not checks:
        return NO_DOCUMENT
    kind = strongest_kind(check.kind for check in checks.values())
    index = next(i for i, check in sorted(checks.items()) if check.kind == kind)
    return IdDocument(present=True, kind=kind, filename=mail.attachments[index].filename)
