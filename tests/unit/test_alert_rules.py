"""deploy/prometheus/alerts.yml: valid YAML in Prometheus' rule layout, and every alert
watches a figure that /metrics really exports, with a label value it really uses."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from mailbot.cases.models import WorkerState
from mailbot.database import transaction
from mailbot.exposition import BotCollector
from tests.maildir_worker import maildir_worker

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"


def test_every_alert_watches_an_exported_series(tmp_path: Path) -> None:
    worker = maildir_worker(tmp_path)
    with transaction(worker.engine) as session:
        session.add(WorkerState(id=1, last_round_at=datetime.now(UTC)))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BotCollector(worker.engine, lambda: datetime.now(UTC)))
    exported: dict[str, set[tuple[str, str]]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            exported.setdefault(sample.name, set()).update(sample.labels.items())

    document = yaml.safe_load(RULES.read_text("utf-8"))
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    assert len(rules) >= 6
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["annotations"]["summary"] and rule["annotations"]["action"]
        for name, selector in re.findall(r"\b(mailbot_\w+)(?:\{([^}]*)\})?", rule["expr"]):
            assert name in exported, (rule["alert"], name)
            for label, value in re.findall(r'(\w+)="([^"]*)"', selector or ""):
                assert (label, value) in exported[name], (rule["alert"], label, value)
