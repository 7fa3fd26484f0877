"""The web benchmark's parts on a few hundred cases: its synthetic cases are consistent
(the database's sums equal `mailbot report`'s walk over them) and every measurement
runs. Timing itself is the script's business (scripts/bench_web.py), not a test's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from mailbot.figure_tables import period_figures
from mailbot.metrics import sla_figures
from mailbot.reports import load_facts
from scripts.bench_web import MEASUREMENTS, NOW, QUEUE_MEASUREMENTS, measure, open_bench


def test_the_benchmark_runs_on_a_few_hundred_cases(tmp_path: Path) -> None:
    bench = open_bench(f"sqlite:///{tmp_path / 'bench.sqlite3'}", 200, tmp_path, "SQLite")
    first, last = date(2000, 1, 1), NOW.date()
    facts, copies = load_facts(bench.engine, first, last)
    reference = sla_figures(facts, copies, NOW, first, last).as_json()
    assert period_figures(bench.engine, first, last, NOW).as_json() == reference
    assert reference["cases"] > 150 and reference["closed"] > 50
    for measurements in (MEASUREMENTS, QUEUE_MEASUREMENTS):
        timings = measure(bench, measurements)
        assert set(timings) == set(measurements) and all(t > 0 for t in timings.values())
