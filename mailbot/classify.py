"""What `mailbot classify` reports about mail files (DESIGN.md contract; no database).

`{"file", "language", "primary", "labels", "scores", "confidence", "auto_reply",
"id_document": {"present", "kind", "filename"}}`, one object per file. Files are read
in batches because the trained classifier's encoder is much faster on several texts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from classifiers import LABELS, Classification, Classifier, with_attached
from mailbot.mail.parse import MalformedMail, parse_mail
from mailbot.triage.attached_letter import attached_letter
from mailbot.triage.identity import NO_DOCUMENT, IdDocument, check_documents, find_id_document
from mailbot.triage.screen import Verdict, screen

# Mails a machine sent: the classifier's text reading is overruled by the headers.
AUTOMATIC = frozenset({Verdict.AUTO_REPLY, Verdict.BOUNCE, Verdict.MAILING_LIST, Verdict.OWN_MAIL})
BATCH = 64


@dataclass(frozen=True, slots=True)
class ReadFile:
    """One file as far as it could be read, before classification."""

    name: str
    subject: str
    text: str
    automatic: bool
    id_document: IdDocument
    error: str | None


def read_file(name: str, raw: bytes) -> ReadFile:
    try:
        mail = parse_mail(raw)
    except MalformedMail as exc:
        # Still say what the text is about: the DPO may have to read it anyway.
        text = raw[:200_000].decode("utf-8", errors="replace")
        return ReadFile(name, "", text, False, NO_DOCUMENT, exc.reason)
    automatic = screen(mail, own_addresses=frozenset()).verdict in AUTOMATIC
    checks = check_documents(mail)
    text = with_attached(mail.text, attached_letter(mail, checks))
    return ReadFile(name, mail.subject, text, automatic, find_id_document(mail, checks), None)


def classify_files(
    files: Iterable[ReadFile], classifier: Classifier
) -> Iterator[dict[str, object]]:
    batch: list[ReadFile] = []
    for file in files:
        batch.append(file)
        if len(batch) == BATCH:
            yield from _classified(batch, classifier)
            batch = []
    yield from _classified(batch, classifier)


def _classified(batch: Sequence[ReadFile], classifier: Classifier) -> Iterator[dict[str, object]]:
    if not batch:
        return
    mails = [(file.subject, file.text) for file in batch]
    many = getattr(classifier, "classify_many", None)
    results: list[Classification] = (
        many(mails) if callable(many) else [classifier.classify(*mail) for mail in mails]
    )
    for file, result in zip(batch, results, strict=True):
        yield contract(file, result)


def contract(file: ReadFile, result: Classification) -> dict[str, object]:
    primary, labels = result.primary, list(result.labels)
    if file.automatic:
        primary, labels = "not_a_request", ["not_a_request"]
    fields: dict[str, object] = {
        "file": file.name,
        "language": result.language,
        "primary": primary,
        "labels": labels,
        "scores": {label: round(result.scores.get(label, 0.0), 4) for label in LABELS},
        "confidence": round(result.confidence, 4),
        "auto_reply": file.automatic,
        "id_document": file.id_document.as_json(),
    }
    if file.error is not None:
        fields["error"] = file.error
    return fields
