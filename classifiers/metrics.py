"""Scoring a classifier's primaries against expected ones: accuracy, per-label precision,
recall and F1, a confusion matrix and accuracy per language. Pure functions on lists."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from classifiers.labels import LABELS


@dataclass(frozen=True, slots=True)
class Judged:
    """One mail: what the classifier said and what counts as right."""

    language: str
    predicted: str
    expected: str  # the reference primary
    accept: tuple[str, ...]  # primaries that count as right (the reference included)

    @property
    def correct(self) -> bool:
        return self.predicted in self.accept


@dataclass(frozen=True, slots=True)
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


def accuracy(judged: Sequence[Judged]) -> float:
    return sum(j.correct for j in judged) / len(judged) if judged else 0.0


def per_language(judged: Sequence[Judged]) -> dict[str, tuple[int, int]]:
    """language -> (correct, total)."""
    totals: Counter[str] = Counter(j.language for j in judged)
    right: Counter[str] = Counter(j.language for j in judged if j.correct)
    return {language: (right[language], totals[language]) for language in sorted(totals)}


def per_label(judged: Sequence[Judged]) -> list[LabelScore]:
    """Precision and recall of each primary label; an accepted alternative counts as a hit
    for the label predicted."""
    scores = []
    for label in LABELS:
        predicted = [j for j in judged if j.predicted == label]
        relevant = [j for j in judged if j.expected == label]
        true_positive = sum(j.correct for j in predicted)
        found = sum(j.correct for j in relevant)
        precision = true_positive / len(predicted) if predicted else 0.0
        recall = found / len(relevant) if relevant else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(LabelScore(label, precision, recall, f1, len(relevant)))
    return scores


def macro_f1(judged: Sequence[Judged]) -> float:
    """The mean F1 of the labels the reference uses (a label nobody wrote is not averaged)."""
    scores = [score.f1 for score in per_label(judged) if score.support]
    return sum(scores) / len(scores) if scores else 0.0


def confusion(judged: Sequence[Judged]) -> dict[str, dict[str, int]]:
    """expected -> predicted -> count (an accepted alternative counts on the diagonal)."""
    matrix = {expected: dict.fromkeys(LABELS, 0) for expected in LABELS}
    for j in judged:
        matrix[j.expected][j.expected if j.correct else j.predicted] += 1
    return matrix


def markdown_report(title: str, judged: Sequence[Judged]) -> str:
    """The figures as Markdown, for the evaluation report and the model card."""
    lines = [
        f"## {title}",
        "",
        f"Primary accuracy: **{accuracy(judged):.1%}** "
        f"({sum(j.correct for j in judged)}/{len(judged)}); macro-F1 **{macro_f1(judged):.2f}**",
        "",
        "| language | correct | total | accuracy |",
        "| --- | ---: | ---: | ---: |",
    ]
    for language, (right, total) in per_language(judged).items():
        lines.append(f"| {language} | {right} | {total} | {right / total:.1%} |")
    lines += [
        "",
        "| label | precision | recall | F1 | support |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for score in per_label(judged):
        lines.append(
            f"| {score.label} | {score.precision:.2f} | {score.recall:.2f} | "
            f"{score.f1:.2f} | {score.support} |"
        )
    short = {label: label[:6] for label in LABELS}
    lines += [
        "",
        "Confusion (rows: expected, columns: predicted):",
        "",
        "| | " + " | ".join(short[label] for label in LABELS) + " |",
        "| --- |" + " ---: |" * len(LABELS),
    ]
    for expected, row in confusion(judged).items():
        if any(row.values()):
            lines.append(f"| {expected} | " + " | ".join(str(row[p]) for p in LABELS) + " |")
    return "\n".join(lines) + "\n"
