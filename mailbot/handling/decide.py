"""What the bot does for a case, decided from values: pure functions returning steps.

A new case: marketing objections and consent withdrawals take effect at once (the
address goes on the suppression list and the confirmation goes out); otherwise the
identity policy decides whether an ID copy is needed, the acknowledgement says so, and
once nothing is missing the DPO gets the draft answer to complete and approve.
A follow-up: an ID copy completes the verification and resumes the clock; anything else
(a reminder, a complaint) is recorded on the case for the DPO. The DPO's own decisions
on a case (its reading, an identity checked by eye) go on from there the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from classifiers import RIGHTS, Classification
from classifiers.quoting import new_text
from mailbot.cases.models import Case, CaseStatus
from mailbot.cases.verification import VERIFYING_KINDS
from mailbot.config import Settings
from mailbot.handling.id_copies import awaits_review, keeps_id_copies, settle_id_copies
from mailbot.handling.plan import (
    BOT,
    CloseAnswered,
    DiscardIdCopies,
    Draft,
    FlagForTriage,
    HoldForCheck,
    IdReceived,
    Note,
    RecordIdentityCheck,
    RejectDraft,
    RenewIdWait,
    RequestIdentity,
    SetDoubt,
    Step,
    Suppress,
    Transition,
)
from mailbot.mail.parse import ParsedMail
from mailbot.replies.catalogue import TAKES_EFFECT_AT_ONCE, answer_letter
from mailbot.triage.identity import Finding, strongest_kind, surest_kind
from mailbot.triage.identity_policy import (
    IdentityPolicy,
    identity_decision,
    pause_eligible,
    requester_facts,
)

# Doubts an ID copy alone does not settle: a mandate, or who gets the answer.
NEEDS_THE_DPO = frozenset({"third_party", "other_reply_address"})
# What the DPO looks at when there is doubt and the bot could not settle it.
REVIEWABLE = frozenset({*VERIFYING_KINDS, "other_document"})
# What the bot cannot know, left for the DPO as a fill-in of the draft.
_FILL_IN = "[[ ... ]]"
ANSWER_FILL_INS: dict[str, object] = {
    "changes": [_FILL_IN],
    "recipients_notified": [_FILL_IN],
    "erased": [_FILL_IN],
    "kept": [],
    "restriction_scope": _FILL_IN,
}


def rights_of(labels: Sequence[str]) -> list[str]:
    return [label for label in labels if label in RIGHTS]


class NewReading(Protocol):
    """What a new case's first answer depends on: a case row, or the NewCase it will be."""

    @property
    def primary(self) -> str: ...
    @property
    def needs_triage(self) -> bool: ...
    @property
    def label_list(self) -> list[str]: ...


def respond_to_new_case(
    case: NewReading,
    mail: ParsedMail,
    findings: Sequence[Finding],
    sender_known: bool,
    settings: Settings,
    now: datetime,
) -> list[Step]:
    """Everything a newly opened case gets, its letters threaded to the mail."""
    rights = rights_of(case.label_list)
    immediate = [right for right in rights if right in TAKES_EFFECT_AT_ONCE]
    # Even when the reading is unsure: a marketing stop nobody asked for costs little,
    # one that waits for triage breaks Art. 21(3) (LEGAL.md §3.5).
    steps: list[Step] = [Suppress(right) for right in immediate]
    review = False
    if case.needs_triage or not rights:
        steps += acknowledge_or_redirect(case.primary, case.needs_triage, settings)
        # Unsure what it asks: whether an ID is needed, and so whether the DPO must look
        # at the one attached, waits for the DPO's reading.
        review = case.needs_triage and any(f.kind in VERIFYING_KINDS for f in findings)
    elif len(immediate) == len(rights):
        # Nothing to verify or prepare: the confirmation is the answer.
        steps.append(Transition(CaseStatus.IN_PROGRESS, "takes effect at once"))
        steps += [Draft(TAKES_EFFECT_AT_ONCE[r], threaded=True) for r in immediate]
    else:
        identity, review = request_with_identity(
            case.label_list, mail, findings, sender_known, settings, now, threaded=True
        )
        steps += identity
        steps += [Draft(TAKES_EFFECT_AT_ONCE[r], threaded=True) for r in immediate]
    # A new case has this one mail: without attachments it holds no ID copy to settle.
    return steps + (settle_id_copies(review) if mail.attachments or findings else [])


def acknowledge_or_redirect(primary: str, needs_triage: bool, settings: Settings) -> list[Step]:
    if primary == "not_a_request" and not needs_triage:
        extra = {"service_contact": settings.service_contact}
        return [
            Draft("redirect", extra, threaded=True),
            Transition(CaseStatus.AWAITING_APPROVAL, "redirect drafted"),
        ]
    return [Draft("acknowledgement", {"id_request": None}, threaded=True)]


def request_with_identity(
    labels: Sequence[str],
    mail: ParsedMail,
    findings: Sequence[Finding],
    sender_known: bool,
    settings: Settings,
    now: datetime,
    threaded: bool,
    answered: Collection[str] = (),
) -> tuple[list[Step], bool]:
    """The identity policy, then the acknowledgement (with the ID request when one is
    needed) or, not `threaded` (acknowledged already), the ID request alone. Also says
    whether a document now waits for the DPO's eye (and so must be kept). `answered`:
    rights an answer sent already answered (Case.answered_rights)."""
    rights = rights_of(labels)
    kind = strongest_kind(f.kind for f in findings)
    # Only what the sender wrote now: a quoted "on behalf of" is someone else's words.
    text = new_text(mail.text, forwarded=False)
    facts = requester_facts(mail, text, rights, sender_known=sender_known, id_attached_kind=kind)
    decision = identity_decision(rights, facts, IdentityPolicy(settings.identity_policy))
    steps: list[Step] = [
        SetDoubt(decision.doubt_reason),
        Note("identity_policy", {"why": decision.why}),
    ]
    verified = verify_with_attached_copy(surest_kind(findings), decision.doubt_reason)
    steps += verified
    # A document the check could not settle, while there is doubt: the DPO looks at it
    # (`mailbot cases verify`) before anything is answered; it stays sealed until then.
    review = not verified and decision.doubt_reason is not None and kind in REVIEWABLE
    asking = decision.ask_for_id and not verified and not review
    id_request = {"doubt_reason": decision.doubt_reason} if asking else None
    if threaded:
        steps.append(Draft("acknowledgement", {"id_request": id_request}, threaded=True))
    elif id_request is not None:
        steps.append(Draft("id_request", id_request))
    if asking:
        assert decision.doubt_reason is not None
        steps.append(RequestIdentity(decision.doubt_reason, pause_eligible(decision)))
    elif review:
        steps += [
            Transition(CaseStatus.AWAITING_IDENTITY, "ID copy to review"),
            IdReceived(now),
            HoldForCheck(kind),
        ]
    else:
        steps += answer_or_close(labels, answered)
    return steps, review


def continue_case(
    case: Case,
    reading: Classification,
    findings: Sequence[Finding],
    received_at: datetime,
    pending_closures: Sequence[int] = (),
    closure_approved: bool = False,
) -> list[Step]:
    """A follow-up joined `case` (it reached the inbox at `received_at`).
    `pending_closures`: the case's "not identified" letters awaiting approval;
    `closure_approved`: one was approved (queued or sent)."""
    kind = strongest_kind(f.kind for f in findings)
    steps: list[Step] = [
        Note("follow_up_read", {"reading": reading.primary, "id_document": kind}),
        *rights_in_follow_up(case.label_list, reading),
    ]
    flagged = any(isinstance(step, FlagForTriage) for step in steps)
    review = keeps_id_copies(case, flagged=flagged)
    if case.status == CaseStatus.AWAITING_IDENTITY and case.identity_verified is None:
        identity, review = identity_in_follow_up(case, findings, received_at)
        steps += identity
    elif pending_closures and case.identity_verified is None:
        identity, review = late_identity(case, findings, received_at, pending_closures)
        steps += identity
    elif still_owes_an_id(case) and not closure_approved:
        if flagged or case.needs_triage:  # the reading first; the card waits for it
            identity, review = held_unread(findings, received_at, review)
        else:
            identity, review = identity_in_follow_up(case, findings, received_at)
        steps += identity
    return steps + settle_id_copies(review)


def held_unread(
    findings: Sequence[Finding], received_at: datetime, review: bool
) -> tuple[list[Step], bool]:
    """A card that came with a new request the DPO must read first: it is not checked
    yet, but its arrival resumes the clock, and it waits for the DPO's check (which the
    reading, or `cases verify` once the reading is decided, settles)."""
    kind = strongest_kind(f.kind for f in findings)
    if kind not in REVIEWABLE:
        return [], review
    return [IdReceived(received_at), HoldForCheck(kind)], True


def still_owes_an_id(case: Case) -> bool:
    """An ID copy was asked for and never checked, and the case went on without waiting
    for it (the DPO rejected the clock's "not identified" closure; another draft may
    still wait): a card arriving now counts as one asked for (checked at once, or held
    until the DPO's reading of a triaged case). Not once nothing casts doubt or the
    case asks nothing an identity is needed for."""
    return (
        case.status in (CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_APPROVAL)
        and case.id_requested_at is not None
        and case.identity_verified is None
        and case.doubt_reason is not None
        and any(right not in TAKES_EFFECT_AT_ONCE for right in rights_of(case.label_list))
    )


def rights_in_follow_up(labels: Sequence[str], reading: Classification) -> list[Step]:
    """A right the follow-up adds: marketing stops at once, anything else goes to the DPO."""
    if reading.needs_triage:
        return []
    steps: list[Step] = []
    for right in (label for label in reading.labels if label in TAKES_EFFECT_AT_ONCE):
        steps.append(Suppress(right))
        if right not in labels:
            steps.append(Draft(TAKES_EFFECT_AT_ONCE[right]))
    added = [r for r in rights_of(reading.labels) if r not in TAKES_EFFECT_AT_ONCE]
    added = [right for right in added if right not in labels]
    if added:
        steps += [FlagForTriage(), Note("follow_up_new_rights", {"rights": added})]
    return steps


# Why a card's back alone renews the wait for an ID copy (and rejects a waiting closure).
BACK_ALONE = "the back of the card came: the front is asked for"


def identity_in_follow_up(
    case: Case, findings: Sequence[Finding], received_at: datetime
) -> tuple[list[Step], bool]:
    """A document in a follow-up of a case waiting for one; also says whether a
    document then waits for the DPO's eye."""
    kind = strongest_kind(f.kind for f in findings)
    if kind == "none":
        return [], awaits_review(case)
    if kind == "eid_back":
        # Only the back: it goes at once and the requester is asked for the front, with
        # as long to send it as any ID copy gets, however late the back came.
        extra = {"doubt_reason": case.doubt_reason or "unknown_address"}
        renew = [RenewIdWait(received_at, BACK_ALONE)] if case.id_requested_at else []
        return [Draft("id_request", extra), *renew], awaits_review(case)
    steps: list[Step] = [IdReceived(received_at)]  # the clock resumes from its arrival
    verified = verify_with_attached_copy(surest_kind(findings), case.doubt_reason)
    if verified:
        return [
            *steps,
            *verified,
            Draft("id_received"),
            *answer_or_close(case.label_list, case.answered_list),
        ], False
    return [*steps, HoldForCheck(kind)], True


def late_identity(
    case: Case, findings: Sequence[Finding], received_at: datetime, closures: Sequence[int]
) -> tuple[list[Step], bool]:
    """A document that came after the clock drafted the "not identified" closure, before
    the DPO approved it: the requester did answer, so it counts as if on time (a
    doubtful one waits for the DPO's eye, and the closure cannot be approved until
    then). Verified, the closure is rejected; so it is when a card back alone gets the
    front asked for (the closure comes back after a full wait for that front)."""
    steps, review = identity_in_follow_up(case, findings, received_at)
    if any(isinstance(step, RecordIdentityCheck) for step in steps):
        why = "ID copy arrived"
    elif any(isinstance(step, RenewIdWait) for step in steps):
        why = BACK_ALONE
    else:
        return steps, review
    return [*(RejectDraft(draft, why, "bot") for draft in closures), *steps], review


def verify_with_attached_copy(kind: str, doubt_reason: str | None) -> list[Step]:
    """An ID copy the check read as such settles the doubts an ID can settle; a mandate
    (third party) or another reply address need the DPO's eye. Empty: not verified."""
    if kind not in VERIFYING_KINDS or doubt_reason in NEEDS_THE_DPO:
        return []
    return [RecordIdentityCheck(True, f"id-copy:{kind}"), DiscardIdCopies(every_document=True)]


def answer_or_close(
    labels: Sequence[str], answered: Collection[str], actor: str = BOT
) -> list[Step]:
    """`prepare_answer`; or, when an answer sent before a follow-up was read answered
    every right that needs one already (Case.answered_rights), the case closes."""
    steps = prepare_answer(labels, answered)
    return steps or answered_already(labels, answered, actor)


def answered_already(
    labels: Sequence[str], answered: Collection[str], actor: str = BOT
) -> list[Step]:
    """The case closes when an answer sent already answered every right of `labels`
    that needs one (and there is one); else nothing."""
    needing = [right for right in rights_of(labels) if right not in TAKES_EFFECT_AT_ONCE]
    if not needing or any(right not in answered for right in needing):
        return []
    return [
        Transition(CaseStatus.IN_PROGRESS, "answered already", actor),
        CloseAnswered("answered already", actor),
    ]


def prepare_answer(labels: Sequence[str], answered: Collection[str] = ()) -> list[Step]:
    """Draft the letter the DPO completes and approves, and put the case on their list.
    `answered`: rights an answer sent already answered (Case.answered_rights)."""
    template = answer_letter([label for label in labels if label not in answered])
    if template is None:
        return []
    return [
        Draft(template, ANSWER_FILL_INS),
        Transition(CaseStatus.AWAITING_APPROVAL, f"{template} drafted"),
    ]
