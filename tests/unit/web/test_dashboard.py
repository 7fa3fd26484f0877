"""/dashboard and its exports: who may see them, what they show, and that no personal
data reaches the compliance role on any page or file."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from mailbot.cases.deadlines import receipt_date
from mailbot.cases.models import Case, CaseEvent
from mailbot.database import transaction
from mailbot.web.context import WebContext
from mailbot.web.exports import csv_text, neutralised
from mailbot.worker import Worker
from tests.maildir_worker import deliver
from tests.mailfactory import request_mail
from tests.unit.web.conftest import csrf_of

NAME = "Zebulon Quixotewright"
ADDRESS = "zebulon.quixotewright@example.org"
SUBJECT = "Kwispelstaart-aanvraag 7731"
BODY = "Mijn huisnummer is Vlinderlaan 99 en ik wil mijn gegevens zien."
PERSONAL = (NAME, "Quixotewright", ADDRESS, SUBJECT, "Vlinderlaan")
HOSTILE = '=HYPERLINK("http://evil.example")<script>alert(1)</script>'

EXPORTS = [
    f"/dashboard/export/{name}.{form}"
    for name in ("weeks", "extensions", "refusals", "figures")
    for form in ("csv", "json")
]
# The bot's today is Brussels' (deadlines end at midnight there), not the host's: from
# 23:00 UTC in winter the two differ.
TODAY = receipt_date(datetime.now(UTC))
PERIOD = f"from={(TODAY - timedelta(days=400)).isoformat()}&to={TODAY.isoformat()}"


@pytest.fixture
def seeded(worker: Worker, context: WebContext) -> WebContext:
    """A request from a distinctive person, one objection, and an extended case whose
    reason holds formula and markup text."""
    deliver(
        worker,
        request_mail(sender=f"{NAME} <{ADDRESS}>", language="nl", subject=SUBJECT, body=BODY),
    )
    deliver(
        worker,
        request_mail(
            sender="Other Person <other.person@example.org>",
            language="nl",
            subject="Geen reclame meer",
            body="Stuur mij geen nieuwsbrieven of reclame meer.",
        ),
    )
    with transaction(worker.engine) as session:
        case = session.exec(select(Case).where(Case.requester == ADDRESS)).one()
        case.extension_notified_on = case.receipt_date
        case.extension_reason = HOSTILE
        session.add(case)
    return context


def test_the_dashboard_shows_cards_charts_and_tables(seeded: WebContext, dpo: TestClient) -> None:
    page = dpo.get(f"/dashboard?{PERIOD}")
    assert page.status_code == 200
    text = page.text
    for words in (
        "closed by the legal deadline",
        "median time to acknowledge",
        "open cases past their deadline",
        "ID copies still held after their check",
        "Cases per week of receipt",
        "Open cases by days left",
        "Time to acknowledge",
    ):
        assert words in text
    assert text.count("<svg") >= 3 and 'role="img"' in text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # the reason, as text
    assert "style=" not in text and "<script" not in text.replace("&lt;script", "")
    reference = re.search(r"JAIMY-PRIV-\d{4}-\d{4}", text)
    assert reference is not None


def test_the_default_period_is_the_last_thirteen_weeks(
    seeded: WebContext, compliance: TestClient
) -> None:
    page = compliance.get("/dashboard")
    assert page.status_code == 200
    first = re.search(r'name="from" value="([0-9-]+)"', page.text)
    assert first is not None
    start = date.fromisoformat(first.group(1))
    assert start.weekday() == 0 and 84 <= (TODAY - start).days <= 90
    assert compliance.get("/dashboard?from=2026-13-01").status_code == 400
    assert compliance.get("/dashboard?from=2026-05-01&to=2026-04-01").status_code == 400


def test_compliance_never_sees_personal_data(seeded: WebContext, compliance: TestClient) -> None:
    fetched = [compliance.get(f"/dashboard?{PERIOD}"), compliance.get("/dashboard")]
    fetched += [compliance.get(f"{path}?{PERIOD}") for path in EXPORTS]
    for answer in fetched:
        assert answer.status_code == 200, answer.url
        for secret in PERSONAL:
            assert secret not in answer.text, (answer.url, secret)
    extensions = compliance.get(f"/dashboard/export/extensions.json?{PERIOD}").json()
    assert [row["reason"] for row in extensions["extensions"]] == [HOSTILE]


def test_exports_neutralise_formulas_and_name_the_period(
    seeded: WebContext, compliance: TestClient
) -> None:
    answer = compliance.get(f"/dashboard/export/extensions.csv?{PERIOD}")
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert rows[0]["reason"] == "'" + HOSTILE
    weeks = compliance.get(f"/dashboard/export/weeks.json?{PERIOD}").json()
    assert sum(week["received"] for week in weeks["weeks"]) == 2
    figures = compliance.get(f"/dashboard/export/figures.json?{PERIOD}").json()
    assert figures["figures"][0]["cases"] == 2
    table = list(csv.DictReader(io.StringIO(compliance.get(f"{EXPORTS[6]}?{PERIOD}").text)))
    assert {"figure": "cases", "count": "2"}.items() <= table[0].items()
    assert compliance.get("/dashboard/export/requesters.csv").status_code == 404
    assert compliance.get("/dashboard/export/weeks.xlsx").status_code == 404


def test_every_formula_start_is_neutralised() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralised(f"{start}1+1") == f"'{start}1+1"
    assert neutralised(-3) == -3 and neutralised(None) == "" and neutralised("JAIMY") == "JAIMY"
    assert csv_text([{"a": "=1"}], ["a"]) == "a\r\n'=1\r\n"


def test_admin_is_refused_and_anonymous_sent_to_sign_in(
    seeded: WebContext, admin: TestClient, anonymous: TestClient
) -> None:
    for path in ["/dashboard", *EXPORTS]:
        assert admin.get(path).status_code == 403
        answer = anonymous.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    assert admin.post("/dashboard/audit", data={"csrf": "x"}).status_code == 403


def test_the_audit_chain_is_verified_on_demand_with_a_csrf_token(
    seeded: WebContext, compliance: TestClient
) -> None:
    page = compliance.get("/dashboard")
    assert "has not been verified yet" in page.text
    refused = compliance.post("/dashboard/audit", data={"back": "/dashboard"})
    assert refused.status_code == 403
    done = compliance.post(
        "/dashboard/audit",
        data={"csrf": csrf_of(page.text), "back": f"/dashboard?{PERIOD}"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/dashboard?{PERIOD}"
    after = compliance.get(done.headers["location"])
    assert "Audit chain intact" in after.text and "intact</span>" in after.text
    assert "0 events recorded since" in after.text
    with transaction(seeded.engine) as session:
        first = session.exec(select(CaseEvent).order_by(CaseEvent.id)).first()  # type: ignore[arg-type]
        assert first is not None
        first.actor = "someone else"
        session.add(first)
    broken = compliance.post("/dashboard/audit", data={"csrf": csrf_of(after.text)})
    assert "BROKEN at event" in broken.text and "broken</span>" in broken.text
