"""`python -m classifiers.evaluate` (or `mailbot eval`): score a classifier on the two
yardsticks and write a Markdown report.

* **The inbox yardstick** (`classifiers/data/yardstick/`): mails to privacy@ written by
  authors who never saw the training data or the classifier's rules, frozen. Decisions
  are made on it.
* **The public letters** (`../shared/corpus/letters`): formal letters by third parties.

A primary counts as right when it is in the record's `accept` list. Nothing here trains
on either set. Here an attached letter's text joins the mail as written;
`mailbot eval` sends it through real files (PDF, DOCX, ODT, scans and photos read by the
OCR) instead.
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

from classifiers.dataset import DATA_DIR
from classifiers.labels import SERVED_LANGUAGES, Classification, Classifier
from classifiers.metrics import Judged, accuracy, macro_f1, markdown_report
from classifiers.reading import with_attached

REPO: Final = Path(__file__).resolve().parents[1]
LETTERS: Final = REPO.parent / "shared" / "corpus" / "letters" / "letters.jsonl"
YARDSTICK: Final = DATA_DIR / "yardstick"
REPORT: Final = REPO / "docs" / "evaluation.md"


@dataclass(frozen=True, slots=True)
class Letter:
    """One reference mail: its text, attachments (file name, text) and what counts as right."""

    id: str
    language: str
    subject: str
    body: str
    primary: str
    accept: tuple[str, ...]
    attachments: tuple[tuple[str, str], ...] = ()
    kind: str = ""

    @property
    def text(self) -> str:
        """The body with its attachments' text joined, as the bot reads it."""
        return with_attached(self.body, "\n\n".join(text for _, text in self.attachments))


@dataclass(frozen=True, slots=True)
class Yardstick:
    name: str
    title: str
    description: str
    letters: list[Letter]


def _letter(record: dict[str, object]) -> Letter:
    primary = str(record["primary"])
    accept = record.get("accept") or [primary]
    attachments = record.get("attachments") or []
    return Letter(
        id=str(record["id"]),
        language=str(record["lang"]),
        subject=str(record.get("subject") or ""),
        body=str(record.get("body") or ""),
        primary=primary,
        accept=tuple(str(label) for label in accept),  # type: ignore[attr-defined]
        attachments=tuple(
            (str(a["filename"]), str(a["text"]))
            for a in attachments  # type: ignore[attr-defined]
        ),
        kind=str(record.get("kind") or ""),
    )


def load_letters(path: Path = LETTERS) -> list[Letter]:
    if not path.is_file():
        raise FileNotFoundError(f"the letters benchmark is not at {path} (it lives in ../shared)")
    return [_letter(json.loads(line)) for line in path.read_text("utf-8").splitlines()]


def load_yardstick(directory: Path = YARDSTICK) -> list[Letter]:
    letters = []
    for file in sorted(directory.glob("*.jsonl")):
        lines = file.read_text("utf-8").splitlines()
        letters += [_letter(json.loads(line)) for line in lines if line.strip()]
    return letters


def yardsticks(letters_file: Path = LETTERS) -> list[Yardstick]:
    """The inbox yardstick, and the letters when ../shared is there."""
    sets = [
        Yardstick(
            "inbox",
            "the inbox yardstick (independent authors, frozen)",
            "mails to privacy@ written by authors who never saw the training data or the "
            "rules (`classifiers/data/yardstick/`)",
            load_yardstick(),
        )
    ]
    if letters_file.is_file():
        sets.append(
            Yardstick(
                "letters",
                "the public letters benchmark",
                "letters written by third parties (`../shared/corpus/letters`)",
                load_letters(letters_file),
            )
        )
    return sets


def classify_all(classifier: Classifier, mails: Sequence[tuple[str, str]]) -> list[Classification]:
    many = getattr(classifier, "classify_many", None)
    if callable(many):
        results: list[Classification] = many(mails)
        return results
    return [classifier.classify(subject, body) for subject, body in mails]


def judge(letters: Sequence[Letter], results: Sequence[Classification]) -> list[Judged]:
    return [
        Judged(letter.language, result.primary, letter.primary, letter.accept)
        for letter, result in zip(letters, results, strict=True)
    ]


def served(judged: Sequence[Judged]) -> list[Judged]:
    return [j for j in judged if j.language in SERVED_LANGUAGES]


def section(
    classifier_name: str,
    yardstick: Yardstick,
    results: Sequence[Classification],
    seconds: float,
) -> str:
    letters = yardstick.letters
    judged = judge(letters, results)
    others = [j for j in judged if j.language not in SERVED_LANGUAGES]
    triaged = sum(r.needs_triage for r in results)
    misses = [
        f"| {letter.id} | {letter.language} | {letter.kind or '-'} | {letter.primary} | "
        f"{result.primary} | {result.confidence:.2f} |"
        for letter, result, j in zip(letters, results, judged, strict=True)
        if j.language in SERVED_LANGUAGES and not j.correct
    ]
    return "\n".join(
        [
            f"# `{classifier_name}` on {yardstick.title}",
            "",
            f"{len(letters)} {yardstick.description}, classified in {seconds:.1f} s; "
            f"{triaged} sent to triage (primary `other`). A primary counts as right when "
            "it is in the record's `accept` list.",
            "",
            markdown_report("nl, fr, de, en (the languages we serve)", served(judged)),
            markdown_report("Other languages (graceful degradation)", others) if others else "",
            "## Misses (served languages)",
            "",
            "| mail | lang | kind | expected | predicted | confidence |",
            "| --- | --- | --- | --- | --- | ---: |",
            *misses,
            "",
        ]
    )


def summary(classifier_name: str, yardstick: Yardstick, results: Sequence[Classification]) -> str:
    judged = served(judge(yardstick.letters, results))
    return (
        f"{classifier_name} on {yardstick.name}: primary accuracy {accuracy(judged):.1%}, "
        f"macro-F1 {macro_f1(judged):.2f} on {len(judged)} mails in nl/fr/de/en"
    )


def evaluate(
    classifier_name: str,
    classifier: Classifier,
    sets: Sequence[tuple[Yardstick, Sequence[tuple[str, str]]]],
) -> tuple[str, list[str]]:
    """The report and one summary line per set; each set comes with the (subject, text)
    the classifier reads for its mails."""
    sections, lines = [], []
    for yardstick, mails in sets:
        started = time.perf_counter()
        results = classify_all(classifier, mails)
        seconds = time.perf_counter() - started
        sections.append(section(classifier_name, yardstick, results, seconds))
        lines.append(summary(classifier_name, yardstick, results))
    intro = (
        "Written by `mailbot eval` (attached letters read from real files, scans and photos "
        "through the OCR) or `python -m classifiers.evaluate` (their text as written). The "
        "kinds of misses, and how the model got here: `classifiers/MODEL.md`.\n\n"
    )
    return intro + "\n".join(sections), lines


def main(argv: list[str] | None = None) -> int:
    from classifiers import load_classifier

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", default="e5")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    classifier = load_classifier(args.classifier)
    sets = [(s, [(letter.subject, letter.text) for letter in s.letters]) for s in yardsticks()]
    text, lines = evaluate(args.classifier, classifier, sets)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, "utf-8")
    print("\n".join(lines) + f"\nreport written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
