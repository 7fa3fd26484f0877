"""The training data written for this project (classifiers/data/*.jsonl) and its splits.

Every record is a synthetic mail in nl, fr, de or en with its labels, written for
Jaimy's inbox. The public letters benchmark in ../shared is never part of it.
The split is a function of the record's id and the seed, so it is the same on every
machine and does not move when records are added elsewhere in the file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from classifiers.labels import LABELS, RIGHTS, SERVED_LANGUAGES
from classifiers.reading import with_attached

DATA_DIR: Final = Path(__file__).parent / "data"
SPLITS: Final = (("test", 0.20), ("validation", 0.10), ("train", 0.70))


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    language: str
    subject: str
    body: str
    labels: tuple[str, ...]

    @property
    def primary(self) -> str:
        return self.labels[0]


class DataError(ValueError):
    """A training record is malformed; the message names the file and line."""


def load_examples(directory: Path = DATA_DIR) -> list[Example]:
    return load_files(sorted(directory.glob("*.jsonl")))


def load_files(files: list[Path]) -> list[Example]:
    """The records of these JSONL files (training data, or the DPO's corrections)."""
    examples: list[Example] = []
    seen: set[str] = set()
    for file in files:
        for number, line in enumerate(file.read_text("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{file.name}:{number}"
            example = _example(json.loads(line), where)
            if example.id in seen:
                raise DataError(f"{where}: duplicate id {example.id}")
            seen.add(example.id)
            examples.append(example)
    return examples


def _example(record: dict[str, object], where: str) -> Example:
    labels = tuple(str(label) for label in record.get("labels", []))  # type: ignore[attr-defined]
    primary = record.get("primary", labels[0] if labels else None)
    if not labels or labels[0] != primary:
        raise DataError(f"{where}: primary must be the first of labels")
    if unknown := [label for label in labels if label not in LABELS]:
        raise DataError(f"{where}: unknown labels {unknown}")
    if len(labels) > 1 and not set(labels) <= set(RIGHTS):
        raise DataError(f"{where}: other/not_a_request cannot be combined with rights")
    language = str(record.get("lang"))
    if language not in SERVED_LANGUAGES:
        raise DataError(f"{where}: language {language!r} is not one we serve")
    attached = "\n\n".join(
        str(part["text"])
        for part in record.get("attachments") or []  # type: ignore[attr-defined]
    )
    return Example(
        id=str(record["id"]),
        language=language,
        subject=str(record.get("subject") or ""),
        # An attached letter joins the mail's text as the bot joins it (classifiers.reading).
        body=with_attached(str(record.get("body") or ""), attached),
        labels=labels,
    )


def split_of(example_id: str, seed: int) -> str:
    """test / validation / train, from a hash of the id and the seed."""
    digest = hashlib.sha256(f"{seed}:{example_id}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    for name, share in SPLITS:
        if position < share:
            return name
        position -= share
    return SPLITS[-1][0]
