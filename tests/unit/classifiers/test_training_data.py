"""The training data written for this project: well-formed, large enough, balanced, and
not a copy of the public benchmark."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from classifiers.dataset import SPLITS, load_examples, split_of
from classifiers.labels import LABELS, RIGHTS, SERVED_LANGUAGES

LETTERS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "letters"


def test_enough_labelled_mails_in_every_language_and_label() -> None:
    examples = load_examples()
    assert len(examples) >= 1500
    per = Counter((e.language, e.primary) for e in examples)
    for language in SERVED_LANGUAGES:
        for label in LABELS:
            assert per[language, label] >= 30, (language, label, per[language, label])
    multi = [e for e in examples if len(e.labels) > 1]
    assert len(multi) >= 150 and all(set(e.labels) <= set(RIGHTS) for e in multi)


def test_split_is_stable_and_near_its_shares() -> None:
    examples = load_examples()
    first = [split_of(e.id, 13) for e in examples]
    assert first == [split_of(e.id, 13) for e in examples]
    counts = Counter(first)
    for name, share in SPLITS:
        assert abs(counts[name] / len(examples) - share) < 0.05, counts
    assert first != [split_of(e.id, 14) for e in examples]


def _shingles(text: str, size: int = 12) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + size]) for i in range(max(len(words) - size + 1, 0))}


@pytest.mark.corpus
@pytest.mark.skipif(not LETTERS.is_dir(), reason="../shared/corpus/letters is absent")
def test_no_training_mail_copies_a_benchmark_letter() -> None:
    # Twelve words in a row shared with a benchmark letter would mean the letter (or a
    # close paraphrase of it) leaked into training and the benchmark score is not honest.
    benchmark: set[str] = set()
    for line in (LETTERS / "letters.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        benchmark |= _shingles(f"{record.get('subject') or ''} {record['body']}")
    leaked = [e.id for e in load_examples() if _shingles(f"{e.subject} {e.body}") & benchmark]
    assert leaked == []
