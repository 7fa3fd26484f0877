"""Each person's action refuses what the rules do not allow, with a reason the DPO can
act on, and changes nothing when it refuses (mailbot.actions; the CLI and the web app
both call these)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot.actions import NotFound, Refused, who
from mailbot.actions.cases import (
    decide_case,
    draft_extension,
    draft_refusal,
    suppress_marketing,
    verify_identity,
)
from mailbot.actions.drafts import approve_draft, edit_draft, reject_draft
from mailbot.actions.mails import dismiss_mail, retry_mail
from mailbot.cases.models import Case, CaseEvent, CaseStatus, OutboundMessage, Suppression
from mailbot.config import load_settings
from mailbot.database import migrate, open_engine
from mailbot.handling.record import Handling
from mailbot.sealing import load_sealer
from mailbot.store.models import Disposition, InboundMessage, bind_sealer
from tests.casefactory import new_case
from tests.conftest import TEST_DATA_KEY

NOW = datetime(2026, 3, 9, 9, tzinfo=UTC)
DPO = "Dana DPO"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = open_engine(f"sqlite:///{tmp_path / 'actions.sqlite3'}")
    migrate(engine)
    bind_sealer(engine, load_sealer(TEST_DATA_KEY, None))  # names and letters are sealed
    with Session(engine) as session:
        yield session


@pytest.fixture
def handling() -> Handling:
    settings = load_settings()
    return Handling.of(settings, settings.sealer())


def _case(session: Session, **changes: object) -> Case:
    anna = {"requester": "anna.peeters@example.org", "requester_name": "Anna Peeters"}
    case = new_case(datetime(2026, 3, 5, 9, tzinfo=UTC), **{**anna, **changes})
    session.add(case)
    session.flush()
    return case


def _events(session: Session) -> list[str]:
    return list(session.exec(select(CaseEvent.kind)).all())


def _drafts(session: Session) -> list[OutboundMessage]:
    return list(session.exec(select(OutboundMessage)).all())


def test_nobody_acts_anonymously(session: Session, handling: Handling) -> None:
    case = _case(session)
    with pytest.raises(Refused, match="who acts"):
        draft_refusal(session, case.reference, "manifestly unfounded", False, "  ", handling, NOW)
    with pytest.raises(Refused, match="who acts"):
        retry_mail(session, 1, "")
    assert _drafts(session) == [] and _events(session) == []


def test_unknown_case_draft_or_mail_is_not_found(session: Session, handling: Handling) -> None:
    with pytest.raises(NotFound, match="no case JAIMY-PRIV-2026-0999"):
        verify_identity(session, "JAIMY-PRIV-2026-0999", True, DPO, handling, NOW)
    with pytest.raises(NotFound, match="no draft 42"):
        approve_draft(session, 42, DPO, NOW)
    with pytest.raises(NotFound, match="no stored mail numbered 7"):
        dismiss_mail(session, 7, DPO, "spam", handling.sealer, NOW)


def test_a_closed_case_is_neither_extended_nor_refused(
    session: Session, handling: Handling
) -> None:
    case = _case(session, status=CaseStatus.CLOSED)
    with pytest.raises(Refused, match="is closed"):
        draft_extension(session, case.reference, "many systems", DPO, handling, NOW)
    with pytest.raises(Refused, match="is closed"):
        draft_refusal(session, case.reference, "excessive", False, DPO, handling, NOW)
    with pytest.raises(Refused, match="is closed"):
        verify_identity(session, case.reference, True, DPO, handling, NOW)
    assert _drafts(session) == []


def test_an_extension_needs_a_reason_and_happens_once(session: Session, handling: Handling) -> None:
    case = _case(session)
    with pytest.raises(Refused, match="written reason"):
        draft_extension(session, case.reference, " ", DPO, handling, NOW)
    done = draft_extension(session, case.reference, "Data in six systems", DPO, handling, NOW)
    (draft,) = _drafts(session)
    assert done.draft_id == draft.id and draft.kind == "extension_notice"
    assert draft.status == "awaiting_approval"  # LEGAL.md §4: the DPO approves it
    case.extension_notified_on = date(2026, 3, 10)
    with pytest.raises(Refused, match="extended already"):
        draft_extension(session, case.reference, "Still more systems", DPO, handling, NOW)


def test_a_refusal_gives_its_reasons(session: Session, handling: Handling) -> None:
    case = _case(session)
    with pytest.raises(Refused, match="reasons"):
        draft_refusal(session, case.reference, "", True, DPO, handling, NOW)
    assert _drafts(session) == []


def test_identity_is_checked_once(session: Session, handling: Handling) -> None:
    case = _case(session, status=CaseStatus.IN_PROGRESS, identity_verified=True)
    with pytest.raises(Refused, match="already checked"):
        verify_identity(session, case.reference, False, DPO, handling, NOW)
    assert _events(session) == []


def test_only_a_triaged_case_is_decided_and_only_with_known_rights(
    session: Session, handling: Handling
) -> None:
    case = _case(session)
    with pytest.raises(Refused, match="not waiting for triage"):
        decide_case(session, case.reference, ["erasure"], DPO, handling, NOW)
    case.needs_triage = True
    with pytest.raises(Refused, match="vocabulary"):
        decide_case(session, case.reference, ["forget-me"], DPO, handling, NOW)
    with pytest.raises(Refused, match="vocabulary"):
        decide_case(session, case.reference, [], DPO, handling, NOW)
    case.status = CaseStatus.AWAITING_APPROVAL
    with pytest.raises(Refused, match="approve or reject them first"):
        decide_case(session, case.reference, ["erasure"], DPO, handling, NOW)
    case.status = CaseStatus.CLOSED
    with pytest.raises(Refused, match="nothing to decide"):
        decide_case(session, case.reference, ["erasure"], DPO, handling, NOW)
    assert case.labels == "access" and _events(session) == []


def test_suppression_only_for_marketing_rights_and_names_the_dpo(
    session: Session, handling: Handling
) -> None:
    case = _case(session)
    with pytest.raises(Refused, match="objection or a consent withdrawal"):
        suppress_marketing(session, case.reference, "erasure", DPO, handling, NOW)
    suppress_marketing(session, case.reference, "objection", DPO, handling, NOW)
    (row,) = session.exec(select(Suppression)).all()
    assert row.address == "anna.peeters@example.org" and row.reason == "objection"
    event = session.exec(select(CaseEvent)).one()
    assert (event.kind, event.actor) == ("suppressed", DPO)


def test_a_draft_with_fill_ins_or_of_a_closed_case_is_not_approved(
    session: Session, handling: Handling
) -> None:
    case = _case(session)
    draft_refusal(session, case.reference, "Manifestly excessive", False, DPO, handling, NOW)
    (draft,) = _drafts(session)
    assert draft.id is not None
    edit_draft(session, draft.id, draft.body + "\n[[ the period we keep invoices ]]\n", DPO)
    with pytest.raises(Refused, match="fill in: the period we keep invoices"):
        approve_draft(session, draft.id, DPO, NOW)
    edit_draft(session, draft.id, draft.body.replace("[[ the period we keep invoices ]]", ""), DPO)
    case.status = CaseStatus.CLOSED
    with pytest.raises(Refused, match="is closed"):
        approve_draft(session, draft.id, DPO, NOW)
    assert draft.status == "awaiting_approval"


def test_a_decided_draft_is_not_decided_again(session: Session, handling: Handling) -> None:
    case = _case(session)
    done = draft_refusal(session, case.reference, "Manifestly excessive", False, DPO, handling, NOW)
    assert done.draft_id is not None
    reject_draft(session, done.draft_id, DPO, "wrong letter", NOW)
    for again in (
        lambda: approve_draft(session, done.draft_id or 0, DPO, NOW),
        lambda: reject_draft(session, done.draft_id or 0, DPO, "twice", NOW),
        lambda: edit_draft(session, done.draft_id or 0, "new text", DPO),
    ):
        with pytest.raises(Refused, match="is rejected, not awaiting approval"):
            again()


def _stored(session: Session, **changes: object) -> InboundMessage:
    inbound = InboundMessage(
        source="maildir:test",
        message_key="sha256:" + "0" * 64,
        raw=b"",
        size=0,
        sha256="0" * 64,
        received_at=NOW,
    )
    for name, value in changes.items():
        setattr(inbound, name, value)
    session.add(inbound)
    session.flush()
    return inbound


def test_only_a_quarantined_mail_stored_whole_is_retried(session: Session) -> None:
    handled = _stored(session, disposition=Disposition.CASE_OPENED)
    assert handled.id is not None
    with pytest.raises(Refused, match="only a quarantined mail"):
        retry_mail(session, handled.id, DPO)
    headers_only = _stored(
        session,
        message_key="sha256:" + "1" * 64,
        disposition=Disposition.QUARANTINED,
        flags="headers_only",
        reason="message too large",
    )
    assert headers_only.id is not None
    with pytest.raises(Refused, match="stored without its content"):
        retry_mail(session, headers_only.id, DPO)
    assert headers_only.disposition == Disposition.QUARANTINED


def test_a_dismissal_says_why(session: Session, handling: Handling) -> None:
    held = _stored(session, disposition=Disposition.QUARANTINED, reason="malformed")
    assert held.id is not None
    with pytest.raises(Refused, match="needs a reason"):
        dismiss_mail(session, held.id, DPO, " ", handling.sealer, NOW)
    assert held.erased_at is None
    dismiss_mail(session, held.id, DPO, "newsletter", handling.sealer, NOW)
    assert held.disposition == Disposition.DISMISSED and held.erased_at == NOW
    assert held.reason is not None and "dismissed by Dana DPO" in held.reason


@pytest.mark.parametrize(
    "actor",
    ["", "   ", "Dana\nDPO", "Dana DPO\n2026-03-09 09:00  identity_checked  Eve", "Dana\rDPO",
     "Dana\x1b]0;x\x07", "Dana\tDPO", "Dana\u202eOPD", "Dana\x00"],
)  # fmt: skip
def test_an_actor_name_is_one_printable_line(actor: str) -> None:
    with pytest.raises(Refused, match=r"who acts|one line of printable"):
        who(actor)


def test_a_printable_actor_name_is_kept_trimmed() -> None:
    assert who("  Dana Dupré-O'Neill ") == "Dana Dupré-O'Neill"


def test_a_forged_actor_line_changes_nothing(session: Session, handling: Handling) -> None:
    case = _case(session)
    forged = "Dana\n  2026-03-09 09:00  identity_checked       Eve"
    with pytest.raises(Refused):
        draft_refusal(session, case.reference, "manifestly unfounded", False, forged, handling, NOW)
    assert _drafts(session) == [] and _events(session) == []


def test_a_rejection_needs_a_reason(session: Session, handling: Handling) -> None:
    case = _case(session)
    done = draft_refusal(session, case.reference, "Manifestly excessive", False, DPO, handling, NOW)
    assert done.draft_id is not None
    for why in ("", "   ", "\n"):
        with pytest.raises(Refused, match="say why"):
            reject_draft(session, done.draft_id, DPO, why, NOW)
