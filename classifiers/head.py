"""The trained head: two linear layers over a mail's features, small enough to commit.

* a softmax over the nine labels picks the primary one; its temperature is fitted on
  held-out mails so that the probability it reports is a calibrated confidence;
* one sigmoid per right says which other rights the same mail also exercises.

Training is plain full-batch gradient descent (Adam) with an L2 penalty, in numpy:
a few thousand mails by a few hundred features need nothing more, and the result is
reproducible bit for bit from a seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class Head:
    labels: tuple[str, ...]  # softmax classes, in LABELS order
    rights: tuple[str, ...]  # sigmoid outputs
    mean: Matrix  # feature standardisation
    scale: Matrix
    primary_weights: Matrix  # features x labels
    primary_bias: Matrix
    temperature: float
    rights_weights: Matrix  # features x rights
    rights_bias: Matrix
    rights_threshold: float
    meta: dict[str, Any]  # training data, seed, metrics: what the model card quotes

    def primary_probabilities(self, features: Matrix) -> Matrix:
        logits = self._standard(features) @ self.primary_weights + self.primary_bias
        return softmax(logits / self.temperature)

    def rights_probabilities(self, features: Matrix) -> Matrix:
        return sigmoid(self._standard(features) @ self.rights_weights + self.rights_bias)

    def _standard(self, features: Matrix) -> Matrix:
        return (features - self.mean) / self.scale

    def save(self, path: Path) -> None:
        document = {
            "labels": list(self.labels),
            "rights": list(self.rights),
            "mean": _rounded(self.mean),
            "scale": _rounded(self.scale),
            "primary_weights": _rounded(self.primary_weights),
            "primary_bias": _rounded(self.primary_bias),
            "temperature": round(self.temperature, 6),
            "rights_weights": _rounded(self.rights_weights),
            "rights_bias": _rounded(self.rights_bias),
            "rights_threshold": self.rights_threshold,
            "meta": self.meta,
        }
        path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", "utf-8")

    @classmethod
    def load(cls, path: Path) -> Head:
        document = json.loads(path.read_text("utf-8"))

        def array(name: str) -> Matrix:
            return np.asarray(document[name], dtype=np.float64)

        return cls(
            labels=tuple(document["labels"]),
            rights=tuple(document["rights"]),
            mean=array("mean"),
            scale=array("scale"),
            primary_weights=array("primary_weights"),
            primary_bias=array("primary_bias"),
            temperature=float(document["temperature"]),
            rights_weights=array("rights_weights"),
            rights_bias=array("rights_bias"),
            rights_threshold=float(document["rights_threshold"]),
            meta=dict(document["meta"]),
        )


def softmax(logits: Matrix) -> Matrix:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: Matrix = exp / exp.sum(axis=1, keepdims=True)
    return result


def sigmoid(logits: Matrix) -> Matrix:
    result: Matrix = 1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))
    return result


def standardisation(features: Matrix) -> tuple[Matrix, Matrix]:
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    return mean, np.where(scale < 1e-6, 1.0, scale)


def fit_linear(
    features: Matrix,
    targets: Matrix,
    *,
    multi_label: bool,
    l2: float,
    seed: int,
    steps: int = 600,
    learning_rate: float = 0.05,
) -> tuple[Matrix, Matrix]:
    """Weights and bias minimising (class-balanced) cross-entropy + l2 * |W|^2.

    `features` are standardised; `targets` one-hot (softmax) or 0/1 per column (sigmoid).
    """
    rng = np.random.default_rng(seed)
    n, d = features.shape
    k = targets.shape[1]
    weights = rng.normal(0.0, 0.01, size=(d, k))
    bias = np.zeros(k)
    # Rare labels (restriction, portability) would otherwise be drowned out.
    frequency = targets.mean(axis=0).clip(1.0 / n, None)
    class_weight = (1.0 / (k * frequency)) if not multi_label else np.ones(k)
    sample_weight = targets @ class_weight if not multi_label else np.ones(n)
    positive_weight = ((1 - frequency) / frequency).clip(1.0, 10.0) if multi_label else None
    moments = [np.zeros_like(weights), np.zeros_like(bias)]
    squares = [np.zeros_like(weights), np.zeros_like(bias)]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        logits = features @ weights + bias
        if multi_label:
            assert positive_weight is not None
            probabilities = sigmoid(logits)
            error = (probabilities - targets) * np.where(targets > 0, positive_weight, 1.0)
        else:
            error = (softmax(logits) - targets) * sample_weight[:, None]
        gradients = [features.T @ error / n + 2 * l2 * weights, error.mean(axis=0)]
        for index, (parameter, gradient) in enumerate(zip((weights, bias), gradients, strict=True)):
            moments[index] = beta1 * moments[index] + (1 - beta1) * gradient
            squares[index] = beta2 * squares[index] + (1 - beta2) * gradient**2
            corrected = moments[index] / (1 - beta1**step)
            scaled = np.sqrt(squares[index] / (1 - beta2**step)) + eps
            parameter -= learning_rate * corrected / scaled
    return weights, bias


def fit_temperature(logits: Matrix, classes: NDArray[np.int64]) -> float:
    """The temperature that minimises held-out negative log-likelihood (a 1-D search)."""
    candidates = np.exp(np.linspace(np.log(0.25), np.log(8.0), 121))

    def nll(temperature: float) -> float:
        probabilities = softmax(logits / temperature)
        return float(-np.log(probabilities[np.arange(len(classes)), classes] + 1e-12).mean())

    return float(min(candidates, key=nll))


def _rounded(values: Matrix) -> Any:
    return np.round(values, 6).tolist()
