"""docs/THREAT-MODEL.md names a test for every defence it claims: each test it names
exists, so a renamed or deleted test cannot leave the document promising what nothing
checks any more."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "docs" / "THREAT-MODEL.md"


def _references() -> list[tuple[str, str | None]]:
    """(file, test or None) for every `tests/...` and `::test_...` the document names; a
    bare `::test_x` belongs to the file named before it on the same line."""
    found = []
    for line in MODEL.read_text(encoding="utf-8").splitlines():
        current = None
        for ref in re.findall(r"`((?:tests/[^`:]+)?(?:::test_\w+)?)`", line):
            path, _, test = ref.partition("::")
            current = path or current
            if current:
                found.append((current, test or None))
    return found


def test_every_defence_names_a_test_that_exists() -> None:
    references = _references()
    assert len(references) > 30
    missing = []
    for path, test in references:
        file = ROOT / path
        if not file.exists():
            missing.append(path)
        elif test is not None and not re.search(
            rf"^def {test}\(", file.read_text(encoding="utf-8"), re.MULTILINE
        ):
            missing.append(f"{path}::{test}")
    assert missing == []
