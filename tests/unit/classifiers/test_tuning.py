"""The encoder's adapters (classifiers.tuning): trained with a seed they come out the
same, saved and loaded they are the same numbers, merged they change what the encoder
reads, and a head whose adapters are missing or altered is one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from classifiers import ClassifierUnavailable
from classifiers.encoder import load_encoder
from classifiers.trained import HEAD_FILE, load_trained_classifier
from classifiers.tuning import RANK, Adapters, adapted_names, tune

TEXTS = [
    ("Verwijder al mijn gegevens.", "erasure"),
    ("Supprimez toutes mes données.", "erasure"),
    ("Welke gegevens hebben jullie over mij?", "access"),
    ("Quelles données avez-vous sur moi ?", "access"),
    ("Kan ik de offerte van de loodgieter nog aanpassen?", "not_a_request"),
    ("Ma facture est fausse, pouvez-vous la corriger ?", "not_a_request"),
] * 3


def _tuned(seed: int) -> Adapters:
    encoder = load_encoder()
    texts = [text for text, _ in TEXTS]
    labels = [(label,) if label != "not_a_request" else ("not_a_request",) for _, label in TEXTS]
    rules = np.zeros((len(texts), 18))
    rows = list(range(len(texts)))
    return tune(encoder, texts, rules, [label for _, label in TEXTS], labels, rows, rows, seed)


def test_tuning_is_seeded_and_saved_exactly(tmp_path: Path) -> None:
    first, again = _tuned(5), _tuned(5)
    names = adapted_names(12)
    assert sorted(first.pairs) == sorted(names) and len(names) == 24
    down, up = first.pairs[names[0]]
    assert down.shape == (RANK, 384) and up.shape == (384, RANK)
    assert all(torch.equal(first.pairs[n][i], again.pairs[n][i]) for n in names for i in (0, 1))
    assert any(float(first.pairs[n][1].abs().sum()) > 0 for n in names)  # it learned

    file = tmp_path / "adapters.safetensors"
    digest = first.save(file)
    loaded = Adapters.load(file, digest)
    assert all(torch.equal(first.pairs[n][i], loaded.pairs[n][i]) for n in names for i in (0, 1))
    with pytest.raises(ValueError, match="not the file"):
        Adapters.load(file, "0" * 64)

    plain = load_encoder()
    before = plain.embed(["Verwijder al mijn gegevens."])
    loaded.merge_into(plain.model)
    after = plain.embed(["Verwijder al mijn gegevens."])
    assert float(np.abs(before - after).max()) > 1e-3


def test_a_head_whose_adapters_are_gone_is_one_clear_error(tmp_path: Path) -> None:
    head = json.loads(HEAD_FILE.read_text("utf-8"))
    head["meta"]["adapters"] = {"file": "adapters.safetensors", "sha256": "ab" * 32}
    moved = tmp_path / "head.json"
    moved.write_text(json.dumps(head), "utf-8")
    with pytest.raises(ClassifierUnavailable, match="adapters"):
        load_trained_classifier(head_file=moved)
