"""The round's scheduled work reads only the open cases that may have work due: the
selection in SQL must hold every case `due_work` would find work in (else a reminder,
a closure or a DPO warning is silently never done), and leave out the quiet ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import select

from mailbot.cases.deadlines import receipt_date
from mailbot.cases.models import Case, CaseStatus
from mailbot.database import migrate, open_engine, transaction
from mailbot.handling.id_copies import keeps_id_copies
from mailbot.schedule import Timing, done_with_id_copies, due_work, may_be_due
from mailbot.sealing import load_sealer
from mailbot.store.models import bind_sealer
from tests.casefactory import new_case
from tests.conftest import TEST_DATA_KEY

TIMING = Timing(id_reminder_days=7, id_close_days=21, dpo_warning_days=5)
RECEIVED = datetime(2026, 3, 5, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    path: Path = tmp_path_factory.mktemp("scheduled") / "cases.sqlite3"
    engine = open_engine(f"sqlite:///{path}")
    migrate(engine)
    bind_sealer(engine, load_sealer(TEST_DATA_KEY, None))
    return engine


cases = st.fixed_dictionaries(
    {
        "status": st.sampled_from(list(CaseStatus)),
        # Days from today (in Brussels) to the deadlines: around the warning's edge.
        "legal_in": st.integers(-3, 10),
        "extended_in": st.integers(-3, 10),
        "extension_notified": st.booleans(),
        "asked_days_ago": st.none() | st.integers(5, 23),  # the reminder's and closure's edges
        "reminded": st.booleans(),
        "id_received": st.booleans(),
        # The DPO rejected the closure to wait longer (the closure's edge again).
        "renewed_days_ago": st.none() | st.integers(18, 23),
        "identity_verified": st.sampled_from([None, None, True, False]),
        "warned_days_ago": st.none() | st.integers(0, 40),
    }
)


def _case(number: int, now: datetime, fields: dict[str, object]) -> Case:
    def days(name: str) -> int:
        value = fields[name]
        assert isinstance(value, int)
        return value

    asked = fields["asked_days_ago"]
    warned = fields["warned_days_ago"]
    # Only a closure drafted after the request can be rejected.
    renewed = None if asked is None else fields["renewed_days_ago"]
    if renewed is not None:
        renewed = min(int(str(renewed)), int(str(asked)))
    return new_case(
        RECEIVED,
        number,
        status=fields["status"],
        legal_due=receipt_date(now) + timedelta(days=days("legal_in")),
        extended_due=receipt_date(now) + timedelta(days=days("extended_in")),
        extension_notified_on=date(2026, 3, 10) if fields["extension_notified"] else None,
        id_requested_at=None if asked is None else now - timedelta(days=int(str(asked))),
        id_reminded_at=now if fields["reminded"] else None,
        id_received_at=now if fields["id_received"] else None,
        id_wait_renewed_at=None if renewed is None else now - timedelta(days=int(str(renewed))),
        identity_verified=fields["identity_verified"],
        doubt_reason="unknown_address",
        dpo_warned_at=None if warned is None else now - timedelta(days=int(str(warned))),
    )


# Late in the evening (UTC) the Brussels date is the next one: drawn often.
moments = st.sampled_from([22 * 60 + 30, 23 * 60 + 30]) | st.integers(0, 60 * 24 * 60)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(cases, min_size=1, max_size=12), moments)
def test_every_case_with_work_due_is_selected(
    engine: Engine, drawn: list[dict[str, object]], minutes_on: int
) -> None:
    now = datetime(2026, 3, 5, tzinfo=UTC) + timedelta(minutes=minutes_on)
    with transaction(engine) as session:
        for case in session.exec(select(Case)).all():
            session.delete(case)
    with transaction(engine) as session:
        made = [_case(number, now, fields) for number, fields in enumerate(drawn, 1)]
        session.add_all(made)
        session.flush()
        selected = set(session.exec(select(Case.id).where(may_be_due(now, TIMING))).all())
        for case in made:
            if due_work(case, now, TIMING, frozenset()):
                assert case.id in selected, (case.status, case.legal_due, now)


def test_a_case_far_from_its_deadlines_and_waiting_for_nothing_is_not_read(
    engine: Engine,
) -> None:
    now = RECEIVED + timedelta(days=2)
    with transaction(engine) as session:
        for case in session.exec(select(Case)).all():
            session.delete(case)
    with transaction(engine) as session:
        quiet = new_case(RECEIVED, 1, status=CaseStatus.IN_PROGRESS)
        near = new_case(RECEIVED, 2, status=CaseStatus.IN_PROGRESS, legal_due=date(2026, 3, 10))
        asked = new_case(
            RECEIVED,
            3,
            status=CaseStatus.AWAITING_IDENTITY,
            id_requested_at=now - timedelta(days=8),
            doubt_reason="unknown_address",
        )
        # The DPO rejected the closure to wait longer: read again once that wait is over.
        waited, waiting = (
            new_case(
                RECEIVED,
                number,
                status=CaseStatus.IN_PROGRESS,
                id_requested_at=now - timedelta(days=40),
                id_wait_renewed_at=now - timedelta(days=renewed),
                doubt_reason="unknown_address",
            )
            for number, renewed in ((4, 22), (5, 10))
        )
        session.add_all([quiet, near, asked, waited, waiting])
        session.flush()
        selected = set(session.exec(select(Case.id).where(may_be_due(now, TIMING))).all())
        assert selected == {near.id, asked.id, waited.id}


holders = st.fixed_dictionaries(
    {
        "status": st.sampled_from(list(CaseStatus)),
        "needs_triage": st.booleans(),
        "identity_verified": st.sampled_from([None, True, False]),
        "in_review": st.booleans(),
    }
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(holders, min_size=1, max_size=12))
def test_the_cases_whose_id_copies_go_are_exactly_those_the_rule_lets_go(
    engine: Engine, drawn: list[dict[str, object]]
) -> None:
    # Not one more or fewer: a copy the rule lets go but left out is never deleted; a case
    # read needlessly costs a transaction at every round.
    with transaction(engine) as session:
        for case in session.exec(select(Case)).all():
            session.delete(case)
    with transaction(engine) as session:
        made = [
            new_case(
                RECEIVED,
                number,
                status=fields["status"],
                needs_triage=fields["needs_triage"],
                identity_verified=fields["identity_verified"],
                id_copy_in_review=fields["in_review"],
            )
            for number, fields in enumerate(drawn, 1)
        ]
        session.add_all(made)
        session.flush()
        selected = set(session.exec(select(Case.id).where(done_with_id_copies())).all())
        assert selected == {case.id for case in made if not keeps_id_copies(case)}
