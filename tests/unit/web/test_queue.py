"""The DPO's queue (/cases): who may see it, each filter narrowing it, search taken
literally, nearest deadline first, days-left badges and pages of 50."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text

from mailbot.cases.models import CaseStatus
from mailbot.web.context import WebContext
from mailbot.web.routes.queue import PAGE_SIZE
from mailbot.worker import Worker
from tests.mailfactory import request_mail
from tests.unit.web.conftest import delivered, insert_case, refused_to_others, signed_in_as

# A Wednesday; the sessions of these tests start at this "now".
NOW = datetime(2030, 3, 6, 10, tzinfo=UTC)
REFERENCE = re.compile(r'href="/cases/(JAIMY-PRIV-\d{4}-\d{4})"')


def listed(page: str) -> list[str]:
    return REFERENCE.findall(page)


def at_now(context: WebContext) -> TestClient:
    context.clock = lambda: NOW
    return signed_in_as(context, "dpo")


def test_only_the_dpo_sees_the_queue(context: WebContext, worker: Worker) -> None:
    case = delivered(worker, request_mail(sender="Anna Peeters <anna.peeters@example.org>"))
    page = signed_in_as(context, "dpo").get("/cases")
    assert page.status_code == 200 and case.reference in page.text
    assert "anna.peeters@example.org" in page.text
    refused_to_others(context, "GET", "/cases", secret="anna.peeters")


def test_each_filter_narrows_the_queue(context: WebContext) -> None:
    dpo = at_now(context)
    today = NOW.date()
    plain = insert_case(context, 1, received_at=NOW - timedelta(days=3))
    erasure_nl = insert_case(
        context, 2, primary="erasure", labels="erasure objection", language="nl"
    )
    triage = insert_case(context, 3, needs_triage=True, primary="other", labels="other")
    waiting = insert_case(context, 4, status=CaseStatus.AWAITING_IDENTITY, language="fr")
    soon = insert_case(context, 5, legal_due=today + timedelta(days=3))
    closed = insert_case(context, 6, status=CaseStatus.CLOSED, closed_at=NOW)
    everyone_open = {c.reference for c in (plain, erasure_nl, triage, waiting, soon)}

    assert set(listed(dpo.get("/cases").text)) == everyone_open
    assert listed(dpo.get("/cases?status=closed").text) == [closed.reference]
    assert set(listed(dpo.get("/cases?status=all").text)) == everyone_open | {closed.reference}
    assert listed(dpo.get("/cases?status=awaiting_identity").text) == [waiting.reference]
    assert listed(dpo.get("/cases?right=erasure").text) == [erasure_nl.reference]
    # A right anywhere in the labels, not only the first, and no prefix match.
    assert listed(dpo.get("/cases?right=objection").text) == [erasure_nl.reference]
    assert listed(dpo.get("/cases?language=nl").text) == [erasure_nl.reference]
    assert listed(dpo.get("/cases?triage=1").text) == [triage.reference]
    assert listed(dpo.get("/cases?waiting_for_id=1").text) == [waiting.reference]
    assert listed(dpo.get("/cases?days_left=5").text) == [soon.reference]
    # Filters combine: erasure in French matches nothing.
    assert "No case matches" in dpo.get("/cases?right=erasure&language=fr").text


def test_search_by_reference_address_or_name(context: WebContext) -> None:
    dpo = at_now(context)
    anna = insert_case(context, 11, requester="anna.peeters@example.org", requester_name="Anna")
    bert = insert_case(context, 12, requester="b@example.org", requester_name="Bert Maes")
    insert_case(context, 13, requester="c@example.org", requester_name="Chris")

    assert listed(dpo.get("/cases", params={"search": "2030-0012"}).text) == [bert.reference]
    assert listed(dpo.get("/cases", params={"search": "ANNA.PEETERS@"}).text) == [anna.reference]
    assert listed(dpo.get("/cases", params={"search": "maes"}).text) == [bert.reference]


def test_a_percent_or_underscore_in_the_search_is_taken_literally(context: WebContext) -> None:
    dpo = at_now(context)
    underscored = insert_case(context, 21, requester="jan_de_smet@example.org")
    insert_case(context, 22, requester="janxdexsmet@example.org")
    percent = insert_case(context, 23, requester_name="100% Zeker")
    insert_case(context, 24, requester_name="1000 Zeker")

    assert listed(dpo.get("/cases", params={"search": "jan_de"}).text) == [underscored.reference]
    assert listed(dpo.get("/cases", params={"search": "100%"}).text) == [percent.reference]
    # Names are sealed and found by whole words: a lone "%" is no word, and no wildcard.
    assert listed(dpo.get("/cases", params={"search": "%"}).text) == []


def test_names_are_sealed_and_found_by_whole_words(context: WebContext) -> None:
    """Defect 6 (issue 11): requester names were plaintext at rest. They are sealed; the
    queue finds a case by whole words of the name (keyed hashes), in any case and order."""
    dpo = at_now(context)
    anna = insert_case(context, 41, requester_name="Anna-Lena Van Peeters")
    insert_case(context, 42, requester_name="Annabel Peet")
    with context.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT requester_name, name_search FROM privacy_case WHERE id = :id"),
            {"id": anna.id},
        ).one()
    assert "Anna" not in stored[0] and "Peeters" not in stored[1]
    for term in ("peeters", "PEETERS anna-lena", "van"):
        assert listed(dpo.get("/cases", params={"search": term}).text) == [anna.reference]
    assert listed(dpo.get("/cases", params={"search": "peet"}).text) != [anna.reference]
    assert "Anna-Lena Van Peeters" in dpo.get(f"/cases/{anna.reference}").text


def test_nearest_deadline_first_with_amber_and_red_badges(context: WebContext) -> None:
    dpo = at_now(context)
    today = NOW.date()
    far = insert_case(context, 31, legal_due=today + timedelta(days=20))
    amber = insert_case(context, 32, legal_due=today + timedelta(days=5))
    red = insert_case(context, 33, legal_due=today + timedelta(days=2))
    late = insert_case(context, 34, legal_due=today - timedelta(days=1))
    # Extended and the requester told: the extended deadline is the one held to.
    extended = insert_case(
        context,
        35,
        legal_due=today - timedelta(days=10),
        extended_due=today + timedelta(days=10),
        extension_notified_on=today - timedelta(days=20),
    )

    page = dpo.get("/cases").text
    assert listed(page) == [
        late.reference,
        red.reference,
        amber.reference,
        extended.reference,
        far.reference,
    ]
    badges = re.findall(r'<span class="badge (\w+)">([^<]*)</span>', page)
    assert badges == [
        ("red", "1 d late"),
        ("red", "2 d left"),
        ("amber", "5 d left"),
        ("ok", "10 d left"),
        ("ok", "20 d left"),
    ]


def test_the_badge_follows_the_clock(context: WebContext) -> None:
    dpo = at_now(context)
    insert_case(context, 41, legal_due=NOW.date() + timedelta(days=6))
    assert '<span class="badge ok">6 d left</span>' in dpo.get("/cases").text
    context.clock = lambda: NOW + timedelta(days=1)
    dpo = signed_in_as(context, "dpo")  # a session idle for a day has ended
    assert '<span class="badge amber">5 d left</span>' in dpo.get("/cases").text
    context.clock = lambda: NOW + timedelta(days=4)
    dpo = signed_in_as(context, "dpo")
    assert '<span class="badge red">2 d left</span>' in dpo.get("/cases").text


def test_pages_of_fifty(context: WebContext) -> None:
    dpo = at_now(context)
    today = NOW.date()
    for n in range(1, 64):
        insert_case(context, 100 + n, legal_due=today + timedelta(days=n))

    first = dpo.get("/cases").text
    assert "(63 cases)" in first and "Page 1 of 2" in first
    assert len(listed(first)) == PAGE_SIZE
    assert listed(first)[0] == "JAIMY-PRIV-2030-0101"
    assert 'rel="next"' in first and 'rel="prev"' not in first

    second_link = re.search(r'href="(/cases\?[^"]+)" rel="next"', first)
    assert second_link is not None
    second = dpo.get(second_link.group(1).replace("&amp;", "&")).text
    assert "Page 2 of 2" in second and 'rel="prev"' in second and 'rel="next"' not in second
    assert listed(second) == [f"JAIMY-PRIV-2030-{100 + n:04d}" for n in range(51, 64)]


def test_the_filters_survive_paging(context: WebContext) -> None:
    dpo = at_now(context)
    for n in range(1, 56):
        insert_case(context, 200 + n, language="nl")
    insert_case(context, 300, language="fr")
    first = dpo.get("/cases?language=nl").text
    assert "(55 cases)" in first
    next_link = re.search(r'href="(/cases\?[^"]+)" rel="next"', first)
    assert next_link is not None and "language=nl" in next_link.group(1)
    second = dpo.get(next_link.group(1).replace("&amp;", "&")).text
    assert len(listed(second)) == 5 and "JAIMY-PRIV-2030-0300" not in second
