"""Re-queuing failed replies (mailbot.actions.outbox): audited under the person's name,
refused with a reason for what is not failed, and never for a closed case."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot.actions import NotFound, Refused
from mailbot.actions.outbox import outbox_rows, requeue_failed
from mailbot.cases.models import Case, CaseEvent, CaseStatus, OutboundMessage, OutboundStatus
from mailbot.database import migrate, open_engine
from mailbot.sealing import load_sealer
from mailbot.store.models import bind_sealer
from tests.conftest import TEST_DATA_KEY

NOW = datetime(2026, 3, 9, 9, tzinfo=UTC)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = open_engine(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    migrate(engine)
    bind_sealer(engine, load_sealer(TEST_DATA_KEY, None))  # letters are sealed
    with Session(engine) as session:
        yield session


def _reply(session: Session, n: int, status: str, case_status: str = CaseStatus.NEW) -> int:
    case = Case(
        reference=f"JAIMY-PRIV-2026-{n:04d}",
        requester=f"p{n}@example.org",
        language="en",
        detected_language="en",
        primary="access",
        labels="access",
        confidence=0.9,
        received_at=NOW,
        receipt_date=date(2026, 3, 9),
        legal_due=date(2026, 4, 9),
        target_due=date(2026, 4, 6),
        extended_due=date(2026, 6, 9),
        rule_version="test",
        status=case_status,
    )
    session.add(case)
    session.flush()
    assert case.id is not None
    reply = OutboundMessage(
        case_id=case.id,
        kind="acknowledgement",
        template="acknowledgement",
        language="en",
        status=status,
        to_address=case.requester,
        subject="Re: my data",
        body="Received.\n",
        message_id=f"<{n}@mailbot.jaimy.be>",
        attempts=8,
        last_error="recipient refused ([550])",
    )
    session.add(reply)
    session.flush()
    assert reply.id is not None
    return reply.id


def test_requeue_all_names_the_person_and_spares_closed_cases(session: Session) -> None:
    open_one = _reply(session, 1, OutboundStatus.FAILED)
    closed = _reply(session, 2, OutboundStatus.FAILED, CaseStatus.CLOSED)
    done = requeue_failed(session, "Dana DPO", NOW)
    assert done.summary == "1 failed repl(ies) queued again; 1 of closed cases stay failed"
    again = session.get_one(OutboundMessage, open_one)
    assert (again.status, again.attempts, again.next_attempt_at) == ("queued", 0, NOW)
    assert session.get_one(OutboundMessage, closed).status == "failed"
    (event,) = session.exec(select(CaseEvent).where(CaseEvent.kind == "reply_requeued")).all()
    assert event.actor == "Dana DPO" and event.case_id == again.case_id
    rows = outbox_rows(session)
    assert [(row.status, row.stays_failed) for row in rows] == [
        ("failed", "its case is closed"),  # listed with why, so nobody tries in vain
        ("queued", None),
    ]
    assert requeue_failed(session, "Dana DPO", NOW).summary.startswith("0 failed")


def test_requeue_one_refuses_what_is_not_failed(session: Session) -> None:
    queued = _reply(session, 1, OutboundStatus.QUEUED)
    closed = _reply(session, 2, OutboundStatus.FAILED, CaseStatus.CLOSED)
    with pytest.raises(Refused, match="only a failed reply"):
        requeue_failed(session, "Dana DPO", NOW, queued)
    with pytest.raises(Refused, match="stays failed: its case is closed"):
        requeue_failed(session, "Dana DPO", NOW, closed)
    with pytest.raises(NotFound):
        requeue_failed(session, "Dana DPO", NOW, 999)
    with pytest.raises(Refused, match="who acts"):
        requeue_failed(session, "  ", NOW, closed)
    assert session.get_one(OutboundMessage, closed).status == "failed"
