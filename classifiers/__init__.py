"""Recognising which GDPR rights a mail exercises: the interface every classifier implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from classifiers.baseline import BaselineClassifier
from classifiers.citations import cited_rights
from classifiers.labels import LABELS, RIGHTS, SERVED_LANGUAGES, Classification, Classifier
from classifiers.language import detect_language

__all__ = [
    "LABELS",
    "RIGHTS",
    "SERVED_LANGUAGES",
    "Classification",
    "Classifier",
    "cited_rights",
    "detect_language",
    "known_classifiers",
    "load_classifier",
]

_FACTORIES: Final[dict[str, Callable[[], Classifier]]] = {
    "baseline": BaselineClassifier,
}


def known_classifiers() -> tuple[str, ...]:
    """Names `load_classifier` accepts."""
    return tuple(sorted(_FACTORIES))


def load_classifier(name: str = "baseline") -> Classifier:
    """A ready classifier by name; ValueError names the known ones for anything else."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ValueError(
            f"unknown classifier {name!r}; known classifiers: {', '.join(known_classifiers())}"
        )
    return factory()
