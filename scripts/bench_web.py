"""Server time of the web app's heaviest pages over many cases, on SQLite and PostgreSQL.

    .venv/bin/python -m scripts.bench_web [CASES [QUEUE_CASES]] [--sqlite-only | --postgres-only]

`generate_cases` fills a migrated database with N synthetic cases by plain INSERTs in
batches (a realistic mix: mostly closed on time, some late, extended, refused, paused
for an ID copy, open, not acknowledged), with their acknowledgements, refusal letters,
suppressions and a hash-chained audit event each. Each measurement is a function taking
a `Bench` and returning seconds (the median of several runs of the route through
Starlette's TestClient, signed in); the dashboard's over CASES (default 1,000,000), the
DPO's queue over a database of its own with QUEUE_CASES (default 100,000). PostgreSQL is
the suite's own throwaway cluster (tests.servers.postgres). Prints a table; the README
quotes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from mailbot.cases.audit import GENESIS
from mailbot.cases.deadlines import Deadlines, deadlines_for, paused_due, receipt_date
from mailbot.cases.models import Case, CaseEvent, OutboundMessage, Suppression
from mailbot.cases.timeliness import closed_in_time
from mailbot.config import Settings
from mailbot.database import migrate, open_engine, transaction
from mailbot.handling.record import Handling
from mailbot.sealing import new_key_text
from mailbot.staff.members import add_member
from mailbot.store.models import bind_sealer
from mailbot.web.app import create_app
from mailbot.web.context import WebContext

NOW = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
BATCH = 5000
RUNS = 5
PASSWORD = "bench password, not secret"  # noqa: S105 (a throwaway database)
REASONS = (
    "several accounts and two languages to search",
    "the data sits with a processor who must extract it",
    "a large number of requests this month",
)
REMEDIES = (
    "You may lodge a complaint with the GBA/APD, Rue de la Presse 35, 1000 Brussels, "
    "or bring the matter before a court."
)


@lru_cache(maxsize=4096)
def _deadlines(day: date) -> Deadlines:
    return deadlines_for(day)


def _case(number: int, rng: random.Random, span_days: int) -> dict[str, Any]:
    """One case's row, its facts recorded as the bot would have."""
    received = NOW - timedelta(seconds=rng.uniform(0, span_days * 86400))
    day = receipt_date(received)
    due = _deadlines(day)
    row: dict[str, Any] = {
        "id": number, "reference": f"JAIMY-PRIV-{day.year}-{number:07d}",
        "requester": f"requester{number}@example.org", "requester_name": f"Requester {number}",
        "name_search": "",
        "language": "nlfrdeen"[2 * (number % 4) : 2 * (number % 4) + 2],
        "detected_language": "nl", "primary": "access", "labels": "access", "confidence": 0.9,
        "needs_triage": False, "status": "closed", "received_at": received, "receipt_date": day,
        "legal_due": due.legal_due, "target_due": due.target_due,
        "extended_due": due.extended_due, "rule_version": due.rule_version,
        "id_document": "none", "clock_paused": False, "late_extension_notice": False,
        "id_copy_in_review": False,
        "refusals_sent": 0, "refusals_with_remedies": 0,
        "created_at": received, "updated_at": received,
    }  # fmt: skip
    roll = rng.random()
    if roll < 0.02:  # a redirected customer-service mail
        closed_at = received + timedelta(hours=1)
        row.update(outcome="not_a_request", closed_at=closed_at)
        row.update(closed_on_time=True, closed_by_target=True)
        return row
    if rng.random() < 0.99:
        seconds = int(rng.lognormvariate(4.5, 0.8)) if rng.random() < 0.99 else rng.randrange(86400)
        row.update(acknowledged_at=received + timedelta(seconds=seconds))
        row.update(acknowledge_seconds=seconds)
    if roll < 0.05:
        row.update(primary="objection", labels="objection")
    if 0.05 <= roll < 0.13:  # an ID copy asked for
        row.update(doubt_reason="unknown_address", id_requested_at=received + timedelta(minutes=5))
        if rng.random() < 0.85:
            waited = timedelta(days=rng.randrange(1, 10))
            row.update(id_received_at=received + waited, identity_verified=True)
            row["legal_due"] = paused_due(day, day, day + waited)
            row["target_due"] = due.target_due + waited
        else:
            row.update(clock_paused=True)
    if 0.13 <= roll < 0.17:  # extended
        row.update(extension_notified_on=day + timedelta(days=20))
        row.update(extension_reason=rng.choice(REASONS))
    if 0.17 <= roll < 0.171:
        row["late_extension_notice"] = True
    age = (NOW - received).days
    if (age < 35 and rng.random() < 0.7) or rng.random() < 0.002:
        row["status"] = rng.choice(("new", "in_progress", "awaiting_approval", "answered"))
        if row.get("clock_paused"):
            row["status"] = "awaiting_identity"
        return row
    if row.get("clock_paused"):
        outcome, took = "not_identified", timedelta(days=30)
    elif 0.17 <= roll < 0.20:
        outcome, took = "refused", timedelta(days=rng.uniform(5, 29))
    elif row.get("extension_notified_on"):
        outcome, took = "answered", timedelta(days=rng.uniform(35, 85))
    elif rng.random() < 0.03:
        outcome, took = "answered", timedelta(days=rng.uniform(33, 45))  # late
    else:
        outcome, took = "answered", timedelta(days=rng.uniform(1, 27))
    closed_at = received + took
    if closed_at > NOW:
        row["status"] = "in_progress"
        return row
    row.update(outcome=outcome, closed_at=closed_at)
    if outcome in ("refused", "not_identified"):
        row.update(refusals_sent=1, refusals_with_remedies=int(rng.random() < 0.95))
    on_time, by_target = closed_in_time(SimpleNamespace(**_with_defaults(row)))
    row.update(closed_on_time=on_time, closed_by_target=by_target)
    return row


def _with_defaults(row: dict[str, Any]) -> dict[str, Any]:
    names = ("id_requested_at", "id_received_at", "extension_notified_on", "outcome")
    return {name: None for name in names} | row


def _letters(row: dict[str, Any]) -> Iterator[dict[str, Any]]:
    base = {
        "case_id": row["id"], "language": "en", "status": "sent", "to_address": row["requester"],
        "subject": "Your request", "attempts": 1, "created_at": row["received_at"],
        "next_attempt_at": row["received_at"], "approved_by": None,
    }  # fmt: skip
    if row.get("acknowledged_at"):
        kind = "objection_done" if row["primary"] == "objection" else "acknowledgement"
        yield base | {
            "kind": kind, "template": kind, "body": "We received your request.",
            "message_id": f"<ack-{row['id']}@bench>", "sent_at": row["acknowledged_at"],
        }  # fmt: skip
    if row.get("outcome") in ("refused", "not_identified"):
        kind = "refusal" if row["outcome"] == "refused" else "not_identified"
        whole = bool(row["refusals_with_remedies"])
        yield base | {
            "kind": kind, "template": kind, "body": REMEDIES if whole else "No.",
            "message_id": f"<refusal-{row['id']}@bench>", "sent_at": row["closed_at"],
            "remedies_included": whole,
        }  # fmt: skip


def generate_cases(engine: Engine, count: int, seed: int = 7) -> None:
    """`count` cases over about four years (at least two months) ending at NOW."""
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    span_days = max(60, count // 700)
    previous = GENESIS
    for start in range(1, count + 1, BATCH):
        cases, letters, events, suppressions = [], [], [], []
        for number in range(start, min(start + BATCH, count + 1)):
            row = _case(number, rng, span_days)
            cases.append(row)
            letters += list(_letters(row))
            if row["primary"] == "objection" and row.get("acknowledged_at"):
                suppressions.append(
                    {
                        "address": row["requester"],
                        "reason": "objection",
                        "case_id": number,
                        "created_at": row["acknowledged_at"],
                    }
                )
            at = row["received_at"].replace(microsecond=0)
            data = json.dumps({"reference": row["reference"]}, sort_keys=True)
            payload = json.dumps([previous, number, at.isoformat(), "case_opened", "bot", data])
            digest = hashlib.sha256(payload.encode()).hexdigest()
            events.append(
                {
                    "case_id": number,
                    "at": at,
                    "kind": "case_opened",
                    "actor": "bot",
                    "data": data,
                    "prev_hash": previous,
                    "hash": digest,
                }
            )
            previous = digest
        with engine.begin() as connection:
            connection.execute(Case.__table__.insert(), [_with_all(row) for row in cases])  # type: ignore[attr-defined]
            connection.execute(OutboundMessage.__table__.insert(), _uniform(letters))  # type: ignore[attr-defined]
            connection.execute(CaseEvent.__table__.insert(), events)  # type: ignore[attr-defined]
            if suppressions:
                connection.execute(Suppression.__table__.insert(), suppressions)  # type: ignore[attr-defined]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for table in ("privacy_case", "outbound_message", "case_event", "suppression"):
                # Fixed table names, not input.
                sequence = f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"  # noqa: S608
                connection.execute(text(sequence))
        else:
            connection.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


_CASE_COLUMNS = tuple(column.name for column in Case.__table__.columns)  # type: ignore[attr-defined]


def _with_all(row: dict[str, Any]) -> dict[str, Any]:
    """executemany wants every row to name the same columns."""
    defaults = {"version": row.get("version", 1), "answered_rights": row.get("answered_rights", "")}
    return {name: row.get(name) for name in _CASE_COLUMNS} | defaults


def _uniform(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"remedies_included": None} | row for row in rows]


@dataclass
class Bench:
    """A database with `cases` cases and a web app over it, signed in as compliance."""

    engine: Engine
    cases: int
    client: TestClient  # signed in as compliance
    dpo: TestClient  # signed in as the DPO
    database: str


def open_bench(url: str, cases: int, directory: Path, database: str) -> Bench:
    engine = open_engine(url)
    migrate(engine)
    settings = Settings(
        data_key=new_key_text(), maildir=directory / "inbox", smtp_url="smtp://127.0.0.1:9",
        data_dir=directory, database_url=url,
    )  # fmt: skip
    sealer = settings.sealer()
    bind_sealer(engine, sealer)  # requester names are sealed (SealedText)
    started = time.perf_counter()
    generate_cases(engine, cases)
    print(f"  {database}: {cases:,} cases generated in {time.perf_counter() - started:.0f} s")
    context = WebContext(settings, engine, Handling.of(settings, sealer))
    context.clock = lambda: NOW
    context.secure_cookies = False
    with transaction(engine) as session:
        add_member(session, "bench", "compliance", PASSWORD, NOW, "bench")
        add_member(session, "bench-dpo", "dpo", PASSWORD, NOW, "bench")
    client, dpo = _signed_in(context, "bench"), _signed_in(context, "bench-dpo")
    return Bench(engine, cases, client, dpo, database)


def _signed_in(context: WebContext, name: str) -> TestClient:
    client = TestClient(create_app(context), base_url="http://testserver")
    page = client.get("/signin")
    token = page.cookies.get("mailbot_sign_in") or client.cookies.get("mailbot_sign_in")
    signed = client.post(
        "/signin",
        data={"name": name, "password": PASSWORD, "token": token, "next": "/"},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    return client


def median_seconds(run: Callable[[], object], runs: int = RUNS) -> float:
    run()  # warm: caches, the first plan
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _get(bench: Bench, path: str, as_dpo: bool = False) -> Callable[[], object]:
    client = bench.dpo if as_dpo else bench.client

    def run() -> object:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        return answer

    return run


def dashboard_default_period(bench: Bench) -> float:
    """/dashboard as it opens: the last 13 weeks."""
    return median_seconds(_get(bench, "/dashboard"))


def dashboard_one_year(bench: Bench) -> float:
    return median_seconds(_get(bench, "/dashboard?from=2025-12-01&to=2026-11-30"))


def dashboard_every_case(bench: Bench) -> float:
    """/dashboard over the whole history: every case in the sums."""
    return median_seconds(_get(bench, "/dashboard?from=2000-01-01&to=2026-12-01"))


def weeks_export_every_case(bench: Bench) -> float:
    return median_seconds(_get(bench, "/dashboard/export/weeks.csv?from=2000-01-01&to=2026-12-01"))


def queue_open_cases(bench: Bench) -> float:
    """/cases as the DPO opens it: open cases, nearest deadline first."""
    return median_seconds(_get(bench, "/cases", as_dpo=True))


def queue_last_page_of_all(bench: Bench) -> float:
    """The deepest page: every case, sorted by deadline, the last 50."""
    last = (bench.cases + 49) // 50
    return median_seconds(_get(bench, f"/cases?status=all&page={last}", as_dpo=True))


def queue_search_by_address(bench: Bench) -> float:
    number = bench.cases // 2
    return median_seconds(
        _get(bench, f"/cases?status=all&search=requester{number}%40example.org", as_dpo=True)
    )


def queue_filtered(bench: Bench) -> float:
    """Open objections in French due within a week."""
    path = "/cases?right=objection&language=fr&days_left=7"
    return median_seconds(_get(bench, path, as_dpo=True))


MEASUREMENTS: dict[str, Callable[[Bench], float]] = {
    "dashboard, last 13 weeks": dashboard_default_period,
    "dashboard, one year": dashboard_one_year,
    "dashboard, every case": dashboard_every_case,
    "weekly figures CSV, every case": weeks_export_every_case,
}
# The queue is measured over its own, smaller database (issue 10: 100,000 cases).
QUEUE_MEASUREMENTS: dict[str, Callable[[Bench], float]] = {
    "queue, open cases": queue_open_cases,
    "queue, last page of every case": queue_last_page_of_all,
    "queue, search by address": queue_search_by_address,
    "queue, three filters": queue_filtered,
}


def measure(bench: Bench, measurements: dict[str, Callable[[Bench], float]]) -> dict[str, float]:
    return {name: measurement(bench) for name, measurement in measurements.items()}


def _sqlite(cases: int, queue_cases: int, directory: Path) -> dict[str, float]:
    results: dict[str, float] = {}
    for count, measurements, file in (
        (cases, MEASUREMENTS, "bench.sqlite3"),
        (queue_cases, QUEUE_MEASUREMENTS, "queue.sqlite3"),
    ):
        url = f"sqlite:///{directory / file}"
        results |= measure(open_bench(url, count, directory, "SQLite"), measurements)
    return results


def _postgres(cases: int, queue_cases: int, directory: Path) -> dict[str, float]:
    from tests.servers.postgres import start_postgres

    workdir = Path(tempfile.mkdtemp(prefix="postgres-bench-"))
    cluster = start_postgres(workdir)
    results: dict[str, float] = {}
    try:
        for count, measurements, name in (
            (cases, MEASUREMENTS, "bench"),
            (queue_cases, QUEUE_MEASUREMENTS, "queue"),
        ):
            bench = open_bench(cluster.create_database(name), count, directory, "PostgreSQL")
            try:
                results |= measure(bench, measurements)
            finally:
                bench.engine.dispose()
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def main(arguments: list[str]) -> None:
    counts = [int(a) for a in arguments if a.isdigit()]
    cases, queue_cases = (counts + [1_000_000, 100_000][len(counts) :])[:2]
    databases = {"SQLite": _sqlite, "PostgreSQL": _postgres}
    if "--sqlite-only" in arguments:
        del databases["PostgreSQL"]
    if "--postgres-only" in arguments:
        del databases["SQLite"]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; dashboard over {cases:,} cases, queue over "
        f"{queue_cases:,}; median of {RUNS} runs"
    )
    results = {}
    for name, run in databases.items():
        with tempfile.TemporaryDirectory() as directory:
            results[name] = run(cases, queue_cases, Path(directory))
    print(f"{'server time, ms':<34}" + "".join(f"{name:>12}" for name in results))
    for measurement in [*MEASUREMENTS, *QUEUE_MEASUREMENTS]:
        cells = "".join(f"{results[name][measurement] * 1000:>12.0f}" for name in results)
        print(f"{measurement:<34}{cells}")


if __name__ == "__main__":
    main(sys.argv[1:])
