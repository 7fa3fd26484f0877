"""What becomes of one inbound mail (`decide_mail`), what a follow-up does to its case
(`continue_case`), and the DPO's check of a document by eye (`verify_by_eye`): decided
from values, with a fixed reading standing in for the classifier. No database, no OCR."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

import pytest

from classifiers import Classification
from mailbot.cases.deadlines import deadlines_for
from mailbot.cases.models import Case
from mailbot.cases.refused import Refused
from mailbot.config import Settings
from mailbot.handling.decide import BACK_ALONE, continue_case
from mailbot.handling.disposition import MailReading, Surroundings, decide_mail
from mailbot.handling.plan import (
    DiscardIdCopies,
    Draft,
    FlagForTriage,
    HoldForCheck,
    IdReceived,
    MailPlan,
    Note,
    RecordIdentityCheck,
    RejectDraft,
    RenewIdWait,
    RequestIdentity,
    Step,
    Suppress,
)
from mailbot.handling.review import verify_by_eye
from mailbot.mail.parse import MalformedMail, parse_mail
from mailbot.store.models import Disposition, InboundMessage
from mailbot.triage.id_evidence import IdCheck
from mailbot.triage.identity import Finding
from mailbot.triage.screen import screen
from tests.mailfactory import PNG_1PX, auto_reply, bounce, request_mail
from tests.unit.handling.test_decide import (
    ARRIVED,
    DPO,
    FRONT,
    NOW,
    S,
    case,
    drafts,
    of,
    reading,
    statuses,
)

D = Disposition
ANN = "Ann Example <ann@example.org>"
# 23:30 UTC on 31 January is 1 February in Brussels: the clock starts then (LEGAL.md §1.1).
RECEIVED = datetime(2025, 1, 31, 23, 30, tzinfo=UTC)
CARD = [("scan.png", "image/png", PNG_1PX)]
SURE_FRONT = {0: IdCheck("eid_front", True, "read as a card front")}


def mail_of(raw: bytes, checks: Mapping[int, IdCheck] | None = None) -> MailReading:
    try:
        mail = parse_mail(raw)
    except MalformedMail as exc:
        return MailReading(None, exc.reason)
    return MailReading(mail, None, screen(mail, frozenset({Settings().sender})), checks)


def ann(**parts: Any) -> MailReading:
    checks = parts.pop("checks", None)
    return mail_of(request_mail(sender=ANN, **parts), checks)


def fixed(*labels: str, language: str = "en") -> Callable[[str, str], Classification]:
    read = reading(*labels)
    if language != "en":
        read = Classification(language, read.primary, read.labels, read.scores, 0.9, False)
    return lambda subject, text: read


def never(subject: str, text: str) -> Classification:
    raise AssertionError("a mail the bot does not read must not be classified")


def inbound(**fields: Any) -> InboundMessage:
    values = {"source": "test", "message_key": "sha256:0", "raw": b"", "size": 0}
    return InboundMessage(**{**values, "sha256": "0" * 64, "received_at": RECEIVED, **fields})


def plan(
    read: MailReading,
    around: Surroundings | None = None,
    classify: Callable[[str, str], Classification] = never,
    at: datetime = RECEIVED,
) -> MailPlan:
    mail_row = inbound(received_at=at)
    return decide_mail(read, around or Surroundings(), mail_row, Settings(), classify, NOW)


def test_a_malformed_mail_is_quarantined_with_the_reason() -> None:
    assert plan(mail_of(b"")) == MailPlan(D.QUARANTINED, "empty message")
    assert plan(MailReading(None)) == MailPlan(D.QUARANTINED, "unreadable")


@pytest.mark.parametrize(("raw", "kind"), [(auto_reply(), D.AUTO_REPLY), (bounce(), D.BOUNCE)])
def test_a_machines_mail_is_set_aside_without_a_case(raw: bytes, kind: Disposition) -> None:
    result = plan(mail_of(raw))
    assert result.disposition == kind and result.reason
    assert result.new_case is None and result.case_id is None and result.steps == ()


def test_an_empty_mail_is_quarantined_for_a_person() -> None:
    raw = b"From: Ann Example <ann@example.org>\r\nTo: privacy@jaimy.be\r\n\r\n"
    result = plan(mail_of(raw))
    assert result.disposition == D.QUARANTINED and result.new_case is None
    assert result.reason == "empty message: no subject, text or attachment"


def test_a_sender_longer_than_any_address_is_quarantined() -> None:
    result = plan(mail_of(request_mail(sender=f"{'x' * 330}@example.org")))
    assert result.disposition == D.QUARANTINED and "320" in (result.reason or "")
    assert result.new_case is None


def test_a_copy_of_a_dismissed_mail_is_dismissed_and_erased() -> None:
    first = inbound(id=7, disposition=D.DISMISSED)
    result = plan(ann(attachments=CARD), Surroundings(earlier_copy=first))
    assert result.disposition == D.DISMISSED and result.erase
    assert result.attachments == "unchecked"  # rows only, to mark them gone
    assert "mail 7" in (result.reason or "") and result.new_case is None


def test_a_copy_of_a_handled_mail_joins_the_first_copys_case() -> None:
    first = inbound(id=7, disposition=D.CASE_OPENED, case_id=3)
    result = plan(ann(), Surroundings(earlier_copy=first))
    assert (result.disposition, result.case_id, result.new_case) == (D.DUPLICATE, 3, None)
    assert result.steps == () and not result.erase


@pytest.mark.parametrize(("under_review", "steps"), [(False, (DiscardIdCopies(),)), (True, ())])
def test_the_id_copy_in_a_copy_goes_the_way_of_the_first(
    under_review: bool, steps: tuple[Step, ...]
) -> None:
    first = inbound(id=7, disposition=D.FOLLOW_UP, case_id=3)
    first_case = case(
        id=3,
        status=S.AWAITING_IDENTITY,
        id_received_at=NOW if under_review else None,
        id_copy_in_review=under_review,
    )
    around = Surroundings(earlier_copy=first, copy_case=first_case)
    result = plan(ann(attachments=CARD, checks=SURE_FRONT), around)
    assert (result.disposition, result.case_id, result.attachments) == (D.DUPLICATE, 3, "checked")
    assert result.steps == steps


def test_a_mail_of_the_senders_open_case_is_a_follow_up() -> None:
    open_case = case(id=5, status=S.AWAITING_IDENTITY, doubt_reason="unknown_address")
    read = ann(attachments=CARD, checks=SURE_FRONT)
    result = plan(read, Surroundings(case=open_case), fixed("other"), at=ARRIVED)
    assert (result.disposition, result.case_id, result.new_case) == (D.FOLLOW_UP, 5, None)
    assert result.reason == f"joined case {open_case.reference}"
    assert IdReceived(ARRIVED) in result.steps  # its arrival, not when it was handled
    assert RecordIdentityCheck(True, "id-copy:eid_front") in result.steps


def test_a_foreign_case_reference_opens_a_flagged_case_of_its_own() -> None:
    result = plan(ann(), Surroundings(foreign_reference=True), fixed("access"))
    assert result.disposition == D.CASE_OPENED and result.new_case is not None
    assert "foreign_reference" in result.flags


def test_a_new_cases_deadlines_come_from_the_receipt_date() -> None:
    result = plan(ann(attachments=CARD, checks=SURE_FRONT), classify=fixed("access"))
    new = result.new_case
    assert new is not None and result.disposition == D.CASE_OPENED
    due = deadlines_for(date(2025, 2, 1), Settings().target_days)
    assert (new.received_at, new.receipt_date) == (RECEIVED, date(2025, 2, 1))
    assert new.legal_due == due.legal_due == date(2025, 3, 3)  # 1 March is a Saturday
    assert {name: getattr(new, name) for name in asdict(due)} == asdict(due)
    assert (new.requester, new.requester_name) == ("ann@example.org", "Ann Example")
    assert (new.primary, new.labels, new.id_document) == ("access", ("access",), "eid_front")
    assert (result.read, result.sender, result.attachments) == (True, "ann@example.org", "checked")


def test_a_request_in_an_unserved_language_is_answered_in_english() -> None:
    new = plan(ann(), classify=fixed("access", language="es")).new_case
    assert new is not None and (new.language, new.detected_language) == ("en", "es")


def test_a_new_case_is_answered_by_the_identity_policy() -> None:
    unknown = plan(ann(), classify=fixed("access")).steps
    assert of(unknown, RequestIdentity) and drafts(unknown) == ["acknowledgement"]
    known = plan(ann(), Surroundings(sender_known=True), fixed("access")).steps
    assert not of(known, RequestIdentity)
    assert drafts(known) == ["acknowledgement", "access_answer"]
    objection = plan(ann(), classify=fixed("objection")).steps
    assert objection[0] == Suppress("objection")


# Follow-ups: what a mail joining a case does to it


def awaiting(doubt: str = "unknown_address", **fields: Any) -> Case:
    return case("access", status=S.AWAITING_IDENTITY, doubt_reason=doubt, **fields)


def test_a_follow_up_with_only_the_card_back_asks_for_the_front() -> None:
    steps = continue_case(awaiting(), reading("other"), [Finding("eid_back", True, None)], ARRIVED)
    assert steps == [
        Note("follow_up_read", {"reading": "other", "id_document": "eid_back"}),
        Draft("id_request", {"doubt_reason": "unknown_address"}),
        DiscardIdCopies(),
    ]


def test_a_follow_up_with_the_card_front_verifies_and_resumes_the_clock_at_its_arrival() -> None:
    steps = continue_case(awaiting(), reading("other"), [FRONT], ARRIVED)
    assert steps[1:4] == [
        IdReceived(ARRIVED),
        RecordIdentityCheck(True, "id-copy:eid_front"),
        DiscardIdCopies(every_document=True),
    ]
    assert drafts(steps) == ["id_received", "access_answer"]
    assert statuses(steps) == [S.AWAITING_APPROVAL]


def test_a_card_for_a_third_party_case_waits_for_the_dpo() -> None:
    steps = continue_case(awaiting("third_party"), reading("other"), [FRONT], ARRIVED)
    assert steps[1:] == [IdReceived(ARRIVED), HoldForCheck("eid_front")]


def test_a_card_after_the_closure_was_drafted_verifies_and_rejects_the_closure() -> None:
    # The clock drafted "not identified" (draft 9); the DPO has not approved it yet.
    closing = case(
        "access", status=S.AWAITING_APPROVAL, doubt_reason="unknown_address", id_requested_at=NOW
    )
    steps = continue_case(closing, reading("other"), [FRONT], ARRIVED, pending_closures=(9,))
    assert steps[1:5] == [
        RejectDraft(9, "ID copy arrived", "bot"),
        IdReceived(ARRIVED),
        RecordIdentityCheck(True, "id-copy:eid_front"),
        DiscardIdCopies(every_document=True),
    ]
    assert drafts(steps) == ["id_received", "access_answer"]
    # A doubtful card waits for the DPO's eye, the closure left to them.
    unsure = [Finding("eid_front", False, None)]
    steps = continue_case(closing, reading("other"), unsure, ARRIVED, pending_closures=(9,))
    assert steps[1:] == [IdReceived(ARRIVED), HoldForCheck("eid_front")]
    # The back alone gets the front asked for, with a full wait from its arrival.
    back = [Finding("eid_back", True, None)]
    steps = continue_case(closing, reading("other"), back, ARRIVED, pending_closures=(9,))
    front_please = Draft("id_request", {"doubt_reason": "unknown_address"})
    assert steps[1:] == [
        RejectDraft(9, BACK_ALONE, "bot"),
        front_please,
        RenewIdWait(ARRIVED, BACK_ALONE),
        DiscardIdCopies(),
    ]
    # Once the DPO approved the closure, the card changes nothing and goes.
    steps = continue_case(closing, reading("other"), [FRONT], ARRIVED, closure_approved=True)
    assert steps[1:] == [DiscardIdCopies()]


def test_a_card_after_the_closure_was_rejected_is_the_one_asked_for() -> None:
    rejected = case(
        "erasure", status=S.IN_PROGRESS, doubt_reason="unknown_address", id_requested_at=NOW
    )
    steps = continue_case(rejected, reading("other"), [FRONT], ARRIVED)
    assert RecordIdentityCheck(True, "id-copy:eid_front") in steps
    # Not when the same mail asks more: the DPO's reading decides what the case needs.
    steps = continue_case(rejected, reading("access"), [FRONT], ARRIVED)
    assert FlagForTriage() in steps
    assert not of(steps, RecordIdentityCheck) and not of(steps, DiscardIdCopies)
    # Nor once the closure was approved: the requester is being told.
    closing = case(
        "erasure", status=S.AWAITING_APPROVAL, doubt_reason="unknown_address", id_requested_at=NOW
    )
    steps = continue_case(closing, reading("other"), [FRONT], ARRIVED, closure_approved=True)
    assert steps[1:] == [DiscardIdCopies()]


def test_a_reminder_keeps_the_document_the_dpo_still_has_to_see() -> None:
    waiting = awaiting(id_received_at=NOW, id_copy_in_review=True)
    assert continue_case(waiting, reading("other"), [], ARRIVED)[1:] == []
    assert continue_case(case(), reading("other"), [], ARRIVED)[1:] == [DiscardIdCopies()]


def test_a_new_right_in_a_follow_up_goes_on_the_dpos_list() -> None:
    answered = case(status=S.AWAITING_APPROVAL)
    steps = continue_case(answered, reading("erasure", "access"), [], ARRIVED)
    assert steps[1:3] == [FlagForTriage(), Note("follow_up_new_rights", {"rights": ["erasure"]})]
    assert not of(continue_case(answered, reading("access"), [], ARRIVED), FlagForTriage)


@pytest.mark.parametrize(("labels", "confirm"), [("access", True), ("objection", False)])
def test_an_objection_in_a_follow_up_stops_marketing_at_once(labels: str, confirm: bool) -> None:
    steps = continue_case(
        case(labels, status=S.AWAITING_IDENTITY), reading("objection"), [], ARRIVED
    )
    assert steps[1] == Suppress("objection")
    assert (Draft("objection_done") in steps) is confirm  # confirmed once per case
    assert not of(steps, FlagForTriage)


@pytest.mark.parametrize(
    ("on", "follow_up", "kept"),
    [
        # Waiting for the DPO's reading, which says whether anyone looks at the card.
        (case(status=S.IN_PROGRESS, needs_triage=True), reading("other"), True),
        # The follow-up itself asks more: the reading waits for the DPO from now on.
        (case(status=S.IN_PROGRESS), reading("erasure", "access"), True),
        # Answered already: no reading can be decided there, the card would stay for good.
        (case(status=S.AWAITING_APPROVAL), reading("erasure", "access"), False),
        (
            case(status=S.IN_PROGRESS, needs_triage=True, identity_verified=True),
            reading("other"),
            False,
        ),
    ],
)
def test_a_card_sent_while_the_reading_waits_for_the_dpo_is_kept_for_it(
    on: Case, follow_up: Classification, kept: bool
) -> None:
    steps = continue_case(on, follow_up, [FRONT], ARRIVED)
    assert (DiscardIdCopies() not in steps) is kept


def test_an_unsure_follow_up_changes_nothing_the_case_asks() -> None:
    steps = continue_case(case(), reading("other", triage=True), [], ARRIVED)
    assert not of(steps, Suppress) and not of(steps, FlagForTriage)


# The document the DPO looks at: the identity checked by eye


def in_review(**fields: Any) -> Case:
    facts = {"status": S.AWAITING_IDENTITY, "doubt_reason": "third_party", "id_received_at": NOW}
    return case(**{**facts, **fields})


@pytest.mark.parametrize(
    ("on", "why"),
    [
        (in_review(status=S.CLOSED), "closed"),
        (in_review(identity_verified=True), "already checked"),
        (in_review(identity_verified=False), "already checked"),
        # An unsure reading: the answer a check leads to is not known yet.
        (in_review(status=S.NEW, needs_triage=True), "decide what it asks first"),
        (in_review(status=S.IN_PROGRESS, needs_triage=True), "decide what it asks first"),
    ],
)
def test_an_identity_is_checked_by_eye_once_and_only_on_an_open_case(on: Case, why: str) -> None:
    with pytest.raises(Refused, match=why):
        verify_by_eye(on, True, DPO, [])


def test_a_case_flagged_by_a_follow_up_while_its_copy_waits_is_still_checked_by_eye() -> None:
    # Its first reading was settled; the new rights wait for the DPO's reading, which
    # is not taken in this status, so the check must not wait for it.
    steps = verify_by_eye(in_review(needs_triage=True), True, DPO, [])
    assert steps[0] == RecordIdentityCheck(True, "dpo-review", DPO)


def test_verified_by_eye_the_copy_goes_and_the_answer_is_prepared() -> None:
    steps = verify_by_eye(in_review(), True, DPO, [9])
    assert steps[:3] == [
        RecordIdentityCheck(True, "dpo-review", DPO),
        DiscardIdCopies(every_document=True, actor=DPO),
        RejectDraft(9, "identity verified", DPO),
    ]
    assert statuses(steps) == [S.IN_PROGRESS, S.AWAITING_APPROVAL]
    assert drafts(steps) == ["access_answer"]


def test_not_verified_by_eye_the_copy_goes_and_the_dpo_approves_the_letter() -> None:
    steps = verify_by_eye(in_review(), False, DPO, [])
    assert steps[:2] == [
        RecordIdentityCheck(False, "dpo-review", DPO),
        DiscardIdCopies(every_document=True, actor=DPO),
    ]
    assert drafts(steps) == ["not_identified"] and statuses(steps) == [S.AWAITING_APPROVAL]
    assert verify_by_eye(in_review(), False, DPO, [9]) == steps[:2]  # drafted already


def test_the_attached_letter_is_classified_with_the_mail_new_case_and_follow_up() -> None:
    from mailbot.letter_files import letter_file
    from mailbot.pipeline import read_mail

    data, media_type = letter_file("brief.docx", "Verwijder al mijn gegevens.")
    raw = request_mail(sender=ANN, body="Zie bijlage.", attachments=[("b.docx", media_type, data)])
    read = read_mail(raw, Settings())
    seen: list[str] = []

    def recording(subject: str, text: str) -> Classification:
        seen.append(text)
        return reading("erasure")

    assert plan(read, classify=recording).disposition == D.CASE_OPENED
    assert plan(read, Surroundings(case=case(id=4)), recording).disposition == D.FOLLOW_UP
    for text in seen:
        own, letter = text.split("\x1d")
        assert own.strip() == "Zie bijlage." and letter.strip() == "Verwijder al mijn gegevens."
