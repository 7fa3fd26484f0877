"""The audit chain detects tampering; references count up per year."""

from __future__ import annotations

import threading
import time
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


@pytest.mark.parametrize("changes_the_case_first", [True, False])
def test_two_writers_at_once_do_not_fork_the_chain(
    engine: Engine, tmp_path: Path, changes_the_case_first: bool
) -> None:
    """The worker's transaction holds an event while a DPO's command appends its own: the
    command waits for the worker's commit and chains onto its event (SQLite)."""
    with transaction(engine) as session:
        case = _case("JAIMY-PRIV-2026-0001")
        session.add(case)
        session.flush()
        assert case.id is not None
        append_event(session, case.id, "case_opened", "bot")
        case_id = case.id
    worker = open_engine(f"sqlite:///{tmp_path / 'test.sqlite3'}")  # another process
    appended, dpo_started = threading.Event(), threading.Event()

    def worker_transaction() -> None:
        with transaction(worker) as session:
            append_event(session, case_id, "follow_up_received", "bot")
            appended.set()
            dpo_started.wait(5)
            time.sleep(0.5)  # the rest of the mail's work, the write lock held

    thread = threading.Thread(target=worker_transaction)
    thread.start()
    assert appended.wait(5)
    dpo_started.set()
    with transaction(engine) as session:
        if changes_the_case_first:
            session.get_one(Case, case_id).needs_triage = True
        append_event(session, case_id, "note", "dpo@example.test")
    thread.join()
    with transaction(engine) as session:
        events = session.exec(select(CaseEvent).order_by(col(CaseEvent.id))).all()
        assert [event.kind for event in events] == ["case_opened", "follow_up_received", "note"]
        assert verify_chain(events) is None


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
