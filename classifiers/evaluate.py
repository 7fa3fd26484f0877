"""`python -m classifiers.evaluate` (or `mailbot eval`): score a classifier on the public
letters benchmark in ../shared/corpus/letters and write a Markdown report.

A primary counts as right when it is in the record's `accept` list. The benchmark is
for evaluation only: nothing here trains on it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from classifiers.labels import SERVED_LANGUAGES, Classification, Classifier
from classifiers.metrics import Judged, accuracy, markdown_report

REPO: Final = Path(__file__).resolve().parents[1]
LETTERS: Final = REPO.parent / "shared" / "corpus" / "letters" / "letters.jsonl"
REPORT: Final = REPO / "docs" / "evaluation.md"


@dataclass(frozen=True, slots=True)
class Letter:
    id: str
    language: str
    subject: str
    body: str
    primary: str
    accept: tuple[str, ...]


def load_letters(path: Path = LETTERS) -> list[Letter]:
    if not path.is_file():
        raise FileNotFoundError(f"the letters benchmark is not at {path} (it lives in ../shared)")
    letters = []
    for line in path.read_text("utf-8").splitlines():
        record = json.loads(line)
        letters.append(
            Letter(
                id=record["id"],
                language=record["lang"],
                subject=record.get("subject") or "",
                body=record.get("body") or "",
                primary=record["primary"],
                accept=tuple(record.get("accept") or [record["primary"]]),
            )
        )
    return letters


def classify_all(classifier: Classifier, letters: Sequence[Letter]) -> list[Classification]:
    many = getattr(classifier, "classify_many", None)
    mails = [(letter.subject, letter.body) for letter in letters]
    if callable(many):
        results: list[Classification] = many(mails)
        return results
    return [classifier.classify(subject, body) for subject, body in mails]


def judge(letters: Sequence[Letter], results: Sequence[Classification]) -> list[Judged]:
    return [
        Judged(letter.language, result.primary, letter.primary, letter.accept)
        for letter, result in zip(letters, results, strict=True)
    ]


def report(
    classifier_name: str,
    letters: Sequence[Letter],
    results: Sequence[Classification],
    seconds: float,
) -> str:
    judged = judge(letters, results)
    served = [j for j in judged if j.language in SERVED_LANGUAGES]
    others = [j for j in judged if j.language not in SERVED_LANGUAGES]
    triaged = sum(r.needs_triage for r in results)
    misses = [
        f"| {letter.id} | {letter.language} | {letter.primary} | {result.primary} | "
        f"{result.confidence:.2f} |"
        for letter, result, j in zip(letters, results, judged, strict=True)
        if j.language in SERVED_LANGUAGES and not j.correct
    ]
    return "\n".join(
        [
            f"# Classifier evaluation: `{classifier_name}` on the public letters benchmark",
            "",
            f"{len(letters)} letters written by third parties (`../shared/corpus/letters`), "
            f"classified in {seconds:.1f} s; {triaged} sent to triage (primary `other`). "
            "A primary counts as right when it is in the letter's `accept` list.",
            "",
            markdown_report("nl, fr, de, en (the languages we serve)", served),
            markdown_report("Other languages (graceful degradation)", others) if others else "",
            "## Misses (served languages)",
            "",
            "| letter | lang | expected | predicted | confidence |",
            "| --- | --- | --- | --- | ---: |",
            *misses,
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    from classifiers import load_classifier

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", default="e5")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    try:
        letters = load_letters()
    except FileNotFoundError as exc:
        print(f"evaluate: {exc}", file=sys.stderr)
        return 2
    classifier = load_classifier(args.classifier)
    started = time.perf_counter()
    results = classify_all(classifier, letters)
    seconds = time.perf_counter() - started
    text = report(args.classifier, letters, results, seconds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, "utf-8")
    served = [j for j in judge(letters, results) if j.language in SERVED_LANGUAGES]
    print(
        f"{args.classifier}: primary accuracy {accuracy(served):.1%} on {len(served)} letters "
        f"in nl/fr/de/en; report written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
