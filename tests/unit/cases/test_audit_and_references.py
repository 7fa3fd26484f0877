"""The audit chain detects tampering; references count up per year."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from mailbot.cases.audit import append_event, verify_chain
from mailbot.cases.lifecycle import IllegalTransition, transition
from mailbot.cases.models import Case, CaseEvent, CaseStatus
from mailbot.cases.reference import next_reference
from mailbot.database import migrate, open_engine, transaction
from mailbot.triage.thread import reference_pattern


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = open_engine(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    migrate(engine)
    return engine


def _case(reference: str) -> Case:
    day = date(2026, 3, 5)
    return Case(
        reference=reference,
        requester="a@example.org",
        language="en",
        detected_language="en",
        primary="access",
        labels="access",
        confidence=0.9,
        received_at=datetime(2026, 3, 5, 10, tzinfo=UTC),
        receipt_date=day,
        legal_due=date(2026, 4, 7),
        target_due=date(2026, 4, 2),
        extended_due=date(2026, 6, 5),
        rule_version="test",
    )


def test_references_count_up_within_a_year_and_restart_the_next(engine: Engine) -> None:
    with transaction(engine) as session:
        assert next_reference(session, "JAIMY-PRIV", 2026) == "JAIMY-PRIV-2026-0001"
        session.add(_case("JAIMY-PRIV-2026-0001"))
        session.add(_case("JAIMY-PRIV-2026-0002"))
        session.flush()
        assert next_reference(session, "JAIMY-PRIV", 2026) == "JAIMY-PRIV-2026-0003"
        assert next_reference(session, "JAIMY-PRIV", 2027) == "JAIMY-PRIV-2027-0001"
        session.add(_case("JAIMY-PRIV-2026-9999"))
        session.add(_case("JAIMY-PRIV-2026-10000"))
        session.flush()
        assert next_reference(session, "JAIMY-PRIV", 2026) == "JAIMY-PRIV-2026-10001"


def test_reference_found_in_a_subject() -> None:
    found = reference_pattern("JAIMY-PRIV").search("Re: Uw verzoek [jaimy-priv-2026-0042]")
    assert found is not None and found.group(0).upper() == "JAIMY-PRIV-2026-0042"


def test_chain_verifies_and_detects_an_edited_event(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case("JAIMY-PRIV-2026-0001")
        session.add(case)
        session.flush()
        assert case.id is not None
        for n in range(5):
            append_event(session, case.id, "note", "dpo@example.test", {"n": n})
    with transaction(engine) as session:
        events = session.exec(select(CaseEvent).order_by(col(CaseEvent.id))).all()
        assert verify_chain(events) is None
        events[2].data = '{"n": 99}'
        assert verify_chain(events) == events[2].id


def test_chain_detects_a_deleted_event(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case("JAIMY-PRIV-2026-0001")
        session.add(case)
        session.flush()
        assert case.id is not None
        for n in range(3):
            append_event(session, case.id, "note", "bot", {"n": n})
    with transaction(engine) as session:
        events = list(session.exec(select(CaseEvent).order_by(col(CaseEvent.id))).all())
        del events[1]
        assert verify_chain(events) == events[1].id


def test_transitions_are_checked_and_audited(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case("JAIMY-PRIV-2026-0001")
        session.add(case)
        session.flush()
        transition(session, case, CaseStatus.IN_PROGRESS, "bot", "acknowledged")
        with pytest.raises(IllegalTransition):
            transition(session, case, CaseStatus.NEW, "bot")
        kinds = session.exec(select(CaseEvent.kind)).all()
        assert list(kinds) == ["status_changed"]
        assert case.status == CaseStatus.IN_PROGRESS
