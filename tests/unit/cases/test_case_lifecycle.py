"""The state machine's rules (LEGAL.md §1.5, §1.7, §2.5), the clock's scheduled work,
the DPO's approval checks, ID-copy redaction and retention, on a real SQLite database."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from mailbot.cases.lifecycle import (
    IllegalTransition,
    close,
    current_due,
    extend,
    record_identity_check,
    request_identity,
)
from mailbot.cases.models import (
    Case,
    CaseEvent,
    CaseOutcome,
    CaseStatus,
    OutboundMessage,
    OutboundStatus,
)
from mailbot.cases.retention import purge_case, purge_due
from mailbot.database import migrate, open_engine, transaction
from mailbot.mail.parse import parse_mail
from mailbot.mail.redact import cut_attachments
from mailbot.replies.approval import ApprovalRefused, approval_problems, approve, edit, reject
from mailbot.replies.outcomes import after_sent
from mailbot.schedule import Timing, due_work
from mailbot.sealing import load_sealer
from mailbot.store.models import InboundMessage, bind_sealer
from mailbot.store.sealed import sealing_context, stored_raw
from tests.casefactory import new_case
from tests.conftest import TEST_DATA_KEY

SEALER = load_sealer(TEST_DATA_KEY, None)
# Thursday 5 March 2026, 10:00 in Brussels.
RECEIVED = datetime(2026, 3, 5, 9, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = open_engine(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    migrate(engine)
    bind_sealer(engine, load_sealer(TEST_DATA_KEY, None))  # names and letters are sealed
    return engine


def _case(session: Session, **changes: object) -> Case:
    # Due 7 April 2026: 5 April is Easter Sunday, 6 April Easter Monday.
    case = new_case(RECEIVED, **{"requester": "a@example.org", **changes})
    session.add(case)
    session.flush()
    return case


def _kinds(session: Session) -> list[str]:
    return list(session.exec(select(CaseEvent.kind)).all())


def _ask(session: Session, case: Case, reason: str, at: datetime, allowed: bool = True) -> None:
    """The ID request drafted and, at the same moment, sent (outcomes.after_sent)."""
    request_identity(session, case, reason, at, allowed)
    after_sent(session, case, _draft(session, case, "id_request", "Your ID, please.\n"), at)


def test_a_timely_id_request_pauses_the_clock_by_the_days_waited(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session)
        _ask(session, case, "unknown_address", RECEIVED + timedelta(hours=2))
        assert case.status == CaseStatus.AWAITING_IDENTITY and case.clock_paused
        record_identity_check(
            session, case, True, "id-copy:eid_front", "bot", RECEIVED + timedelta(days=6)
        )
        # 5 April + 6 days waited = 11 April, a Saturday: rolled to Monday 13 April.
        assert case.legal_due == date(2026, 4, 13) and not case.clock_paused
        # The extension (5 June + 6 days = 11 June) and the target move by the same days.
        assert case.extended_due == date(2026, 6, 11)
        assert case.target_due == date(2026, 4, 8)
        assert case.status == CaseStatus.IN_PROGRESS
        assert _kinds(session)[-2:] == ["identity_checked", "status_changed"]


def test_the_clock_pauses_only_when_the_id_request_has_left(engine: Engine) -> None:
    """Issue 11, defect 3: the clock paused when the request was drafted, and stayed
    paused for a request nobody received (every reply failing on a wrong password)."""
    with transaction(engine) as session:
        case = _case(session)
        request_identity(session, case, "unknown_address", RECEIVED + timedelta(hours=2), True)
        assert case.status == CaseStatus.AWAITING_IDENTITY
        assert not case.clock_paused and case.id_requested_at is None
        # Nothing asked yet: no reminder, no closing as not identified.
        assert "id_reminder" not in due_work(
            case, RECEIVED + timedelta(days=8), TIMING, frozenset()
        )
        # The acknowledgement carrying the request leaves the next (working) day: in time.
        ack = _draft(session, case, "acknowledgement", "Received; your ID, please.\n")
        left = RECEIVED + timedelta(days=1)
        after_sent(session, case, ack, left)
        assert case.clock_paused and case.id_requested_at == left
        assert _kinds(session)[-1] == "identity_request_sent"
        # A second request (the back of a card came alone) moves nothing.
        after_sent(
            session,
            case,
            _draft(session, case, "id_request", "The front.\n"),
            left + timedelta(days=3),
        )
        assert case.id_requested_at == left


def test_an_id_request_that_leaves_late_does_not_pause_the_clock(engine: Engine) -> None:
    """Drafted in time, sent on Monday 9 March (receipt Thursday 5): measured on the day
    it left, it was not asked within a working day (LEGAL.md §1.7)."""
    with transaction(engine) as session:
        case = _case(session)
        request_identity(session, case, "unknown_address", RECEIVED + timedelta(hours=2), True)
        after_sent(
            session,
            case,
            _draft(session, case, "id_request", "Your ID.\n"),
            RECEIVED + timedelta(days=4),
        )
        assert not case.clock_paused and case.id_requested_at == RECEIVED + timedelta(days=4)


def test_a_late_id_request_does_not_pause_the_clock(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session)
        _ask(session, case, "unknown_address", RECEIVED + timedelta(days=5))
        assert not case.clock_paused
        record_identity_check(
            session, case, True, "dpo-review", "Dana", RECEIVED + timedelta(days=9)
        )
        assert case.legal_due == date(2026, 4, 7)


def test_the_charters_always_policy_never_pauses_the_clock(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session)
        _ask(session, case, "policy_always", RECEIVED, allowed=False)
        assert not case.clock_paused
        record_identity_check(
            session, case, True, "id-copy:eid_front", "bot", RECEIVED + timedelta(days=9)
        )
        assert case.legal_due == date(2026, 4, 7)


def test_an_id_request_needs_a_doubt_reason_and_a_check_happens_once(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session)
        with pytest.raises(IllegalTransition):
            request_identity(session, case, "", RECEIVED, True)
        record_identity_check(session, case, False, "dpo-review", "Dana", RECEIVED)
        with pytest.raises(IllegalTransition):
            record_identity_check(session, case, True, "dpo-review", "Dana", RECEIVED)


def test_extension_needs_a_reason_and_time_left(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session)
        with pytest.raises(IllegalTransition, match="reason"):
            extend(session, case, "  ", date(2026, 3, 20), "Dana")
        with pytest.raises(IllegalTransition, match="passed"):
            extend(session, case, "complex request", date(2026, 4, 8), "Dana")
        extend(session, case, "complex request", date(2026, 4, 7), "Dana")
        assert current_due(case) == date(2026, 6, 5)
        with pytest.raises(IllegalTransition, match="already"):
            extend(session, case, "again", date(2026, 4, 7), "Dana")


def test_a_closed_case_changes_no_more(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session)
        close(session, case, CaseOutcome.REFUSED, "Dana", RECEIVED)
        assert (case.status, case.outcome) == (CaseStatus.CLOSED, "refused")
        with pytest.raises(IllegalTransition):
            extend(session, case, "complex", date(2026, 3, 20), "Dana")
        with pytest.raises(IllegalTransition):
            request_identity(session, case, "unknown_address", RECEIVED, True)


TIMING = Timing(id_reminder_days=7, id_close_days=21, dpo_warning_days=5)


@pytest.mark.parametrize(
    ("days", "expected"),
    [(3, []), (7, ["id_reminder"]), (21, ["id_reminder", "not_identified", "dpo_warning"])],
)
def test_the_clock_brings_a_reminder_then_closure(
    engine: Engine, days: int, expected: list[str]
) -> None:
    with transaction(engine) as session:
        case = _case(session)
        _ask(session, case, "unknown_address", RECEIVED)
        case.legal_due = date(2026, 3, 31)  # the DPO warning window opens on day 21
        assert due_work(case, RECEIVED + timedelta(days=days), TIMING, frozenset()) == expected
        case.id_reminded_at = RECEIVED + timedelta(days=7)
        later = due_work(case, RECEIVED + timedelta(days=30), TIMING, frozenset({"not_identified"}))
        assert later == ["dpo_warning"]


def test_the_dpo_is_warned_once_before_the_deadline(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session, status=CaseStatus.IN_PROGRESS)
        assert due_work(case, datetime(2026, 4, 1, 8, tzinfo=UTC), TIMING, frozenset()) == []
        assert due_work(case, datetime(2026, 4, 2, 8, tzinfo=UTC), TIMING, frozenset()) == [
            "dpo_warning"
        ]
        case.dpo_warned_at = datetime(2026, 4, 2, 8, tzinfo=UTC)
        assert due_work(case, datetime(2026, 4, 3, 8, tzinfo=UTC), TIMING, frozenset()) == []


def _draft(
    session: Session, case: Case, kind: str, body: str, language: str = "en"
) -> OutboundMessage:
    assert case.id is not None
    draft = OutboundMessage(
        case_id=case.id,
        kind=kind,
        template=kind,
        language=language,
        status=OutboundStatus.AWAITING_APPROVAL,
        to_address=case.requester,
        subject="s",
        body=body,
        message_id=f"<{kind}-{hashlib.sha256(body.encode()).hexdigest()[:8]}@example.test>",
    )
    session.add(draft)
    session.flush()
    return draft


REMEDIES = (
    "You can lodge a complaint with the Data Protection Authority (GBA/APD), Rue de la Presse"
    " 35 / Drukpersstraat 35, 1000 Brussels, or go to court.\n"
)


def test_a_refusal_without_remedies_or_with_fill_ins_is_not_approved(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session, status=CaseStatus.AWAITING_APPROVAL)
        bare = _draft(session, case, "refusal", "We refuse because [[ reasons ]].\n")
        assert len(approval_problems(bare, case)) == 3
        with pytest.raises(ApprovalRefused, match="judicial remedy"):
            approve(session, bare, "Dana", date(2026, 3, 20))
        assert edit(session, bare, "We refuse: manifestly excessive.\n" + REMEDIES, "Dana")
        approve(session, bare, "Dana", date(2026, 3, 20))
        assert (bare.status, bare.approved_by) == (OutboundStatus.QUEUED, "Dana")
        with pytest.raises(ApprovalRefused, match="not awaiting approval"):
            reject(session, bare, "Dana", "too late")
        assert _kinds(session)[-2:] == ["reply_edited", "reply_approved"]


def test_an_extension_counts_once_its_notice_is_sent_within_the_month(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session, status=CaseStatus.AWAITING_APPROVAL, extension_reason="complex")
        notice = _draft(session, case, "extension_notice", "We need until 5 June.\n")
        approve(session, notice, "Dana", date(2026, 3, 30))
        assert case.extension_notified_on is None  # approved is not yet told
        after_sent(session, case, notice, datetime(2026, 3, 31, 8, tzinfo=UTC))
        assert case.extension_notified_on == date(2026, 3, 31)
        assert current_due(case) == date(2026, 6, 5)
        with pytest.raises(ApprovalRefused, match="too late"):
            late = _draft(session, case, "extension_notice", "Again.\n")
            approve(session, late, "Dana", date(2026, 4, 8))


def test_a_notice_that_leaves_after_the_deadline_extends_nothing(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session, status=CaseStatus.AWAITING_APPROVAL, extension_reason="complex")
        notice = _draft(session, case, "extension_notice", "We need until 5 June.\n")
        approve(session, notice, "Dana", date(2026, 4, 7))
        after_sent(session, case, notice, datetime(2026, 4, 8, 6, tzinfo=UTC))  # SMTP retries
        assert case.extension_notified_on is None and current_due(case) == date(2026, 4, 7)
        # Nothing else waits for approval: the case is back in progress.
        assert _kinds(session)[-2:] == ["extension_notice_late", "status_changed"]
        assert case.status == CaseStatus.IN_PROGRESS


def test_a_second_notice_of_an_extended_case_is_not_a_late_one(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session, status=CaseStatus.AWAITING_APPROVAL, extension_reason="complex")
        first = _draft(session, case, "extension_notice", "We need until 5 June.\n")
        approve(session, first, "Dana", date(2026, 3, 20))
        after_sent(session, case, first, datetime(2026, 3, 20, 9, tzinfo=UTC))
        again = _draft(session, case, "extension_notice", "As said: 5 June.\n")
        approve(session, again, "Dana", date(2026, 3, 25))
        after_sent(session, case, again, datetime(2026, 3, 25, 9, tzinfo=UTC))
        assert case.extension_notified_on == date(2026, 3, 20)
        assert _kinds(session)[-1] == "extension_notice_repeated"


def test_an_extension_told_during_a_pause_keeps_the_date_it_told(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session, extension_reason="complex")
        _ask(session, case, "unknown_address", RECEIVED + timedelta(hours=2))
        extend(session, case, "complex", date(2026, 3, 10), "Dana")  # told: 5 June
        record_identity_check(
            session, case, True, "id-copy:eid_front", "bot", RECEIVED + timedelta(days=6)
        )
        assert case.extended_due == date(2026, 6, 5) and current_due(case) == date(2026, 6, 5)


def test_sending_the_answer_closes_the_case_and_retires_other_drafts(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session, status=CaseStatus.AWAITING_APPROVAL)
        answer = _draft(session, case, "access_answer", "Your data.\n" + REMEDIES)
        stale = _draft(session, case, "not_identified", "We could not.\n" + REMEDIES)
        approve(session, answer, "Dana", date(2026, 3, 20))
        after_sent(session, case, answer, datetime(2026, 3, 20, 9, tzinfo=UTC))
        assert (case.status, case.outcome) == (CaseStatus.CLOSED, "answered")
        assert stale.status == OutboundStatus.REJECTED
        with pytest.raises(ApprovalRefused):
            approve(session, stale, "Dana", date(2026, 3, 20))


def test_a_refusal_approved_after_the_first_month_goes_out_and_is_marked_late(
    engine: Engine,
) -> None:
    with transaction(engine) as session:
        case = _case(session, status=CaseStatus.AWAITING_APPROVAL)
        on_time = _draft(session, case, "refusal", "Manifestly excessive.\n" + REMEDIES)
        approve(session, on_time, "Dana", date(2026, 4, 7))  # 5 March + 1 month, rolled
        assert "refusal_after_one_month" not in _kinds(session)
        late = _draft(session, case, "refusal", "Excessive, again.\n" + REMEDIES)
        approve(session, late, "Dana", date(2026, 4, 8))
        assert late.status == OutboundStatus.QUEUED
        assert _kinds(session)[-2:] == ["refusal_after_one_month", "reply_approved"]


def test_rejecting_the_only_draft_reopens_the_case(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session, status=CaseStatus.AWAITING_APPROVAL)
        answer = _draft(session, case, "access_answer", "Your data.\n" + REMEDIES)
        reject(session, answer, "Dana", "incomplete")
        assert answer.status == OutboundStatus.REJECTED and case.status == CaseStatus.IN_PROGRESS


def _mail_with_card(card: bytes) -> bytes:
    message = EmailMessage()
    message["From"] = "a@example.org"
    message["Subject"] = "my ID"
    message.set_content("Here is the front of my card.")
    message.add_attachment(card, maintype="image", subtype="jpeg", filename="card.jpg")
    message.add_attachment(
        b"%PDF-1.4 quote", maintype="application", subtype="pdf", filename="q.pdf"
    )
    return message.as_bytes()


def test_cutting_an_id_copy_keeps_the_request_and_the_other_attachments() -> None:
    card = b"\xff\xd8\xff\xe0" + b"card pixels" * 100
    raw = _mail_with_card(card)
    cut, count = cut_attachments(raw, frozenset({hashlib.sha256(card).hexdigest()}), "deleted")
    assert count == 1 and b"card pixels" not in cut
    mail = parse_mail(cut)
    assert "front of my card" in mail.text and "deleted" in mail.text
    assert [a.filename for a in mail.attachments] == ["q.pdf"]
    assert cut_attachments(raw, frozenset({"0" * 64}), "deleted") == (raw, 0)


def test_retention_erases_personal_data_and_keeps_the_facts(engine: Engine) -> None:
    with transaction(engine) as session:
        case = _case(session)
        raw = _mail_with_card(b"\xff\xd8\xff" + b"x" * 50)
        inbound = InboundMessage(
            source="test",
            message_key="sha256:1",
            raw=SEALER.seal(raw, sealing_context("sha256:1")),
            size=len(raw),
            sha256="1",
            received_at=RECEIVED,
            sender=case.requester,
            case_id=case.id,
            source_ref="1733.M1",
        )
        session.add(inbound)
        close(session, case, CaseOutcome.ANSWERED, "bot", RECEIVED)
        assert not purge_due(case, RECEIVED + timedelta(days=364), 365)
        assert purge_due(case, RECEIVED + timedelta(days=365), 365)
        purge_case(session, case, SEALER, RECEIVED + timedelta(days=365))
        assert stored_raw(inbound, SEALER) == b"" and inbound.sender is None
        assert inbound.remove_from_source
        assert case.requester.endswith("@invalid") and case.receipt_date == date(2026, 3, 5)
        assert not purge_due(case, RECEIVED + timedelta(days=400), 365)
