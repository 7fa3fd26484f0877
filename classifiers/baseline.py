"""The baseline classifier and its scoring: phrase-rule evidence plus article citations.

Rules match the case- and accent-folded subject and the new part of the body
(quoted history cut off). Each rule that fires adds its weight to its label's
evidence; a label's score is 1 - exp(-evidence), so one clear phrase (weight
about 1.5) gives roughly 0.78 and a right is exercised from 0.5 upwards. The rules
themselves are in patterns.py and context_patterns.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from classifiers.labels import RIGHTS, Classification, classification
from classifiers.reading import read_mail

# A right is exercised when its score reaches this (evidence ln 2).
EXERCISED_SCORE: Final = 0.5
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
        reading = read_mail(subject, body)
        return decide(
            reading.language,
            reading.rights,
            privacy=reading.privacy,
            mass_mail=reading.mass_mail,
            service=reading.service,
        )


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
        return classification(
            language, ("not_a_request",), scores, scores["not_a_request"], needs_triage=True
        )
    if exercised:
        return classification(
            language, tuple(exercised), scores, scores[exercised[0]], needs_triage=False
        )
    confidence = round(FALLBACK_CONFIDENCE_CAP * scores["other"], _SCORE_DIGITS)
    return classification(language, ("other",), scores, confidence, needs_triage=True)


def score_of(evidence: float) -> float:
    """Evidence (summed rule weights) as a score in [0, 1)."""
    return round(1.0 - math.exp(-max(evidence, 0.0)), _SCORE_DIGITS)
