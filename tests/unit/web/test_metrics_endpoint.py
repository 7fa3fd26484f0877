"""`/metrics` for Prometheus: off without a token, refused without the right one, and
with it the bot's state as the Prometheus client's own parser reads it, never a
person's address, name or case reference in a label."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from mailbot.store.models import utcnow
from mailbot.web.app import create_app
from mailbot.web.context import WebContext
from mailbot.worker import Worker
from tests.maildir_worker import deliver
from tests.mailfactory import PNG_1PX, request_mail
from tests.unit.web.conftest import delivered

TOKEN = "s3cret-metrics-token-for-tests"


def _client(context: WebContext, token: str | None = TOKEN) -> TestClient:
    settings = context.settings.model_copy(
        update={"metrics_token": SecretStr(token) if token else None}
    )
    later = dataclasses.replace(
        context, settings=settings, clock=lambda: utcnow() + timedelta(days=20)
    )
    return TestClient(create_app(later), base_url="https://testserver")


def _scrape(context: WebContext) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    answer = _client(context).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples


def test_metrics_are_off_without_a_token_and_refused_with_a_wrong_one(
    context: WebContext,
) -> None:
    assert _client(context, None).get("/metrics").status_code == 404
    client = _client(context)
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")


def test_the_bots_state_parsed_by_the_prometheus_client(
    context: WebContext, worker: Worker
) -> None:
    card = [("id.png", "image/png", PNG_1PX)]
    delivered(worker, request_mail(sender="Anna Peeters <anna@d1.example.org>", language="nl"))
    delivered(
        worker, request_mail(sender="Bo <bo@d2.example.org>", language="fr", attachments=card)
    )
    deliver(worker, b"From: x@d3.example.org\r\nTo: privacy@jaimy.be\r\n\r\n")  # empty
    worker.handle_pending()
    worker._record_round()

    metrics = _scrape(context)
    mails = {
        dict(labels)["disposition"]: value for labels, value in metrics["mailbot_mails"].items()
    }
    assert (mails.get("case_opened"), mails.get("quarantined"), sum(mails.values())) == (2, 1, 3), (
        mails
    )
    replies = {dict(k)["status"]: v for k, v in metrics["mailbot_replies"].items()}
    assert replies["queued"] >= 2  # nothing listens on the SMTP port in these tests
    assert metrics["mailbot_oldest_queued_reply_age_seconds"][()] >= 20 * 86400
    # Twenty days on, both cases are 0-14 days from their deadline (or paused for an ID).
    open_cases = {dict(k)["days_left"]: v for k, v in metrics["mailbot_cases_open"].items()}
    assert sum(open_cases.values()) == 2 and open_cases["overdue"] == 0
    assert metrics["mailbot_worker_last_round_age_seconds"][()] >= 20 * 86400
    ((leader,),) = metrics["mailbot_worker_leader"]
    assert re.fullmatch(r"worker", leader[0]) and re.fullmatch(r".+:\d+", leader[1])
    assert "mailbot_acknowledgement_seconds_bucket" in metrics
    held = {dict(k)["waiting_for"] for k in metrics["mailbot_id_copies_held"]}
    assert held == {"identity_check", "reading", "nothing"}  # each with its alert
    # Fixed words in the labels only: no address, name or reference.
    labels = {value for series in metrics.values() for key in series for _, value in key}
    assert not any("@" in value or "Peeters" in value or "PRIV" in value for value in labels)
