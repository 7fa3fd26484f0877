"""The bot's case decisions, driven directly: cases in memory, mails parsed from bytes,
ID-check findings as values. No database, no OCR (LEGAL.md §2 identity, §3 replies)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pytest

from classifiers import Classification
from classifiers.labels import classification
from mailbot.cases.deadlines import deadlines_for
from mailbot.cases.models import Case, CaseStatus
from mailbot.cases.refused import Refused
from mailbot.config import Settings
from mailbot.handling.decide import ANSWER_FILL_INS, respond_to_new_case
from mailbot.handling.plan import (
    CloseAnswered,
    DiscardIdCopies,
    Draft,
    HoldForCheck,
    IdReceived,
    Note,
    RecordIdentityCheck,
    RequestIdentity,
    SetDoubt,
    SetReading,
    Step,
    Suppress,
    Transition,
)
from mailbot.handling.review import decide_reading
from mailbot.mail.parse import ParsedMail, parse_mail
from mailbot.triage.identity import Finding
from tests.mailfactory import request_mail

S = CaseStatus
NOW = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
ARRIVED = datetime(2025, 3, 6, 7, 30, tzinfo=UTC)
DPO = "Dana DPO"
BODY = "Hello,\n\nPlease send me a copy of the personal data you hold about me.\n\nAnn"
FOR_MOTHER = "I write on behalf of my mother, Greta Example. Please send me a copy of her data."
FRONT = Finding("eid_front", True, True)


def reading(*labels: str, triage: bool = False) -> Classification:
    return classification("en", labels, {labels[0]: 0.9}, 0.9, needs_triage=triage)


def case(labels: str = "access", **fields: Any) -> Case:
    received = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    facts = {"id": 1, "reference": "JAIMY-PRIV-2025-0001", "requester": "ann@example.org"}
    reading_ = {"language": "en", "detected_language": "en", "confidence": 0.9}
    clock = {"received_at": received, **asdict(deadlines_for(received.date()))}
    read = {"primary": labels.split()[0], "labels": labels, **reading_}
    return Case(**{**facts, **read, **clock, **fields})


def mail(body: str = BODY, headers: dict[str, str] | None = None) -> ParsedMail:
    raw = request_mail(sender="Ann Example <ann@example.org>", body=body, extra_headers=headers)
    return parse_mail(raw)


def new_case(
    labels: str,
    findings: tuple[Finding, ...] = (),
    known: bool = False,
    policy: str = "on_doubt",
    triage: bool = False,
    **mail_parts: Any,
) -> list[Step]:
    settings = Settings(identity_policy=policy)
    opened = case(labels, needs_triage=triage)
    return respond_to_new_case(opened, mail(**mail_parts), list(findings), known, settings, NOW)


def of(steps: Sequence[Step], kind: type) -> list[Any]:
    return [step for step in steps if isinstance(step, kind)]


def drafts(steps: Sequence[Step]) -> list[str]:
    return [step.template for step in of(steps, Draft)]


def statuses(steps: Sequence[Step]) -> list[str]:
    return [step.to for step in of(steps, Transition)]


def ack(doubt: str | None) -> Draft:
    id_request = {"doubt_reason": doubt} if doubt else None
    return Draft("acknowledgement", {"id_request": id_request}, threaded=True)


@pytest.mark.parametrize("policy", ["on_doubt", "always"])
@pytest.mark.parametrize(
    ("right", "letter"),
    [("objection", "objection_done"), ("withdraw_consent", "consent_withdrawn")],
)
def test_marketing_stops_at_once_and_never_waits_for_an_id(
    right: str, letter: str, policy: str
) -> None:
    steps = new_case(right, findings=(FRONT,), policy=policy)
    assert steps[0] == Suppress(right)
    assert statuses(steps) == [S.IN_PROGRESS]
    assert of(steps, Draft) == [Draft(letter, threaded=True)]
    assert not of(steps, RequestIdentity) and not of(steps, SetDoubt)
    assert steps[-1] == DiscardIdCopies()  # the card sent along goes


def test_access_from_an_unknown_address_asks_for_the_id_and_says_why() -> None:
    steps = new_case("access")
    assert steps[0] == SetDoubt("unknown_address")
    assert steps[2:] == [
        ack("unknown_address"),
        RequestIdentity("unknown_address", pause_allowed=True),
    ]
    charter = new_case("access", known=True, policy="always")  # no doubt: the clock runs
    assert of(charter, RequestIdentity) == [RequestIdentity("policy_always", pause_allowed=False)]


@pytest.mark.parametrize(
    ("right", "letter"),
    [
        ("access", "access_answer"),
        ("portability", "portability_answer"),
        ("erasure", "erasure_done"),
    ],
)
def test_a_known_account_gets_the_answer_drafted_for_the_dpo(right: str, letter: str) -> None:
    steps = new_case(right, known=True)
    assert steps[0] == SetDoubt(None)
    assert not of(steps, RequestIdentity)
    assert of(steps, Draft) == [ack(None), Draft(letter, ANSWER_FILL_INS)]
    assert "[[ ... ]]" in str(ANSWER_FILL_INS)  # what the DPO must fill in
    assert statuses(steps) == [S.AWAITING_APPROVAL]


def test_an_objection_beside_access_stops_marketing_before_the_id_request() -> None:
    steps = new_case("access objection")
    assert steps[0] == Suppress("objection")
    assert of(steps, Draft) == [ack("unknown_address"), Draft("objection_done", threaded=True)]
    assert of(steps, RequestIdentity) == [RequestIdentity("unknown_address", pause_allowed=True)]


@pytest.mark.parametrize("kind", ["eid_front", "passport", "driving_licence"])
def test_a_surely_read_id_copy_settles_the_doubt_and_goes(kind: str) -> None:
    steps = new_case("access", findings=(Finding(kind, True, None),))
    assert steps[0] == SetDoubt("unknown_address")
    assert RecordIdentityCheck(True, f"id-copy:{kind}") in steps
    assert DiscardIdCopies(every_document=True) in steps
    assert not of(steps, RequestIdentity)
    assert drafts(steps) == ["acknowledgement", "access_answer"] and ack(None) in steps


@pytest.mark.parametrize(
    ("doubt", "parts"),
    [
        ("third_party", {"body": FOR_MOTHER}),
        ("other_reply_address", {"headers": {"Reply-To": "post@example.test"}}),
    ],
)
def test_a_mandate_or_another_reply_address_waits_for_the_dpos_eye(
    doubt: str, parts: dict[str, Any]
) -> None:
    steps = new_case("access", findings=(FRONT,), **parts)
    assert steps[0] == SetDoubt(doubt)
    assert not of(steps, RecordIdentityCheck) and not of(steps, RequestIdentity)
    assert not of(steps, DiscardIdCopies)  # the document stays, sealed, for the DPO
    assert of(steps, Draft) == [ack(None)]
    assert statuses(steps) == [S.AWAITING_IDENTITY]
    assert steps[-2:] == [IdReceived(NOW), HoldForCheck("eid_front")]


@pytest.mark.parametrize(
    "finding",
    [
        Finding("eid_front", False, None),  # not sure of what it read
        Finding("eid_front", True, False),  # someone else's card
        Finding("other_document", False, None),  # no OCR, or no ID
    ],
)
def test_a_document_the_check_could_not_settle_goes_to_the_dpo(finding: Finding) -> None:
    steps = new_case("access", findings=(finding,))
    assert not of(steps, RecordIdentityCheck) and not of(steps, DiscardIdCopies)
    assert statuses(steps) == [S.AWAITING_IDENTITY]
    assert HoldForCheck(finding.kind) in steps


def test_only_the_card_back_gets_the_front_asked_for() -> None:
    steps = new_case("access", findings=(Finding("eid_back", True, None),))
    assert of(steps, Draft) == [ack("unknown_address")]
    assert of(steps, RequestIdentity) == [RequestIdentity("unknown_address", pause_allowed=True)]
    assert steps[-1] == DiscardIdCopies()  # the back is an ID copy: it goes


def test_a_document_of_a_known_account_without_doubt_is_not_taken_for_an_id() -> None:
    steps = new_case("access", findings=(Finding("other_document", False, None),), known=True)
    assert drafts(steps) == ["acknowledgement", "access_answer"]
    assert steps[-1] == DiscardIdCopies(every_document=False)  # a quote may be the point


REDIRECT = Draft("redirect", {"service_contact": Settings().service_contact}, threaded=True)


@pytest.mark.parametrize(
    ("primary", "triage", "expected"),
    [
        ("other", True, [ack(None)]),
        ("not_a_request", True, [ack(None)]),  # the bot never drops a mail on a guess
        ("other", False, [ack(None)]),
        ("not_a_request", False, [REDIRECT, Transition(S.AWAITING_APPROVAL, "redirect drafted")]),
    ],
)
def test_no_right_read_gets_the_neutral_acknowledgement_or_the_redirect(
    primary: str, triage: bool, expected: list[Step]
) -> None:
    # A new case's only mail has no attachment: no ID copy to settle (a query saved at
    # every new case); with a card attached, it goes, unless the reading waits for the
    # DPO (below).
    assert new_case(primary, triage=triage) == expected
    if not triage:
        assert new_case(primary, findings=(FRONT,)) == [*expected, DiscardIdCopies()]


@pytest.mark.parametrize("sure", [False, True])
def test_a_triaged_mail_keeps_its_id_copy_until_the_reading_is_decided(sure: bool) -> None:
    # Whether an ID is needed, and whether the DPO must look at this one (a mandate, an
    # answer to another address), depends on the reading the DPO has still to decide.
    steps = new_case("access", findings=(Finding("eid_front", sure, None),), triage=True)
    assert not of(steps, DiscardIdCopies)
    # The back of a card alone is never looked at: a front is asked for in any case.
    steps = new_case("access", findings=(Finding("eid_back", True, None),), triage=True)
    assert of(steps, DiscardIdCopies) == [DiscardIdCopies()]


# The DPO's decisions


def triaged(labels: str = "other", **fields: Any) -> Case:
    return case(labels, needs_triage=True, **fields)


def decide(
    on: Case,
    labels: list[str],
    known: bool = False,
    letters: Collection[str] = (),
    sent: Collection[str] = (),
) -> list[Step]:
    return decide_reading(on, labels, DPO, mail(), [], known, Settings(), NOW, letters, sent)


@pytest.mark.parametrize(
    ("on", "labels", "why"),
    [
        (triaged(), ["forget-me"], "vocabulary"),
        (triaged(), [], "vocabulary"),
        (case(), ["erasure"], "not waiting for triage"),
        (triaged(status=S.CLOSED), ["access"], "nothing to decide"),
        (triaged(status=S.AWAITING_APPROVAL), ["access"], "approve or reject them first"),
    ],
)
def test_the_reading_is_decided_only_for_a_triaged_open_case_in_known_words(
    on: Case, labels: list[str], why: str
) -> None:
    with pytest.raises(Refused, match=why):
        decide(on, labels)


def test_without_a_mail_to_read_the_identity_cannot_be_judged() -> None:
    with pytest.raises(Refused, match="no mail"):
        decide_reading(triaged(), ["access"], DPO, None, [], False, Settings(), NOW)


def test_a_decided_objection_takes_effect_at_once() -> None:
    steps = decide(triaged(), ["objection"])
    assert steps[:4] == [
        SetReading(("objection",)),
        Note("reading_decided", {"labels": ["objection"]}, DPO),
        Suppress("objection"),
        Draft("objection_done"),
    ]
    assert [(t.to, t.actor) for t in of(steps, Transition)] == [(S.IN_PROGRESS, DPO)]
    assert not of(steps, RequestIdentity)


def test_a_decided_request_goes_on_as_a_new_case_without_a_second_acknowledgement() -> None:
    unknown = decide(triaged(), ["access"])
    assert of(unknown, Draft) == [Draft("id_request", {"doubt_reason": "unknown_address"})]
    assert of(unknown, RequestIdentity) == [RequestIdentity("unknown_address", pause_allowed=True)]
    known = decide(triaged(), ["access"], known=True)
    assert drafts(known) == ["access_answer"] and statuses(known) == [S.AWAITING_APPROVAL]
    redirect = decide(triaged("not_a_request"), ["not_a_request"])
    assert drafts(redirect) == ["redirect"]
    assert [(t.to, t.actor) for t in of(redirect, Transition)] == [(S.AWAITING_APPROVAL, DPO)]


def test_a_flagged_case_is_not_confirmed_twice_for_the_same_objection() -> None:
    flagged = triaged("objection", status=S.IN_PROGRESS)  # a follow-up then asked for access
    letters = {"objection_done"}  # its objection was confirmed when the case opened
    steps = decide(flagged, ["objection", "access"], known=True, letters=letters)
    assert Suppress("objection") in steps and Draft("objection_done") not in steps
    # Read unsure from the start, the objection was stopped but never confirmed.
    steps = decide(triaged("objection"), ["objection", "access"], known=True)
    assert Suppress("objection") in steps and Draft("objection_done") in steps


def test_a_confirmation_that_is_the_whole_answer_is_never_sent_twice() -> None:
    """Read as objection only after a follow-up's objection was confirmed (while the
    case still held another right, so that letter did not close it): the case closes,
    as the letter's sending would have, without a second letter. Still queued, the
    letter closes it when it goes."""
    waiting = triaged("other access", status=S.IN_PROGRESS)
    letters = {"acknowledgement", "objection_done"}
    steps = decide(waiting, ["objection"], letters=letters, sent=letters)
    assert not of(steps, Draft)
    assert of(steps, CloseAnswered) == [CloseAnswered("confirmed already", DPO)]
    steps = decide(waiting, ["objection"], letters=letters, sent={"acknowledgement"})
    assert not of(steps, Draft) and not of(steps, CloseAnswered)


def test_an_identity_verified_already_is_not_asked_for_again() -> None:
    # Verified by the card sent with the first request; a follow-up then asked more.
    verified = triaged("erasure", status=S.IN_PROGRESS, identity_verified=True)
    steps = decide(verified, ["erasure", "access"])
    assert not of(steps, RequestIdentity)
    assert of(steps, Draft) == [Draft("erasure_done", ANSWER_FILL_INS)]
