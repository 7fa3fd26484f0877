"""The DPO's readings the classifier learns from (LEGAL.md: sealed, kept no longer than
the case).

When the DPO settles a triaged case or corrects the rights of a case, the text the
classifier read (subject, the mail's new text and its attached letters' own text) is
kept with both readings. `mailbot model retrain` turns them into training mails; the
model that comes out is used only after `mailbot model use`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from sqlmodel import Session, col, delete, select

from classifiers import LABELS, RIGHTS, SERVED_LANGUAGES, with_attached
from mailbot.cases.models import Case, ReadingCorrection
from mailbot.mail.parse import ParsedMail
from mailbot.triage.attached_letter import attached_letter
from mailbot.triage.id_evidence import IdCheck

TRAINING_ID_PREFIX: Final = "dpo-"


def valid_reading(labels: Sequence[str]) -> str | None:
    """What is wrong with a reading (None: nothing): labels of the vocabulary, distinct,
    `other` and `not_a_request` alone."""
    unknown = [label for label in labels if label not in LABELS]
    if not labels or unknown:
        return f"not labels of the vocabulary: {unknown or 'none given'}"
    if len(set(labels)) != len(labels):
        return "a label is named twice"
    if len(labels) > 1 and not set(labels) <= set(RIGHTS):
        return "other and not_a_request stand alone"
    return None


def record_correction(
    session: Session,
    case: Case,
    bot_labels: Sequence[str],
    labels: Sequence[str],
    actor: str,
    mail: ParsedMail | None,
    checks: Mapping[int, IdCheck],
    now: datetime,
) -> None:
    """Keep the DPO's reading of `case` beside the classifier's (replacing an earlier one;
    what the classifier said stays the first correction's). `checks`: what the ID check
    found in each attachment of `mail`, by part index; an identity document's text is
    never kept. Without its first mail (erased) there is nothing to learn from."""
    if mail is None or case.id is None:
        return
    # Attached letters' own text only: a scan's OCR ran when the mail came in and its
    # words were not kept; reading it again here would hold up the DPO for seconds.
    text = with_attached(mail.text, attached_letter(mail, checks))
    row = session.exec(
        select(ReadingCorrection).where(ReadingCorrection.case_id == case.id)
    ).first() or ReadingCorrection(
        case_id=case.id, actor=actor, language="", bot_labels=" ".join(bot_labels), labels=""
    )
    row.corrected_at, row.actor = now, actor
    row.language = case.language  # the reply language: always one we serve
    row.labels = " ".join(labels)
    row.subject, row.text = mail.subject, text
    session.add(row)


def forget_corrections(session: Session, case_id: int) -> None:
    """Retention: the case's personal data goes, its correction with it."""
    session.exec(delete(ReadingCorrection).where(col(ReadingCorrection.case_id) == case_id))


def training_records(session: Session) -> list[dict[str, object]]:
    """The corrections as training mails (classifiers/data's format, the DPO's labels)."""
    rows = session.exec(select(ReadingCorrection).order_by(col(ReadingCorrection.id))).all()
    records: list[dict[str, object]] = []
    for row in rows:
        labels = row.labels.split()
        language = row.language if row.language in SERVED_LANGUAGES else "en"
        records.append(
            {
                "id": f"{TRAINING_ID_PREFIX}{row.case_id}",
                "lang": language,
                "subject": row.subject,
                "body": row.text,
                "labels": labels,
                "primary": labels[0],
                "notes": f"DPO correction; the classifier said {row.bot_labels or 'nothing'}",
            }
        )
    return records
