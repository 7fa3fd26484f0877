"""The figures summed by the database (mailbot.figures, mailbot.figure_tables) equal
`mailbot report`'s reference (mailbot.metrics.sla_figures) on the same cases, built
through the bot's own lifecycle and outbox functions so the recorded facts are real."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from mailbot.cases.lifecycle import close, record_identity_check, request_identity
from mailbot.cases.models import Case, CaseOutcome, OutboundMessage, OutboundStatus, Suppression
from mailbot.database import migrate, open_engine, transaction
from mailbot.figure_tables import extensions, period_figures, refusals
from mailbot.figures import dashboard, days_left_bands
from mailbot.metrics import sla_figures
from mailbot.replies.outcomes import after_sent
from mailbot.reports import load_facts
from mailbot.sealing import load_sealer
from mailbot.store.models import Attachment, InboundMessage, bind_sealer
from tests.casefactory import new_case
from tests.conftest import TEST_DATA_KEY

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
REMEDIES = (
    "We cannot grant your request. You may lodge a complaint with the GBA/APD, "
    "Rue de la Presse 35, 1000 Brussels, or bring the matter before a court."
)
_numbers = itertools.count(1)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = open_engine(f"sqlite:///{tmp_path / 'figures.sqlite3'}")
    migrate(engine)
    bind_sealer(engine, load_sealer(TEST_DATA_KEY, None))  # names and letters are sealed
    return engine


def opened(session: Session, received: datetime, **changes: object) -> Case:
    case = new_case(received, next(_numbers), **changes)
    session.add(case)
    session.flush()
    mail(session, case, received)
    return case


def mail(session: Session, case: Case, at: datetime, id_copy: bool = False) -> None:
    key = f"sha256:{case.id}-{at.timestamp()}"
    row = InboundMessage(
        source="test", message_key=key, raw=b"", size=0, sha256="0" * 64, received_at=at,
        case_id=case.id, disposition="case_opened",
    )  # fmt: skip
    session.add(row)
    session.flush()
    if id_copy:
        assert row.id is not None
        copy = Attachment(
            inbound_id=row.id, declared_type="image/png", sniffed_type="image/png", size=1,
            sha256="0" * 64, kind="eid_front",
        )  # fmt: skip
        session.add(copy)


def sent(session: Session, case: Case, kind: str, after: timedelta, body: str = "Dear") -> None:
    at = case.received_at + after
    reply = OutboundMessage(
        case_id=case.id or 0, kind=kind, template=kind, language="en",
        status=OutboundStatus.SENT, to_address=case.requester, subject="Re", body=body,
        message_id=f"<{case.id}-{kind}-{after.total_seconds()}@example.test>", sent_at=at,
    )  # fmt: skip
    session.add(reply)
    session.flush()
    after_sent(session, case, reply, at)


def closed(session: Session, case: Case, after: timedelta, outcome: str = "answered") -> None:
    close(session, case, CaseOutcome(outcome), "bot", case.received_at + after)


def realistic_cases(engine: Engine) -> None:
    day = timedelta(days=1)
    with transaction(engine) as session:
        on_time = opened(session, START)
        sent(session, on_time, "acknowledgement", timedelta(minutes=3))
        closed(session, on_time, 12 * day)

        late = opened(session, START + timedelta(hours=30))
        sent(session, late, "acknowledgement", timedelta(hours=5))
        closed(session, late, 40 * day)

        extended = opened(session, START + 2 * day, extension_reason="three accounts")
        sent(session, extended, "acknowledgement", timedelta(seconds=50))
        sent(session, extended, "extension_notice", 20 * day)
        closed(session, extended, 50 * day)

        refused = opened(session, START + 3 * day)
        sent(session, refused, "acknowledgement", timedelta(minutes=1))
        sent(session, refused, "refusal", 10 * day, REMEDIES)

        refused_late = opened(session, START + 7 * day, extension_reason="complex")
        sent(session, refused_late, "acknowledgement", timedelta(hours=30))
        sent(session, refused_late, "extension_notice", 5 * day)
        sent(session, refused_late, "refusal", 40 * day, "No.")

        paused = opened(session, START + 8 * day)
        sent(session, paused, "acknowledgement", timedelta(minutes=2))
        request_identity(session, paused, "unknown_address", paused.received_at, True)
        sent(session, paused, "id_request", timedelta(minutes=3))  # the clock pauses now
        mail(session, paused, paused.received_at + 9 * day, id_copy=True)
        checked_at = paused.received_at + 9 * day
        record_identity_check(session, paused, True, "eid copy", "dana", checked_at)
        closed(session, paused, 36 * day)  # in time only thanks to the pause

        waiting = opened(session, START + 9 * day)
        sent(session, waiting, "acknowledgement", timedelta(minutes=4))
        request_identity(session, waiting, "third_party", waiting.received_at, True)
        sent(session, waiting, "id_request", timedelta(minutes=5))

        opened(session, START + 10 * day)  # never acknowledged, open and overdue
        notice_too_late = opened(session, START + 11 * day, extension_reason="too late")
        sent(session, notice_too_late, "acknowledgement", timedelta(minutes=5))
        sent(session, notice_too_late, "extension_notice", 40 * day)

        objection = opened(
            session, START + 14 * day, primary="objection", labels="objection", status="in_progress"
        )
        mail(session, objection, objection.received_at + 2 * day)
        suppressed = Suppression(
            address=objection.requester, reason="objection", case_id=objection.id,
            created_at=objection.received_at + timedelta(days=2, minutes=6),
        )  # fmt: skip
        session.add(suppressed)
        sent(session, objection, "objection_done", timedelta(days=2, minutes=7))

        redirected = opened(session, START + 15 * day)
        sent(session, redirected, "redirect", timedelta(minutes=1))
        closed(session, redirected, 1 * day, "not_a_request")

        purged = opened(session, START + 16 * day, extension_reason="purged")
        sent(session, purged, "acknowledgement", timedelta(minutes=1))
        sent(session, purged, "extension_notice", 3 * day)
        closed(session, purged, 45 * day)
        purged.purged_at = NOW

        answered = opened(session, START + 60 * day)  # recent: open, days left
        sent(session, answered, "acknowledgement", timedelta(minutes=9))


def test_the_database_sums_equal_the_reference_figures(engine: Engine) -> None:
    realistic_cases(engine)
    first, last = date(2026, 3, 1), date(2026, 5, 31)
    facts, copies = load_facts(engine, first, last)
    reference = sla_figures(facts, copies, NOW, first, last).as_json()
    summed = period_figures(engine, first, last, NOW).as_json()
    assert summed == reference
    # The cases above make every figure count something.
    assert reference["closed_by_legal_deadline"]["count"] not in (0, reference["closed"])
    assert reference["extensions_notified_in_first_month"] == {"count": 3, "of": 4, "percent": 75.0}
    assert reference["refusals_with_remedies"] == {"count": 1, "of": 2, "percent": 50.0}
    assert len(reference["open_overdue"]) == 2 and len(reference["not_acknowledged"]) == 1
    assert reference["id_copies_kept_after_check"] == 1
    assert reference["time_to_suppress"]["cases"] == 1


def test_a_shorter_period_counts_only_its_cases(engine: Engine) -> None:
    realistic_cases(engine)
    first, last = date(2026, 3, 4), date(2026, 3, 12)
    facts, copies = load_facts(engine, first, last)
    reference = sla_figures(facts, copies, NOW, first, last).as_json()
    assert period_figures(engine, first, last, NOW).as_json() == reference


def test_weeks_bands_and_tables_add_up(engine: Engine) -> None:
    realistic_cases(engine)
    first, last = date(2026, 3, 1), date(2026, 5, 31)
    board = dashboard(engine, first, last, NOW)
    weeks = board.weeks
    assert weeks[0].label == "2026-W10" and weeks[0].monday == date(2026, 3, 2)
    figures = period_figures(engine, first, last, NOW)
    assert sum(w.received for w in weeks) == figures.cases
    assert sum(w.on_time + w.after_extension for w in weeks) == (
        figures.closed_by_legal_deadline.count
    )
    closed_late = figures.closed - figures.closed_by_legal_deadline.count
    assert sum(w.late for w in weeks) == closed_late + len(figures.open_overdue)
    bands = dict(days_left_bands(board.open_now))
    assert board.open_now.overdue == 2
    assert bands["past the deadline"] == 2
    assert bands["clock stopped for an ID copy"] == 1
    assert sum(bands.values()) == figures.cases - figures.closed
    with transaction(engine) as session:
        rows = extensions(session, first, last)
        letters = refusals(session, first, last)
    assert [r.status for r in rows].count("notice after the deadline") == 1
    assert "(removed at retention)" in [r.reason for r in rows]
    assert sorted(r.remedies_included is True for r in letters) == [False, True]


def test_the_dashboard_and_its_tables_never_open_sealed_data(
    engine: Engine, tmp_path: Path
) -> None:
    """Defect 6 (issue 11): names and letters are sealed; the figures stay fast because
    they never open them: an engine without the data key serves all of them."""
    realistic_cases(engine)
    keyless = open_engine(f"sqlite:///{tmp_path / 'figures.sqlite3'}")
    first, last = date(2026, 3, 1), date(2026, 5, 31)
    assert dashboard(keyless, first, last, NOW).open_now.overdue == 2
    period_figures(keyless, first, last, NOW)
    with transaction(keyless) as session:
        assert extensions(session, first, last)
        assert refusals(session, first, last)
