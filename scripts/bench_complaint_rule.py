"""Recall and precision of the complaint rule on the mails written to measure it.

    .venv/bin/python -m scripts.bench_complaint_rule

See classifiers/data/complaints/README.md: dev1 and dev2 were used to develop the rule,
test.jsonl was not, and its figure is the one to quote.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from classifiers.complaint import lodges_complaint
from classifiers.reading import read_mail

REPO = Path(__file__).resolve().parents[1]

SETS = REPO / "classifiers" / "data" / "complaints"


def measure(rows: list[dict[str, object]]) -> str:
    counts: Counter[tuple[bool, bool]] = Counter()
    for row in rows:
        reading = read_mail(str(row["subject"]), str(row["body"]))
        found = lodges_complaint(f"{reading.topic}\n\n{reading.text}")
        counts[(bool(row["lodges"]), found)] += 1
    hits, misses, alarms = counts[(True, True)], counts[(True, False)], counts[(False, True)]
    recall = hits / max(hits + misses, 1)
    precision = hits / max(hits + alarms, 1)
    return f"recall {recall:.2f}  precision {precision:.2f}  ({len(rows)} mails)"


def main() -> None:
    for file in sorted(SETS.glob("*.jsonl")):
        rows = [json.loads(line) for line in file.read_text("utf-8").splitlines() if line]
        print(f"{file.name:<12} {measure(rows)}")
        for language in ("nl", "fr", "de", "en"):
            print(f"  {language:<10} {measure([r for r in rows if r['lang'] == language])}")


if __name__ == "__main__":
    main()
