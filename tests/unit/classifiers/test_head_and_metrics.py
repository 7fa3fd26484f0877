"""The trained head's arithmetic, the decision rules around it, and the metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifiers.head import Head, fit_linear, fit_temperature, softmax, standardisation
from classifiers.labels import LABELS, RIGHTS
from classifiers.metrics import Judged, accuracy, confusion, per_label, per_language
from classifiers.reading import read_mail
from classifiers.trained import decide


def _blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Nine well separated clusters, one per label."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, size=(len(LABELS), 12))
    classes = np.repeat(np.arange(len(LABELS)), 30)
    return centres[classes] + rng.normal(0, 0.5, size=(len(classes), 12)), classes


def _head(features: np.ndarray, classes: np.ndarray, temperature: float = 1.0) -> Head:
    mean, scale = standardisation(features)
    standard = (features - mean) / scale
    onehot = np.eye(len(LABELS))[classes]
    weights, bias = fit_linear(standard, onehot, multi_label=False, l2=1e-3, seed=1)
    rights = onehot[:, : len(RIGHTS)]
    r_weights, r_bias = fit_linear(standard, rights, multi_label=True, l2=1e-3, seed=1)
    return Head(
        LABELS, RIGHTS, mean, scale, weights, bias, temperature, r_weights, r_bias, 0.5, {"seed": 1}
    )


def test_head_learns_separable_labels_and_is_reproducible() -> None:
    features, classes = _blobs()
    head = _head(features, classes)
    predicted = head.primary_probabilities(features).argmax(axis=1)
    assert (predicted == classes).mean() == 1.0
    again = _head(features, classes)
    assert np.array_equal(head.primary_weights, again.primary_weights)


def test_saved_head_gives_the_same_probabilities(tmp_path: Path) -> None:
    features, classes = _blobs()
    head = _head(features, classes, temperature=1.7)
    head.save(tmp_path / "head.json")
    loaded = Head.load(tmp_path / "head.json")
    assert np.allclose(
        loaded.primary_probabilities(features), head.primary_probabilities(features), atol=1e-4
    )
    assert loaded.meta == {"seed": 1} and loaded.temperature == pytest.approx(1.7)


def test_temperature_softens_overconfident_logits() -> None:
    rng = np.random.default_rng(3)
    classes = rng.integers(0, 3, size=400)
    logits = np.eye(3)[classes] * 10.0
    noisy = rng.random(400) < 0.3  # 30 % of the confident answers are wrong
    classes[noisy] = (classes[noisy] + 1) % 3
    temperature = fit_temperature(logits, classes)
    assert temperature > 2.0
    calibrated = softmax(logits / temperature).max(axis=1).mean()
    assert 0.6 < calibrated < 0.8  # close to the true 70 %


def _probabilities(**scores: float) -> np.ndarray:
    values = np.asarray([scores.get(label, 0.0) for label in LABELS]) + 1e-3
    return values / values.sum()


def test_confident_primary_with_a_second_right() -> None:
    head = _head(*_blobs())
    reading = read_mail("Verwijderen", "Verwijder mijn account en stuur geen reclame meer.")
    rights = np.asarray([0.1, 0.0, 0.95, 0.0, 0.0, 0.8, 0.1])
    result = decide(reading, _probabilities(erasure=0.8, objection=0.15), rights, head, 0.5)
    assert (result.primary, result.labels, result.needs_triage) == (
        "erasure",
        ("erasure", "objection"),
        False,
    )


def test_low_confidence_goes_to_triage_as_other() -> None:
    head = _head(*_blobs())
    reading = read_mail("Vraag", "Kunnen jullie iets nakijken?")
    result = decide(
        reading,
        _probabilities(access=0.4, other=0.35, erasure=0.25),
        np.zeros(len(RIGHTS)),
        head,
        0.5,
    )
    assert (result.primary, result.labels, result.needs_triage) == ("other", ("other",), True)
    assert result.scores["access"] > result.scores["other"]  # the DPO still sees the guess


def test_an_article_citation_decides_when_the_model_is_unsure() -> None:
    head = _head(*_blobs())
    reading = read_mail("Verzoek", "Op grond van artikel 17 AVG vraag ik u alles te wissen.")
    unsure = _probabilities(other=0.4, not_a_request=0.35, access=0.25)
    result = decide(reading, unsure, np.zeros(len(RIGHTS)), head, 0.5)
    assert result.primary == "erasure" and not result.needs_triage


def test_a_confident_reminder_citing_an_article_stays_other() -> None:
    head = _head(*_blobs())
    reading = read_mail(
        "Herinnering",
        "Op 3 maart vroeg ik inzage op grond van art. 15 AVG. Ik heb nog geen antwoord.",
    )
    sure = _probabilities(other=0.8, access=0.2)
    result = decide(reading, sure, np.zeros(len(RIGHTS)), head, 0.5)
    assert (result.primary, result.needs_triage) == ("other", False)


def test_a_complaint_about_a_cited_request_goes_to_the_dpo_as_other() -> None:
    head = _head(*_blobs())
    reading = read_mail(
        "Klacht op grond van artikel 77 AVG",
        "Ik dien hierbij een klacht in op grond van artikel 77 AVG. Op 1 maart deed ik een "
        "verzoek op grond van artikel 15 AVG, zonder antwoord.",
    )
    sure = _probabilities(access=0.9, other=0.1)
    result = decide(reading, sure, np.zeros(len(RIGHTS)), head, 0.5)
    assert (result.primary, result.labels, result.needs_triage) == ("other", ("other",), True)


def test_a_new_right_asked_beside_a_complaint_stands() -> None:
    head = _head(*_blobs())
    reading = read_mail(
        "Gegevens bevriezen",
        "Ik heb een klacht ingediend bij de GBA. Tot die is afgehandeld, vraag ik u mijn "
        "gegevens niet meer te gebruiken.",
    )
    sure = _probabilities(restriction=0.9, other=0.1)
    result = decide(reading, sure, np.zeros(len(RIGHTS)), head, 0.5)
    assert (result.primary, result.needs_triage) == ("restriction", False)


def test_metrics_by_hand() -> None:
    judged = [
        Judged("nl", "erasure", "erasure", ("erasure",)),
        Judged("nl", "objection", "erasure", ("erasure", "objection")),  # accepted
        Judged("fr", "access", "erasure", ("erasure",)),
        Judged("fr", "access", "access", ("access",)),
    ]
    assert accuracy(judged) == 0.75
    assert per_language(judged) == {"fr": (1, 2), "nl": (2, 2)}
    scores = {s.label: s for s in per_label(judged)}
    assert scores["access"].precision == 0.5 and scores["access"].recall == 1.0
    assert scores["erasure"].recall == pytest.approx(2 / 3) and scores["erasure"].support == 3
    matrix = confusion(judged)
    assert matrix["erasure"]["erasure"] == 2 and matrix["erasure"]["access"] == 1
