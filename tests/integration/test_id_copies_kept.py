"""How long an ID copy stays (LEGAL.md §2.5: only until its check), through the worker's
real stages, the real ID check (tesseract) and the DPO's actions: a triaged mail keeps
its card until the DPO's reading says whether anyone must look at it; a case that
closes while a card waits has it deleted at the next round; and /metrics says what
each kept card waits for, so an alert can say what to do."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import col, select

from mailbot.actions import acting
from mailbot.actions.cases import decide_case, draft_refusal, verify_identity
from mailbot.actions.drafts import approve_draft
from mailbot.cases.models import Case, CaseEvent, CaseStatus, OutboundMessage
from mailbot.database import transaction
from mailbot.exposition import BotCollector
from mailbot.handling.plan import IdReceived, Step
from mailbot.handling.record import apply_steps
from mailbot.replies.approval import approval_problems
from mailbot.schedule import run_scheduled_work
from mailbot.store.models import Attachment, utcnow
from mailbot.worker import Worker
from tests.idcards.render import render_sample
from tests.maildir_worker import deliver, maildir_worker, send_queued
from tests.mailfactory import request_mail

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract")

ANNA = "Anna Peeters <anna.peeters@example.org>"
ANNAS_CARD = render_sample(3, "eid_front", "clean", "jpeg", holder=("Peeters", "Anna")).data
# A card showing another name: the check cannot settle it, the DPO must look.
OTHER_NAME = render_sample(6, "eid_front", "clean", "jpeg", holder=("Claes", "Pieter")).data
BACK = render_sample(4, "eid_back", "clean", "jpeg").data


def _vague_mail_with(card: bytes) -> bytes:
    return request_mail(
        sender=ANNA,
        language="nl",
        subject="Vraag",
        body="Hallo, ik heb een vraag over mijn account bij jullie. Mijn kaart zit erbij.",
        attachments=[("kaart.jpg", "image/jpeg", card)],
    )


def _case(worker: Worker) -> Case:
    with transaction(worker.engine) as session:
        (case,) = session.exec(select(Case)).all()
        return case


def _cards(worker: Worker) -> list[tuple[str, bool]]:
    """(kind, still kept) of every attachment."""
    with transaction(worker.engine) as session:
        rows = session.exec(select(Attachment).order_by(col(Attachment.id))).all()
        return [(row.kind, row.purged_at is None) for row in rows]


def _waiting_for(worker: Worker) -> dict[str, float]:
    """`mailbot_id_copies_held` by its `waiting_for` label, as Prometheus reads it."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BotCollector(worker.engine, utcnow))
    text = generate_latest(registry).decode()
    return {
        sample.labels["waiting_for"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "mailbot_id_copies_held" and sample.value
    }


def _asked_for_an_id(tmp_path: Path) -> Worker:
    """Anna asks for erasure from an address no account has: an ID copy is asked for,
    and the acknowledgement asking it has left."""
    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail(sender=ANNA, language="en"))
    send_queued(worker.engine)
    assert _case(worker).status == CaseStatus.AWAITING_IDENTITY
    return worker


def _in_the_thread(worker: Worker, text: str, card: bytes | None = None) -> None:
    """Anna writes in her case's thread, with a card or without."""
    reply = request_mail(
        sender=ANNA,
        language="en",
        subject=f"Re: [{_case(worker).reference}]",
        body=text,
        attachments=[("card.jpg", "image/jpeg", card)] if card else None,
    )
    deliver(worker, reply)


def _card_in_the_thread(worker: Worker, card: bytes, text: str) -> None:
    _in_the_thread(worker, text, card)


def _asks_for_her_data_too(worker: Worker, card: bytes | None = None) -> None:
    """A right the case did not ask, for the DPO's reading (with her card, or not)."""
    _in_the_thread(
        worker, "Please also send me a copy of all the personal data you hold about me.", card
    )
    assert _case(worker).needs_triage


def _decide(worker: Worker, rights: list[str]) -> None:
    with acting(worker.engine) as session:
        decide_case(session, _case(worker).reference, rights, "Dana", worker.bot.handling, utcnow())


def test_a_triaged_mails_card_waits_for_the_reading_then_for_the_dpos_eye(
    tmp_path: Path,
) -> None:
    worker = maildir_worker(tmp_path)
    deliver(worker, _vague_mail_with(OTHER_NAME))
    assert _case(worker).needs_triage
    # Deleting it now would leave the DPO nothing to look at once the reading asks for
    # a check, and the requester would have to send it again.
    assert _cards(worker) == [("eid_front", True)]
    assert _waiting_for(worker) == {"reading": 1}
    run_scheduled_work(worker.engine, worker.bot, utcnow())
    assert _cards(worker) == [("eid_front", True)]

    _decide(worker, ["access"])  # an unknown address: doubt, and a card with another name
    case = _case(worker)
    assert case.status == CaseStatus.AWAITING_IDENTITY and case.identity_verified is None
    assert _cards(worker) == [("eid_front", True)]
    assert _waiting_for(worker) == {"identity_check": 1}
    with transaction(worker.engine) as session:
        kinds = [row.kind for row in session.exec(select(OutboundMessage)).all()]
    assert kinds == ["acknowledgement"]  # no second request for a card the DPO has

    with acting(worker.engine) as session:
        verify_identity(session, case.reference, True, "Dana", worker.bot.handling, utcnow())
    assert _cards(worker) == [("eid_front", False)]
    assert _waiting_for(worker) == {}


def test_a_reading_that_needs_no_eye_deletes_the_card_it_verified(tmp_path: Path) -> None:
    worker = maildir_worker(tmp_path)
    deliver(worker, _vague_mail_with(ANNAS_CARD))
    assert _cards(worker) == [("eid_front", True)]
    _decide(worker, ["access"])
    case = _case(worker)
    assert case.identity_verified is True and case.identity_method == "id-copy:eid_front"
    assert case.status == CaseStatus.AWAITING_APPROVAL  # the answer, for the DPO
    assert _cards(worker) == [("eid_front", False)]


def test_a_marketing_reading_needs_no_card_and_deletes_it(tmp_path: Path) -> None:
    worker = maildir_worker(tmp_path)
    deliver(worker, _vague_mail_with(OTHER_NAME))
    _decide(worker, ["objection"])
    assert _cards(worker) == [("eid_front", False)]


def test_a_case_closed_while_its_card_waited_for_the_dpo_has_it_deleted_next_round(
    tmp_path: Path,
) -> None:
    worker = _asked_for_an_id(tmp_path)
    reference = _case(worker).reference
    _card_in_the_thread(worker, OTHER_NAME, "Here is my card.")
    assert _case(worker).status == CaseStatus.AWAITING_IDENTITY
    assert _cards(worker) == [("eid_front", True)]  # for the DPO's eye
    # The DPO refuses instead (say, the request repeats one answered last week).
    now = utcnow()
    with acting(worker.engine) as session:
        done = draft_refusal(
            session, reference, "Answered on 1 December.", False, "Dana", worker.bot.handling, now
        )
    with acting(worker.engine) as session:
        assert done.draft_id is not None
        approve_draft(session, done.draft_id, "Dana", now)
    send_queued(worker.engine)
    assert _case(worker).status == CaseStatus.CLOSED
    assert _waiting_for(worker) == {"nothing": 1}  # MailbotIdCopyNotDeleted, if it lasts

    run_scheduled_work(worker.engine, worker.bot, utcnow())
    assert _cards(worker) == [("eid_front", False)]
    assert _waiting_for(worker) == {}
    assert _events(worker)[-2:] == ["id_copies_no_longer_needed", "id_copy_deleted"]
    run_scheduled_work(worker.engine, worker.bot, utcnow())  # nothing more to do
    assert _events(worker)[-2:] == ["id_copies_no_longer_needed", "id_copy_deleted"]


def _problems(worker: Worker, draft_id: int) -> list[str]:
    """What the draft page and `drafts show` list as blocking the draft's approval."""
    with transaction(worker.engine) as session:
        draft = session.get_one(OutboundMessage, draft_id)
        return approval_problems(draft, session.get_one(Case, draft.case_id))


def _letters(worker: Worker) -> list[OutboundMessage]:
    with transaction(worker.engine) as session:
        return list(session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))))


def _events(worker: Worker) -> list[str]:
    with transaction(worker.engine) as session:
        query = select(CaseEvent.kind).order_by(col(CaseEvent.id))
        return list(session.exec(query).all())


def test_a_second_card_while_the_first_waits_for_the_dpo_leaves_the_clock_as_it_was(
    tmp_path: Path,
) -> None:
    # The paused clock resumed when the first card came; a second one, sent while the
    # DPO had not looked yet, must not pause it again until its own arrival.
    worker = _asked_for_an_id(tmp_path)
    _card_in_the_thread(worker, OTHER_NAME, "Here is my card.")
    first = _case(worker).id_received_at
    assert first is not None
    _card_in_the_thread(worker, OTHER_NAME, "Did you get my card? Here it is again.")
    assert _case(worker).id_received_at == first
    assert _cards(worker) == [("eid_front", True), ("eid_front", True)]  # both for the DPO


def test_a_card_handled_late_but_received_first_resumes_the_clock_at_its_arrival(
    tmp_path: Path,
) -> None:
    # Mail A (a card) was quarantined and retried after mail B (another card) was
    # handled: the clock resumes from A's arrival, the earlier.
    worker = _asked_for_an_id(tmp_path)
    first, second = utcnow() + timedelta(days=3), utcnow() + timedelta(days=7)
    with transaction(worker.engine) as session:
        case = session.get_one(Case, _case(worker).id)
        steps: list[Step] = [IdReceived(second), IdReceived(first)]
        apply_steps(session, case, steps, worker.bot.handling, second)
    assert _case(worker).id_received_at == first
