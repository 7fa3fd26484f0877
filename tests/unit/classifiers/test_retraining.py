"""Learning from the DPO: `python -m classifiers.train --with-corrections` trains a head on
the data plus the corrections, never over the live head, and reports the yardstick
before and after; `mailbot model use` / `restore` choose the head the bot loads.
On a small slice of the data so that it runs in seconds (the real encoder)."""

from __future__ import annotations

import hashlib
import json
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from classifiers.dataset import DATA_DIR
from classifiers.evaluate import YARDSTICK
from classifiers.head import Head
from classifiers.reading import read_mail
from classifiers.trained import HEAD_FILE
from mailbot.cli import app
from mailbot.config import Settings
from mailbot.model_files import ModelFiles
from mailbot.runtime import load_classifier_for

CORRECTIONS = [
    {"id": f"dpo-{n}", "lang": "nl", "subject": subject, "body": body,
     "labels": [label], "primary": label}
    for n, (subject, body, label) in enumerate([
        ("Lead weg", "Kan die lead van vorige week uit mijn dashboard?", "not_a_request"),
        ("", "haal mij uit jullie systeem", "erasure"),
        ("Partners", "Ik vink het vakje over partners uit.", "withdraw_consent"),
    ])
]  # fmt: skip


@pytest.fixture
def small_data(tmp_path: Path) -> tuple[Path, Path]:
    """A slice of the training data and of the yardstick (or of the data, before the
    yardstick exists) in files of their own."""
    data, yardstick = tmp_path / "data", tmp_path / "yardstick"
    data.mkdir()
    yardstick.mkdir()
    for file in sorted(DATA_DIR.glob("train_*.jsonl")):
        lines = file.read_text("utf-8").splitlines()
        (data / file.name).write_text("\n".join(lines[:45]) + "\n", "utf-8")
    source = sorted(YARDSTICK.glob("*.jsonl")) or sorted(DATA_DIR.glob("train_en.jsonl"))
    with source[0].open(encoding="utf-8") as lines:
        (yardstick / "slice.jsonl").write_text("".join(islice(lines, 12)), "utf-8")
    return data, yardstick


def test_corrections_train_a_candidate_and_the_yardstick_is_reported(
    tmp_path: Path,
    small_data: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from classifiers.encoder import default_model_dir
    from classifiers.train import main

    # The embedding cache in a directory of the test's own (the model stays where it is).
    monkeypatch.setenv("MAILBOT_MODEL_DIR", str(default_model_dir()))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    data, yardstick = small_data
    corrections = tmp_path / "corrections.jsonl"
    corrections.write_text("\n".join(json.dumps(c) for c in CORRECTIONS), "utf-8")
    live = HEAD_FILE.read_bytes()
    candidate = tmp_path / "candidate.json"
    code = main(
        ["--with-corrections", str(corrections), "--out", str(candidate), "--data", str(data),
         "--yardstick", str(yardstick), "--compare-with", str(HEAD_FILE)]
    )  # fmt: skip
    assert code == 0
    assert HEAD_FILE.read_bytes() == live  # the live head is never overwritten
    head = Head.load(candidate)
    assert head.meta["corrections"] == 3
    assert 0.0 <= float(head.meta["yardstick_accuracy"]) <= 1.0  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert "3 corrections by the DPO" in out
    assert "inbox yardstick, before: primary accuracy" in out
    assert "inbox yardstick, new head: primary accuracy" in out
    # The corrections (real people's mail) never reach the embedding cache.
    (cache,) = (tmp_path / "cache" / "privacy-mailbot").glob("embeddings-*.npz")
    cached = set(np.load(cache)["keys"].tolist())
    assert len(cached) >= 100
    for record in CORRECTIONS:
        reading = read_mail(str(record["subject"]), str(record["body"]))
        assert hashlib.sha256(reading.encoder_text().encode()).hexdigest() not in cached
    # Seeded: the same run gives the same head.
    again = tmp_path / "again.json"
    main(["--with-corrections", str(corrections), "--out", str(again), "--data", str(data),
          "--yardstick", str(yardstick)])  # fmt: skip
    assert Head.load(again).primary_weights.tolist() == head.primary_weights.tolist()


def test_a_candidate_is_used_only_when_put_in_use_and_can_be_taken_back(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    files = ModelFiles(tmp_path / "model")
    runner = CliRunner()
    env = {"MAILBOT_DATA_DIR": str(tmp_path)}
    assert runner.invoke(app, ["model", "use"], env=env).exit_code == 1  # nothing to use
    assert files.head_in_use() == HEAD_FILE

    files.directory.mkdir()
    candidate = json.loads(HEAD_FILE.read_text("utf-8"))
    candidate["meta"] = {**candidate["meta"], "corrections": 7}
    files.candidate.write_text(json.dumps(candidate), "utf-8")
    assert files.head_in_use() == HEAD_FILE  # a candidate alone changes nothing

    assert runner.invoke(app, ["model", "use"], env=env).exit_code == 0
    assert files.head_in_use() == files.active and not files.candidate.exists()
    status = runner.invoke(app, ["model", "status", "--json"], env=env)
    assert json.loads(status.stdout)["corrections"] == 7
    loaded = load_classifier_for(settings)
    assert loaded.head.meta["corrections"] == 7  # type: ignore[attr-defined]
    assert loaded.classify("Weg", "Verwijder al mijn gegevens.").primary == "erasure"

    assert runner.invoke(app, ["model", "restore"], env=env).exit_code == 0
    assert files.head_in_use() == HEAD_FILE  # the packaged head again
    assert runner.invoke(app, ["model", "restore"], env=env).exit_code == 1


def test_retrain_without_corrections_says_so(tmp_path: Path) -> None:
    env = {"MAILBOT_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["model", "retrain"], env=env)
    assert result.exit_code == 1
    assert "no corrections yet" in result.stderr
