"""The DPO's decisions on a case, decided from values: pure functions returning steps.

Settling a triaged case's reading and an identity checked by eye go on from there the
way the bot's own handling would (`mailbot.handling.decide`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from classifiers import LABELS
from mailbot.cases.models import Case, CaseStatus
from mailbot.cases.refused import Refused
from mailbot.config import Settings
from mailbot.handling.decide import (
    answer_or_close,
    prepare_answer,
    request_with_identity,
    rights_of,
)
from mailbot.handling.id_copies import settle_id_copies
from mailbot.handling.plan import (
    CloseAnswered,
    DiscardIdCopies,
    Draft,
    Note,
    RecordIdentityCheck,
    RejectDraft,
    SetReading,
    Step,
    Suppress,
    Transition,
)
from mailbot.mail.parse import ParsedMail
from mailbot.replies.catalogue import TAKES_EFFECT_AT_ONCE
from mailbot.triage.identity import Finding


def decide_reading(
    case: Case,
    labels: Sequence[str],
    actor: str,
    first_mail: ParsedMail | None,
    findings: Sequence[Finding],
    sender_known: bool,
    settings: Settings,
    now: datetime,
    letters: Collection[str] = (),
    sent: Collection[str] = (),
) -> list[Step]:
    """The DPO names what a triaged case asks; it then goes on as a new one would have:
    marketing stops at once, the identity policy runs on the original mail, an ID
    request or the draft answer follows; a misdirected mail gets the redirect.
    `letters`: the kinds of the case's letters not rejected, `sent`: those sent. A
    confirmation among them is not drafted again (a case flagged by a follow-up
    confirmed its first rights already); when the confirmations sent are the whole
    answer, the case closes. An identity verified already is not asked for again."""
    unknown = [label for label in labels if label not in LABELS]
    if not labels or unknown:
        raise Refused(f"not labels of the vocabulary: {unknown or 'none given'}")
    if not case.needs_triage:
        raise Refused(f"{case.reference} is not waiting for triage")
    if case.status == CaseStatus.AWAITING_APPROVAL:
        # The reading would draft the answer again beside the one waiting.
        raise Refused(
            f"{case.reference}: letters wait for approval or to be sent; approve or reject"
            " them first (an answer sent before the reading leaves the case open for it)"
        )
    if case.status not in (CaseStatus.NEW, CaseStatus.IN_PROGRESS):
        raise Refused(f"{case.reference} is {case.status}: nothing to decide")
    steps: list[Step] = [
        SetReading(tuple(labels)),
        Note("reading_decided", {"labels": list(labels)}, actor),
    ]
    rights = rights_of(labels)
    immediate = [right for right in rights if right in TAKES_EFFECT_AT_ONCE]
    confirmations = [TAKES_EFFECT_AT_ONCE[right] for right in immediate]
    # An answer or refusal sent before a follow-up flagged the case (outcomes._settled_in_part)
    # answered its rights then: only the others are answered now.
    answered = case.answered_list
    unanswered = [r for r in rights if r not in TAKES_EFFECT_AT_ONCE and r not in answered]
    for right in immediate:
        steps.append(Suppress(right))
        if TAKES_EFFECT_AT_ONCE[right] not in letters:  # never twice
            steps.append(Draft(TAKES_EFFECT_AT_ONCE[right]))
    review = False
    if labels[0] == "not_a_request":
        steps += [
            Draft("redirect", {"service_contact": settings.service_contact}),
            Transition(CaseStatus.AWAITING_APPROVAL, "redirect drafted", actor),
        ]
    elif unanswered and case.identity_verified:
        why = f"identity verified already ({case.identity_method})"
        steps += [Note("identity_policy", {"why": why}), *prepare_answer(labels, answered)]
    elif unanswered:
        if first_mail is None:
            raise Refused(f"{case.reference} has no mail to read")
        identity, review = request_with_identity(
            labels, first_mail, findings, sender_known, settings, now, False, answered
        )
        steps += identity
    elif rights:
        steps.append(Transition(CaseStatus.IN_PROGRESS, "takes effect at once", actor))
        # A confirmation still to go closes the case when sent (replies.outcomes).
        if all(letter in sent for letter in confirmations):
            # The rest, if any, by an answer sent before the reading.
            why = "answered already" if len(immediate) < len(rights) else "confirmed already"
            steps.append(CloseAnswered(why, actor))
    return steps + settle_id_copies(review)


def verify_by_eye(
    case: Case, verified: bool, actor: str, pending_closures: Sequence[int]
) -> list[Step]:
    """The DPO checked the ID copy: the facts are recorded and every copy goes. Verified,
    the answer is prepared (and the clock's "not identified" draft, pointless now,
    rejected); not verified, the Art. 12(2) letter is drafted for approval."""
    if case.status == CaseStatus.CLOSED:
        raise Refused(f"{case.reference} is closed")
    if case.identity_verified is not None:
        raise Refused(f"{case.reference}: identity was already checked")
    if case.needs_triage and case.status in (CaseStatus.NEW, CaseStatus.IN_PROGRESS):
        # Whether an ID is needed, and the answer it leads to, depend on the reading.
        raise Refused(f"{case.reference} waits for its reading: decide what it asks first")
    steps: list[Step] = [
        RecordIdentityCheck(verified, "dpo-review", actor),
        DiscardIdCopies(every_document=True, actor=actor),
    ]
    if verified:
        steps += [RejectDraft(draft, "identity verified", actor) for draft in pending_closures]
        steps.append(Transition(CaseStatus.IN_PROGRESS, "identity verified", actor))
        steps += answer_or_close(case.label_list, case.answered_list, actor)
    elif not pending_closures:
        # Art. 12(2): we cannot act; the letter saying so (with the remedies) waits for
        # the DPO's approval like every refusal.
        steps += [
            Draft("not_identified"),
            Transition(CaseStatus.AWAITING_APPROVAL, "not identified", actor),
        ]
    return steps
