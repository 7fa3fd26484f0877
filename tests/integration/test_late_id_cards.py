"""An ID card that comes late (LEGAL.md §1.7, §2), through the worker's real stages,
the real ID check (tesseract) and the DPO's actions. Three weeks without a card, the
clock drafts the "not identified" closure for the DPO's approval; a card that comes
after that still counts, whatever the DPO did with the closure meanwhile (left it,
rejected it, approved it and it failed), unless the requester is being told."""

from __future__ import annotations

import importlib
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from mailbot.actions import Refused, acting
from mailbot.actions.cases import draft_extension, verify_identity
from mailbot.actions.drafts import approve_draft, reject_draft
from mailbot.actions.outbox import requeue_failed
from mailbot.cases.models import Case, CaseStatus, OutboundMessage, OutboundStatus
from mailbot.database import transaction
from mailbot.schedule import run_scheduled_work
from mailbot.store.models import InboundMessage, utcnow
from mailbot.worker import Worker
from tests.integration.test_id_copies_kept import (
    ANNAS_CARD,
    BACK,
    OTHER_NAME,
    _asked_for_an_id,
    _asks_for_her_data_too,
    _card_in_the_thread,
    _cards,
    _case,
    _decide,
    _letters,
    _problems,
    _waiting_for,
)

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")


@pytest.mark.parametrize("card", [ANNAS_CARD, OTHER_NAME], ids=["her card", "another name"])
def test_a_card_that_comes_after_the_not_identified_closure_was_drafted_still_counts(
    tmp_path: Path, card: bytes
) -> None:
    """Three weeks without an ID: the clock drafts the "not identified" closure for the
    DPO. Anna's card arrives before the DPO approves it: she did answer, so her card is
    checked as if on time instead of deleted unread while the refusal goes out."""
    worker = _closure_drafted(tmp_path)
    _card_in_the_thread(worker, card, "Sorry for the delay, here is my card.")
    if card is OTHER_NAME:  # the DPO looks at it, and can still let the closure go
        assert _cards(worker) == [("eid_front", True)]
        assert _waiting_for(worker) == {"identity_check": 1}
        run_scheduled_work(worker.engine, worker.bot, utcnow())
        assert _cards(worker) == [("eid_front", True)]
        closure = next(row.id for row in _letters(worker) if row.kind == "not_identified")
        assert closure is not None
        late = "an ID copy came after this letter was drafted"
        assert any(late in problem for problem in _problems(worker, closure))  # said at once
        with pytest.raises(Refused, match=late), acting(worker.engine) as session:
            approve_draft(session, closure, "Dana", utcnow())
        with acting(worker.engine) as session:
            reference = _case(worker).reference
            verify_identity(session, reference, True, "Dana", worker.bot.handling, utcnow())
    case = _case(worker)
    assert case.identity_verified is True and case.status == CaseStatus.AWAITING_APPROVAL
    assert _cards(worker) == [("eid_front", False)]
    letters = {row.kind: row.status for row in _letters(worker)}
    assert letters["not_identified"] == "rejected"
    assert letters["erasure_done"] == "awaiting_approval"


def _closure_drafted(tmp_path: Path) -> Worker:
    """Three weeks on without a card, the clock drafted the "not identified" closure."""
    worker = _asked_for_an_id(tmp_path)
    asked = _case(worker).id_requested_at
    assert asked is not None
    run_scheduled_work(worker.engine, worker.bot, asked + timedelta(days=22))
    assert _case(worker).status == CaseStatus.AWAITING_APPROVAL
    return worker


def test_a_late_card_back_gets_the_front_asked_for_as_on_time(tmp_path: Path) -> None:
    """Asking her for the front while a letter closing the case for want of an ID waits
    for approval would tell her two things at once: the closure goes, and the front gets
    the full wait the clock gives any ID copy."""
    worker = _closure_drafted(tmp_path)
    _card_in_the_thread(worker, BACK, "Sorry for the delay, here is my card.")
    assert [row.kind for row in _letters(worker)][-1] == "id_request"
    assert _cards(worker) == [("eid_back", False)]  # the back alone is never looked at
    closures = [row.status for row in _letters(worker) if row.kind == "not_identified"]
    assert closures == ["rejected"]
    case = _case(worker)
    assert case.status == CaseStatus.IN_PROGRESS and case.id_wait_renewed_at is not None
    run_scheduled_work(worker.engine, worker.bot, case.id_wait_renewed_at + timedelta(days=20))
    assert len([row for row in _letters(worker) if row.kind == "not_identified"]) == 1
    run_scheduled_work(worker.engine, worker.bot, case.id_wait_renewed_at + timedelta(days=22))
    closures = [row.status for row in _letters(worker) if row.kind == "not_identified"]
    assert closures == ["rejected", "awaiting_approval"]


def test_a_card_back_on_the_last_days_gives_the_front_a_full_wait(tmp_path: Path) -> None:
    """The back comes on day 20 of the 21: she answered, and the front she is asked for
    gets as long as the back would have had, not one day."""
    worker = _asked_for_an_id(tmp_path)
    with transaction(worker.engine) as session:
        case = session.get_one(Case, _case(worker).id)
        assert case.id_requested_at is not None
        case.id_requested_at -= timedelta(days=20)
        session.add(case)
    _card_in_the_thread(worker, BACK, "Here is my card.")
    renewed = _case(worker).id_wait_renewed_at
    assert renewed is not None
    run_scheduled_work(worker.engine, worker.bot, renewed + timedelta(days=2))
    assert "not_identified" not in [row.kind for row in _letters(worker)]
    run_scheduled_work(worker.engine, worker.bot, renewed + timedelta(days=22))
    assert "not_identified" in [row.kind for row in _letters(worker)]


def test_a_failed_closure_stays_failed_once_a_card_back_came(tmp_path: Path) -> None:
    # Queued again, it would close the case of a requester just asked for the front.
    worker = _closure_drafted(tmp_path)
    closure = _closure_failed(worker)
    _card_in_the_thread(worker, BACK, "Here is my card.")
    assert [row.kind for row in _letters(worker)][-1] == "id_request"
    with pytest.raises(Refused, match="an ID copy came since"), acting(worker.engine) as session:
        requeue_failed(session, "Dana", utcnow(), closure)


def test_rejecting_the_closure_instead_of_checking_the_late_card_keeps_the_card(
    tmp_path: Path,
) -> None:
    worker = _closure_drafted(tmp_path)
    _card_in_the_thread(worker, OTHER_NAME, "Sorry for the delay, here is my card.")
    closure = _closure(worker)
    with acting(worker.engine) as session:  # "she answered": the DPO drops the closure
        reject_draft(session, closure, "Dana", "she answered", utcnow())
    run_scheduled_work(worker.engine, worker.bot, utcnow())
    assert _cards(worker) == [("eid_front", True)]  # still for the check nobody recorded
    assert _waiting_for(worker) == {"identity_check": 1}
    with acting(worker.engine) as session:
        reference = _case(worker).reference
        verify_identity(session, reference, True, "Dana", worker.bot.handling, utcnow())
    assert _cards(worker) == [("eid_front", False)]
    assert _case(worker).status == CaseStatus.AWAITING_APPROVAL  # the answer, drafted


@pytest.mark.parametrize("extension_waits", [False, True], ids=["in progress", "awaiting"])
def test_a_closure_rejected_to_wait_longer_is_drafted_again_when_no_card_comes(
    tmp_path: Path, extension_waits: bool
) -> None:
    """ "She will send it": the DPO waits longer instead of closing. The clock stays
    paused for her card, so it must not wait for ever: a full wait after the rejection,
    still without a card, the closure is back on the DPO's list."""
    worker = _closure_drafted(tmp_path)
    asked = _case(worker).id_requested_at
    assert asked is not None
    rejected = asked + timedelta(days=22)
    if extension_waits:  # the case then stays awaiting approval
        with acting(worker.engine) as session:
            reference = _case(worker).reference
            draft_extension(
                session, reference, "Many systems", "Dana", worker.bot.handling, rejected
            )
    with acting(worker.engine) as session:
        reject_draft(session, _closure(worker), "Dana", "she will send it", rejected)
    assert _case(worker).id_wait_renewed_at == rejected
    run_scheduled_work(worker.engine, worker.bot, rejected + timedelta(days=20))
    closures = [row.status for row in _letters(worker) if row.kind == "not_identified"]
    assert closures == ["rejected"]
    run_scheduled_work(worker.engine, worker.bot, rejected + timedelta(days=22))
    closures = [row.status for row in _letters(worker) if row.kind == "not_identified"]
    assert closures == ["rejected", "awaiting_approval"]
    assert _case(worker).status == CaseStatus.AWAITING_APPROVAL
    run_scheduled_work(worker.engine, worker.bot, rejected + timedelta(days=23))
    assert len([row for row in _letters(worker) if row.kind == "not_identified"]) == 2


def test_a_closure_rejected_after_a_late_card_came_is_not_drafted_again(tmp_path: Path) -> None:
    # The card waits for the DPO's eye: nothing is missing, so nothing is counted.
    worker = _closure_drafted(tmp_path)
    _card_in_the_thread(worker, OTHER_NAME, "Sorry for the delay, here is my card.")
    asked = _case(worker).id_requested_at
    assert asked is not None
    with acting(worker.engine) as session:
        reject_draft(session, _closure(worker), "Dana", "she answered", utcnow())
    assert _case(worker).id_wait_renewed_at is None
    run_scheduled_work(worker.engine, worker.bot, asked + timedelta(days=60))
    closures = [row.status for row in _letters(worker) if row.kind == "not_identified"]
    assert closures == ["rejected"]


def test_a_card_sent_after_the_dpo_rejected_the_closure_is_checked(tmp_path: Path) -> None:
    # "She phoned: the card is coming." The case goes on without the closure; the card,
    # when it comes, is checked as the one asked for, not deleted unread.
    worker = _closure_drafted(tmp_path)
    closure = _closure(worker)
    with acting(worker.engine) as session:
        reject_draft(session, closure, "Dana", "she will send it", utcnow())
    _card_in_the_thread(worker, ANNAS_CARD, "Here is my card.")
    case = _case(worker)
    assert case.identity_verified is True and case.status == CaseStatus.AWAITING_APPROVAL
    assert _cards(worker) == [("eid_front", False)]


def test_a_reading_that_needs_no_check_ends_the_wait_for_one(tmp_path: Path) -> None:
    # A late card waits for the DPO, who rejects the closure; a follow-up then asks
    # more, and the DPO reads the whole case as no request after all.
    worker = _closure_drafted(tmp_path)
    _card_in_the_thread(worker, OTHER_NAME, "Sorry for the delay, here is my card.")
    closure = _closure(worker)
    with acting(worker.engine) as session:
        reject_draft(session, closure, "Dana", "she answered", utcnow())
    _asks_for_her_data_too(worker)
    _decide(worker, ["other"])  # the DPO reads it as no request after all
    assert _cards(worker) == [("eid_front", False)]
    assert _waiting_for(worker) == {}
    _card_in_the_thread(worker, ANNAS_CARD, "Here it is again.")
    assert _cards(worker) == [("eid_front", False), ("eid_front", False)]  # nobody needs it


def test_a_card_after_the_closure_was_rejected_while_an_extension_waits_is_checked(
    tmp_path: Path,
) -> None:
    # The extension notice still waits for approval, so rejecting the closure leaves the
    # case awaiting approval: the card is still the one asked for.
    worker = _closure_drafted(tmp_path)
    with acting(worker.engine) as session:
        reference = _case(worker).reference
        draft_extension(session, reference, "Many systems", "Dana", worker.bot.handling, utcnow())
    closure = _closure(worker)
    with acting(worker.engine) as session:
        reject_draft(session, closure, "Dana", "she will send it", utcnow())
    assert _case(worker).status == CaseStatus.AWAITING_APPROVAL
    _card_in_the_thread(worker, OTHER_NAME, "Here is my card.")
    assert _cards(worker) == [("eid_front", True)]
    assert _waiting_for(worker) == {"identity_check": 1}


def test_an_upgrade_marks_the_cards_that_waited_for_the_dpo_before_it(tmp_path: Path) -> None:
    """Revision 0014 reads the old rule: a card received, unchecked, in a case not yet
    answered, still held. The worker's next round must not delete it."""
    worker = _closure_drafted(tmp_path)
    _card_in_the_thread(worker, OTHER_NAME, "Sorry for the delay, here is my card.")
    closure = _closure(worker)
    with acting(worker.engine) as session:
        reject_draft(session, closure, "Dana", "she answered", utcnow())
    assert _case(worker).status == CaseStatus.IN_PROGRESS
    revision = importlib.import_module("mailbot.migrations.versions.0014_id_copy_in_review")
    with worker.engine.begin() as connection:  # as it stood before the column existed
        connection.execute(text("UPDATE privacy_case SET id_copy_in_review = FALSE"))
        connection.execute(text(revision.FILL_FROM_THE_OLD_RULE))
    assert _case(worker).id_copy_in_review
    run_scheduled_work(worker.engine, worker.bot, utcnow())
    assert _cards(worker) == [("eid_front", True)]


def test_an_upgrade_gives_the_waits_the_dpo_renewed_before_it_a_full_wait(
    tmp_path: Path,
) -> None:
    """Revision 0015: a closure the DPO rejected an hour before the upgrade must not be
    drafted again by the first round after it, 21 days after the ID was asked for."""
    worker = _closure_drafted(tmp_path)
    with acting(worker.engine) as session:
        reject_draft(session, _closure(worker), "Dana", "she will send it", utcnow())
    revision = importlib.import_module("mailbot.migrations.versions.0015_id_wait_renewed")
    upgraded = utcnow() + timedelta(hours=1)
    with worker.engine.begin() as connection:  # as it stood before the column existed
        connection.execute(text("UPDATE privacy_case SET id_wait_renewed_at = NULL"))
        connection.execute(revision.renew_the_waits_before(upgraded))
    assert _case(worker).id_wait_renewed_at == upgraded
    run_scheduled_work(worker.engine, worker.bot, upgraded + timedelta(hours=1))
    assert [row.kind for row in _letters(worker)].count("not_identified") == 1
    run_scheduled_work(worker.engine, worker.bot, upgraded + timedelta(days=22))
    assert [row.kind for row in _letters(worker)].count("not_identified") == 2


def _closure_failed(worker: Worker) -> int:
    """The DPO approved the clock's closure, and the recipient's server refused it."""
    closure = _closure(worker)
    with acting(worker.engine) as session:
        approve_draft(session, closure, "Dana", utcnow())
    with transaction(worker.engine) as session:
        session.get_one(OutboundMessage, closure).status = OutboundStatus.FAILED
    return closure


def _closure(worker: Worker) -> int:
    """The "not identified" letter the clock drafted."""
    closure = next(row.id for row in _letters(worker) if row.kind == "not_identified")
    assert closure is not None
    return closure


def _card_asking_more(worker: Worker) -> None:
    """Her card, in a mail that also asks for a right the case did not."""
    _asks_for_her_data_too(worker, ANNAS_CARD)


def test_a_card_kept_for_the_reading_resumes_the_clock_at_its_arrival(tmp_path: Path) -> None:
    worker = _closure_drafted(tmp_path)
    with acting(worker.engine) as session:
        reject_draft(session, _closure(worker), "Dana", "she will send it", utcnow())
    _card_asking_more(worker)
    assert _cards(worker) == [("eid_front", True)]  # the reading comes first
    assert _waiting_for(worker) == {"reading": 1}  # the check is refused until then
    with transaction(worker.engine) as session:
        arrived = max(mail.received_at for mail in session.exec(select(InboundMessage)).all())
    assert _case(worker).id_received_at == arrived
    _decide(worker, ["erasure", "access"])
    case = _case(worker)
    assert case.identity_verified is True and case.id_received_at == arrived


def test_a_card_asking_more_while_an_extension_waits_waits_for_the_dpo(tmp_path: Path) -> None:
    worker = _closure_drafted(tmp_path)
    with acting(worker.engine) as session:
        reference = _case(worker).reference
        draft_extension(session, reference, "Many systems", "Dana", worker.bot.handling, utcnow())
    with acting(worker.engine) as session:
        reject_draft(session, _closure(worker), "Dana", "she will send it", utcnow())
    _card_asking_more(worker)
    assert _cards(worker) == [("eid_front", True)]
    assert _waiting_for(worker) == {"identity_check": 1}


def test_a_card_after_the_approved_closure_failed_to_leave_is_checked(tmp_path: Path) -> None:
    worker = _closure_drafted(tmp_path)
    closure = _closure_failed(worker)
    _card_in_the_thread(worker, ANNAS_CARD, "Here is my card.")
    assert _case(worker).identity_verified is True
    with pytest.raises(Refused, match="an ID copy came since"), acting(worker.engine) as session:
        requeue_failed(session, "Dana", utcnow(), closure)
    with acting(worker.engine) as session:
        requeue_failed(session, "Dana", utcnow())
    assert next(row.status for row in _letters(worker) if row.id == closure) == "failed"


def test_a_failed_closure_stays_failed_once_a_check_drafted_another(tmp_path: Path) -> None:
    worker = _closure_drafted(tmp_path)
    _closure_failed(worker)
    _card_in_the_thread(worker, OTHER_NAME, "Here is my card.")
    with acting(worker.engine) as session:  # not her card: a new refusal is drafted
        reference = _case(worker).reference
        verify_identity(session, reference, False, "Dana", worker.bot.handling, utcnow())
    with acting(worker.engine) as session:
        requeue_failed(session, "Dana", utcnow())
    closures = [row.status for row in _letters(worker) if row.kind == "not_identified"]
    assert closures == ["failed", "awaiting_approval"]  # one refusal, not two
    # The refusal the check drafted is the one that goes, even if it fails in turn.
    fresh = next(row.id for row in _letters(worker) if row.status == "awaiting_approval")
    assert fresh is not None
    with acting(worker.engine) as session:
        approve_draft(session, fresh, "Dana", utcnow())
    with transaction(worker.engine) as session:
        session.get_one(OutboundMessage, fresh).status = OutboundStatus.FAILED
    with acting(worker.engine) as session:
        requeue_failed(session, "Dana", utcnow(), fresh)
    closures = [row.status for row in _letters(worker) if row.kind == "not_identified"]
    assert closures == ["failed", "queued"]


@pytest.mark.parametrize("extension_waits", [False, True], ids=["in progress", "awaiting"])
def test_a_card_after_an_earlier_follow_up_flagged_the_case_is_held_with_its_arrival(
    tmp_path: Path, extension_waits: bool
) -> None:
    """As when the card comes in the very mail that asks more: the reading comes first,
    the card waits for it (or for the DPO's eye) and its arrival resumes the clock."""
    worker = _closure_drafted(tmp_path)
    if extension_waits:  # rejecting the closure then leaves the case awaiting approval
        with acting(worker.engine) as session:
            reference = _case(worker).reference
            draft_extension(
                session, reference, "Many systems", "Dana", worker.bot.handling, utcnow()
            )
    with acting(worker.engine) as session:
        reject_draft(session, _closure(worker), "Dana", "she will send it", utcnow())
    _asks_for_her_data_too(worker)
    _card_in_the_thread(worker, ANNAS_CARD, "Here is my card.")
    assert _cards(worker) == [("eid_front", True)]
    with transaction(worker.engine) as session:
        arrived = max(mail.received_at for mail in session.exec(select(InboundMessage)).all())
    assert _case(worker).id_received_at == arrived
