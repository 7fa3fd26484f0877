"""What `mailbot classify` reports about one mail file (DESIGN.md contract; no database).

`{"file", "language", "primary", "labels", "scores", "confidence", "auto_reply",
"id_document": {"present", "kind", "filename"}}`, one object per file.
"""

from __future__ import annotations

from classifiers import LABELS, Classifier
from mailbot.mail.parse import MalformedMail, parse_mail
from mailbot.triage.identity import NO_DOCUMENT, find_id_document
from mailbot.triage.screen import Verdict, screen

# Mails a machine sent: the classifier's text reading is overruled by the headers.
AUTOMATIC = frozenset({Verdict.AUTO_REPLY, Verdict.BOUNCE, Verdict.MAILING_LIST, Verdict.OWN_MAIL})


def classify_file(name: str, raw: bytes, classifier: Classifier) -> dict[str, object]:
    try:
        mail = parse_mail(raw)
    except MalformedMail as exc:
        # Still say what the text is about: the DPO may have to read it anyway.
        text = raw[:200_000].decode("utf-8", errors="replace")
        result = classifier.classify("", text)
        return {
            **_fields(
                name,
                result.language,
                result.primary,
                list(result.labels),
                result.scores,
                result.confidence,
                False,
            ),
            "id_document": NO_DOCUMENT.as_json(),
            "error": exc.reason,
        }
    automatic = screen(mail, own_addresses=frozenset()).verdict in AUTOMATIC
    result = classifier.classify(mail.subject, mail.text)
    primary, labels = result.primary, list(result.labels)
    scores = dict(result.scores)
    if automatic:
        primary, labels = "not_a_request", ["not_a_request"]
    return {
        **_fields(name, result.language, primary, labels, scores, result.confidence, automatic),
        "id_document": find_id_document(mail.attachments).as_json(),
    }


def _fields(
    name: str,
    language: str,
    primary: str,
    labels: list[str],
    scores: dict[str, float],
    confidence: float,
    auto_reply: bool,
) -> dict[str, object]:
    return {
        "file": name,
        "language": language,
        "primary": primary,
        "labels": labels,
        "scores": {label: round(scores.get(label, 0.0), 4) for label in LABELS},
        "confidence": round(confidence, 4),
        "auto_reply": auto_reply,
    }
