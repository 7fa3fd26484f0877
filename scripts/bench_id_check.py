"""Accuracy and cost of the ID-copy check on the synthetic ID test set.

    .venv/bin/python -m scripts.bench_id_check [--count 120] [--seed 7] [--workers 1]

Renders the set (tests/idcards/render.py) into a temporary directory, sniffs each file's
type from its bytes as the mail parser does, runs `check_attachment` on it and prints the
share of right kinds overall, per kind, per variation and per format, a confusion table,
seconds per document and the peak RSS of this process and of its tesseract children.
Writes nothing into the repository.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from mailbot.mail.content import sniff_type
from mailbot.triage.id_check import check_attachment
from mailbot.triage.id_evidence import ID_KINDS, IdCheck
from tests.idcards.render import Sample

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class Outcome:
    sample: Sample
    check: IdCheck
    seconds: float

    @property
    def right(self) -> bool:
        return self.check.kind == self.sample.kind


def run_one(sample: Sample, path: Path) -> Outcome:
    data = path.read_bytes()
    assert sample.sniffed_type == sniff_type(data), sample.name
    started = time.perf_counter()
    check = check_attachment(data, sniff_type(data))
    return Outcome(sample, check, time.perf_counter() - started)


def share(outcomes: list[Outcome]) -> str:
    right = sum(outcome.right for outcome in outcomes)
    return f"{right:3d}/{len(outcomes):<3d} {100 * right / max(len(outcomes), 1):5.1f} %"


def print_groups(title: str, outcomes: list[Outcome], key: str) -> None:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[str(getattr(outcome.sample, key))].append(outcome)
    print(f"\n{title}")
    for name in sorted(groups):
        verified = sum(o.check.verified for o in groups[name] if o.right)
        seconds = statistics.fmean(o.seconds for o in groups[name])
        print(
            f"  {name:16s} {share(groups[name])}   verified when right: {verified:3d}"
            f"   {seconds:4.2f} s per document"
        )


def print_confusion(outcomes: list[Outcome]) -> None:
    expected = [kind for kind in ID_KINDS if any(o.sample.kind == kind for o in outcomes)]
    counts = Counter((o.sample.kind, o.check.kind) for o in outcomes)
    short = {kind: kind.replace("driving_licence", "licence")[:9] for kind in ID_KINDS}
    print("\nconfusion (rows: expected, columns: found)")
    print(" " * 17 + "".join(f"{short[kind]:>10s}" for kind in ID_KINDS))
    for row in expected:
        print(f"  {row:15s}" + "".join(f"{counts[(row, col)]:10d}" for col in ID_KINDS))


def score(check: IdCheck) -> int:
    return next((int(fact[6:]) for fact in check.evidence if fact.startswith("score:")), 0)


def print_scores(outcomes: list[Outcome]) -> None:
    """The margins: how far right answers sit above the thresholds, wrong ones below."""
    print("\nscore of the best kind (min / median / max) per expected kind")
    for kind in ID_KINDS:
        scores = sorted(score(o.check) for o in outcomes if o.sample.kind == kind)
        if scores:
            print(f"  {kind:16s} {scores[0]:3d} {statistics.median(scores):5.1f} {scores[-1]:3d}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1, help="documents checked at once")
    parser.add_argument("--show-wrong", action="store_true", help="list the misread samples")
    args = parser.parse_args()

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="idcheck-bench-") as directory:
        # Drawn in a child process, so the peak RSS below is the check's alone.
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.idcards.render",
                directory,
                str(args.count),
                str(args.seed),
            ],
            check=True,
            cwd=REPO,
        )
        rendered = time.perf_counter() - started
        manifest = json.loads((Path(directory) / "manifest.json").read_text(encoding="utf-8"))
        samples = [Sample(**entry, data=b"") for entry in manifest]
        paths = [Path(directory) / sample.name for sample in samples]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            outcomes = list(pool.map(run_one, samples, paths))
        wall = time.perf_counter() - started

    print(
        f"{platform.processor() or platform.machine()}, {args.count} documents, seed "
        f"{args.seed}, {args.workers} at once; rendering took {rendered:.1f} s"
    )
    print(f"\nright kind overall: {share(outcomes)}")
    print_groups("per expected kind", outcomes, "kind")
    print_groups("per variation", outcomes, "variation")
    print_groups("per format", outcomes, "fmt")
    print_confusion(outcomes)
    print_scores(outcomes)
    seconds = [outcome.seconds for outcome in outcomes]
    print(
        f"\nseconds per document: mean {statistics.fmean(seconds):.2f}, median "
        f"{statistics.median(seconds):.2f}, max {max(seconds):.2f}; "
        f"wall {wall:.1f} s = {wall / len(seconds):.2f} s per document"
    )
    slowest = sorted(outcomes, key=lambda outcome: -outcome.seconds)[:3]
    print("slowest: " + ", ".join(f"{o.sample.name} {o.seconds:.1f} s" for o in slowest))
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the checking process (tesseract runs apart): {own:.0f} MB")
    if args.show_wrong:
        print("\nmisread:")
        for outcome in outcomes:
            if not outcome.right:
                print(
                    f"  {outcome.sample.name:34s} -> {outcome.check.kind:16s} "
                    f"{outcome.check.reason}; {' '.join(outcome.check.evidence)}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
