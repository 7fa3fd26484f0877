"""Measure the baseline classifier's primary accuracy on the public letter benchmark.

Run from the repository root: `.venv/bin/python scripts/measure_baseline.py`.
The benchmark lives beside the project in ../shared and is for evaluation only.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARK = REPO_ROOT.parent / "shared" / "corpus" / "letters" / "letters.jsonl"

if str(REPO_ROOT) not in sys.path:  # the script runs without the project installed
    sys.path.insert(0, str(REPO_ROOT))

from classifiers import SERVED_LANGUAGES, Classifier, load_classifier  # noqa: E402


@dataclass(frozen=True, slots=True)
class Tally:
    """Correct primaries out of all texts, for one group of letters."""

    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def read_letters(path: Path) -> list[dict[str, object]]:
    """The benchmark records, one JSON object per line."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def is_correct(classifier: Classifier, letter: dict[str, object]) -> bool:
    """Whether the classifier's primary is one the record accepts."""
    result = classifier.classify(str(letter.get("subject") or ""), str(letter.get("body") or ""))
    accepted = letter.get("accept") or [letter.get("primary")]
    return isinstance(accepted, list) and result.primary in accepted


def tally(outcomes: list[bool]) -> Tally:
    return Tally(correct=sum(outcomes), total=len(outcomes))


def report(classifier: Classifier, letters: list[dict[str, object]]) -> str:
    """Overall and per-language accuracy for the served languages, plus the rest."""
    by_language: dict[str, list[bool]] = {}
    for letter in letters:
        language = str(letter.get("lang", "?"))
        by_language.setdefault(language, []).append(is_correct(classifier, letter))
    served = [outcome for lang in SERVED_LANGUAGES for outcome in by_language.get(lang, [])]
    rest = [
        o
        for lang, outcomes in by_language.items()
        if lang not in SERVED_LANGUAGES
        for o in outcomes
    ]
    lines = [f"classifier: {classifier.name}", _line("served (nl/fr/de/en)", tally(served))]
    lines += [_line(f"  {lang}", tally(by_language.get(lang, []))) for lang in SERVED_LANGUAGES]
    counts = Counter(
        {lang: len(o) for lang, o in by_language.items() if lang not in SERVED_LANGUAGES}
    )
    spread = ", ".join(f"{lang} {n}" for lang, n in sorted(counts.items()))
    lines.append(_line(f"other languages ({spread})", tally(rest)))
    return "\n".join(lines)


def _line(label: str, result: Tally) -> str:
    return f"{label}: {result.correct}/{result.total} = {result.accuracy:.1%}"


def main() -> int:
    if not BENCHMARK.is_file():
        print(f"benchmark not found: {BENCHMARK} (it lives in ../shared beside the project)")
        return 2
    print(report(load_classifier("baseline"), read_letters(BENCHMARK)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
