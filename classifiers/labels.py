"""What a classification says: the label vocabulary and the result every classifier returns."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

RIGHTS: Final[tuple[str, ...]] = (
    "access",  # Art. 15
    "rectification",  # Art. 16
    "erasure",  # Art. 17
    "restriction",  # Art. 18
    "portability",  # Art. 20
    "objection",  # Art. 21, including "stop marketing / newsletters / promo calls"
    "withdraw_consent",  # Art. 7(3)
)
LABELS: Final[tuple[str, ...]] = (*RIGHTS, "other", "not_a_request")
SERVED_LANGUAGES: Final[tuple[str, ...]] = ("nl", "fr", "de", "en")
FALLBACK_REPLY_LANGUAGE: Final = "en"  # LEGAL.md §3.7: other languages get English
UNDETERMINED_LANGUAGE: Final = "und"


class ClassifierUnavailable(RuntimeError):
    """A classifier cannot be loaded (model or head missing or corrupt); the message names
    the file and how to rebuild it."""


@dataclass(frozen=True, slots=True)
class Classification:
    """One classifier's reading of one mail.

    `needs_triage` means a person (the DPO) decides; the classifier then never
    makes a confident guess: `primary` is "other" or, for obvious non-requests,
    "not_a_request", and the mail still becomes a case on the triage list.
    """

    language: str
    primary: str
    labels: tuple[str, ...]
    scores: dict[str, float]
    confidence: float
    needs_triage: bool

    def __post_init__(self) -> None:
        # A later model implements the same contract; a malformed result should
        # fail where it is made, not in a reply template days later.
        if self.primary not in LABELS:
            raise ValueError(f"primary {self.primary!r} is not one of {LABELS}")
        if not self.labels or self.labels[0] != self.primary:
            raise ValueError("labels must start with the primary label")
        unknown = [label for label in self.labels if label not in LABELS]
        if unknown or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be distinct members of LABELS: {self.labels}")
        if set(self.scores) != set(LABELS):
            raise ValueError("scores must hold exactly one score per label")
        if not all(_is_probability(score) for score in self.scores.values()):
            raise ValueError("every score must lie in [0, 1]")
        if not _is_probability(self.confidence):
            raise ValueError(f"confidence {self.confidence} is outside [0, 1]")
        if self.needs_triage and self.primary in RIGHTS:
            raise ValueError("a mail sent to triage must not carry a right as primary")

    @property
    def reply_language(self) -> str:
        """The language we answer in: the request's own when we serve it, else English."""
        if self.language in SERVED_LANGUAGES:
            return self.language
        return FALLBACK_REPLY_LANGUAGE

    @property
    def rights(self) -> tuple[str, ...]:
        """The GDPR rights exercised, primary first (empty for other / not_a_request)."""
        return tuple(label for label in self.labels if label in RIGHTS)


@runtime_checkable
class Classifier(Protocol):
    """Anything that reads a mail's subject and body and names the rights exercised."""

    name: str

    def classify(self, subject: str, body: str) -> Classification:
        """Classify one mail; must not raise on empty, huge or odd text."""
        ...


def _is_probability(value: float) -> bool:
    return not math.isnan(value) and 0.0 <= value <= 1.0


def classification(
    language: str,
    labels: tuple[str, ...],
    scores: dict[str, float],
    confidence: float,
    *,
    needs_triage: bool,
) -> Classification:
    """A Classification with `labels[0]` as primary, every label scored (0 when missing)
    and the numbers clamped to [0, 1] and rounded to 4 digits."""

    def unit(value: float) -> float:
        return round(min(max(value, 0.0), 1.0), 4)

    return Classification(
        language=language,
        primary=labels[0],
        labels=labels,
        scores={label: unit(scores.get(label, 0.0)) for label in LABELS},
        confidence=unit(confidence),
        needs_triage=needs_triage,
    )
