"""The baseline classifier and its scoring: phrase-rule evidence plus article citations.

Rules match the case- and accent-folded subject and the new part of the body
(quoted history cut off). Each rule that fires adds its weight to its label's
evidence; a label's score is 1 - exp(-evidence), so one clear phrase (weight
about 1.5) gives roughly 0.78 and a right is exercised from 0.5 upwards. The rules
themselves are in patterns.py and context_patterns.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Final

from classifiers.citations import cited_rights, fold
from classifiers.context_patterns import MASS_MAIL_RULES, PRIVACY_RULES, SERVICE_RULES
from classifiers.labels import LABELS, RIGHTS, Classification
from classifiers.language import detect_language
from classifiers.patterns import RIGHT_RULES, Rule
from classifiers.quoting import new_text, subject_topic

MAX_BODY_CHARS: Final = 20_000  # the new text sits at the top; the rest is history or noise
MAX_SUBJECT_CHARS: Final = 1_000
# A right is exercised when its score reaches this (evidence ln 2).
EXERCISED_SCORE: Final = 0.5
# An explicit article citation is about as strong as two clear phrases.
CITATION_WEIGHT: Final = 2.5
# A reply's subject repeats the thread's old topic: alone it never makes a right.
REPLY_SUBJECT_WEIGHT: Final = 0.25
# Mass-mail and service evidence needed before calling a mail not_a_request.
NOT_A_REQUEST_EVIDENCE: Final = 1.5
# "other" is a fallback, never a confident reading: its confidence stays low.
FALLBACK_CONFIDENCE_CAP: Final = 0.45
_SCORE_DIGITS: Final = 4


class BaselineClassifier:
    """Phrase rules and article citations; deterministic, offline, no training."""

    name: str = "baseline"

    def classify(self, subject: str, body: str) -> Classification:
        """Read the subject and the new text of the body and name the rights exercised."""
        topic, is_reply, is_forward = subject_topic(subject[:MAX_SUBJECT_CHARS])
        text = new_text(body[:MAX_BODY_CHARS], forwarded=is_forward)
        language = detect_language(f"{topic}\n{text}")
        folded_topic, folded_text = _matchable(topic), _matchable(text)
        subject_weight = REPLY_SUBJECT_WEIGHT if is_reply else 1.0
        rights = rule_evidence(RIGHT_RULES, folded_topic, folded_text, subject_weight)
        for right in cited_rights(text if is_reply else f"{topic}\n{text}"):
            rights[right] = rights.get(right, 0.0) + CITATION_WEIGHT
        privacy = rule_evidence(PRIVACY_RULES, folded_topic, folded_text, subject_weight)
        mass_mail = rule_evidence(MASS_MAIL_RULES, folded_topic, folded_text, 1.0)
        service = rule_evidence(SERVICE_RULES, folded_topic, folded_text, 1.0)
        return decide(
            language,
            rights,
            privacy=sum(privacy.values()),
            mass_mail=sum(mass_mail.values()),
            service=sum(service.values()),
        )


def rule_evidence(
    rules: Iterable[Rule], subject: str, text: str, subject_weight: float
) -> dict[str, float]:
    """Summed weight per label of the rules that match the folded subject or text."""
    evidence: dict[str, float] = {}
    for label, weight, pattern in rules:
        if pattern.search(text):
            hit = 1.0
        elif subject and pattern.search(subject):
            hit = subject_weight
        else:
            continue
        evidence[label] = evidence.get(label, 0.0) + weight * hit
    return evidence


def decide(
    language: str,
    rights: Mapping[str, float],
    *,
    privacy: float,
    mass_mail: float,
    service: float,
) -> Classification:
    """Turn evidence for each right, privacy topic, bulk mail and customer service into a result."""
    scores = {right: score_of(rights.get(right, 0.0)) for right in RIGHTS}
    strongest = max(rights.get(right, 0.0) for right in RIGHTS)
    exercised = sorted(
        (right for right in RIGHTS if scores[right] >= EXERCISED_SCORE),
        key=lambda right: (-scores[right], RIGHTS.index(right)),
    )
    # Service words speak against a request only when nothing in the mail is
    # about privacy; a newsletter footer or an out-of-office reply does even
    # beside a privacy-policy link.
    against = mass_mail + (service if privacy == 0.0 and not exercised else 0.0)
    scores["other"] = score_of(privacy)
    scores["not_a_request"] = score_of(against)
    if against >= NOT_A_REQUEST_EVIDENCE and against > strongest:
        # The baseline never drops a mail on its own: a person confirms.
        return _result(language, ("not_a_request",), scores, scores["not_a_request"], True)
    if exercised:
        return _result(language, tuple(exercised), scores, scores[exercised[0]], False)
    confidence = round(FALLBACK_CONFIDENCE_CAP * scores["other"], _SCORE_DIGITS)
    return _result(language, ("other",), scores, confidence, True)


def score_of(evidence: float) -> float:
    """Evidence (summed rule weights) as a score in [0, 1)."""
    return round(1.0 - math.exp(-max(evidence, 0.0)), _SCORE_DIGITS)


def _matchable(text: str) -> str:
    return " ".join(fold(text).split())


def _result(
    language: str,
    labels: tuple[str, ...],
    scores: dict[str, float],
    confidence: float,
    needs_triage: bool,
) -> Classification:
    return Classification(
        language=language,
        primary=labels[0],
        labels=labels,
        scores={label: scores[label] for label in LABELS},
        confidence=confidence,
        needs_triage=needs_triage,
    )
