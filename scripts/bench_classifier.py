"""Benchmark of `mailbot classify` as a user runs it: 100 typical mails as .eml files.

    .venv/bin/python -m scripts.bench_classifier [--classifier e5] [--count 100]

Typical mails are the held-out test split of classifiers/data (never trained on by the
committed head's test figures, and the same kind of text the inbox receives). Prints
the model load time, mails per second after load, and the peak RSS of the command.
Each command runs three times: shared virtual machines vary by a factor of two from
one minute to the next, so the best and the median run are both printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from classifiers.dataset import load_examples, split_of

RUNS = 3


def write_mails(directory: Path, count: int) -> list[Path]:
    examples = [e for e in load_examples() if split_of(e.id, 13) == "test"]
    examples = (examples * (count // max(len(examples), 1) + 1))[:count]
    files = []
    for n, example in enumerate(examples):
        message = EmailMessage()
        message["From"] = f"Person {n} <person{n}@example.org>"
        message["To"] = "privacy@jaimy.be"
        message["Subject"] = example.subject
        message["Message-ID"] = f"<bench-{n}@example.org>"
        message.set_content(example.body)
        file = directory / f"{n:03d}.eml"
        file.write_bytes(message.as_bytes())
        files.append(file)
    return files


def run(files: list[Path], classifier: str) -> float:
    env = {**os.environ, "MAILBOT_CLASSIFIER": classifier}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mailbot", "classify", "--json", *map(str, files)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(done.stdout.splitlines()) == len(files)
    return time.perf_counter() - started


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--classifier", default="e5")
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    ones, manys = [], []
    with tempfile.TemporaryDirectory() as directory:
        files = write_mails(Path(directory), args.count)
        for _ in range(RUNS):
            ones.append(run(files[:1], args.classifier))  # load + one mail
            manys.append(run(files, args.classifier))
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"classifier: {args.classifier}, {RUNS} runs of each command")
    for name, pick in (("best", min), ("median", statistics.median)):
        one, many = pick(ones), pick(manys)
        per_mail = (many - one) / (len(files) - 1)
        print(
            f"{name}: start-up + load + 1 mail {one:.2f} s; {len(files)} mails {many:.2f} s"
            f" -> {1 / per_mail:.1f} mails/s after load"
        )
    print(f"peak RSS of the command: {rss:.0f} MB")


if __name__ == "__main__":
    main()
