"""What the bot does for a case once a mail opened or continued it.

A new case: marketing objections and consent withdrawals take effect at once (the
address goes on the suppression list and the confirmation goes out); otherwise the
identity policy decides whether an ID copy is needed, the acknowledgement says so, and
once nothing is missing the DPO gets the draft answer to complete and approve.
A follow-up: an ID copy completes the verification and resumes the clock; anything else
(a reminder, a complaint) is recorded on the case for the DPO.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from classifiers import RIGHTS, Classification
from classifiers.quoting import new_text
from mailbot.accounts import AccountDirectory, account_key
from mailbot.cases.audit import append_event
from mailbot.cases.lifecycle import request_identity, transition
from mailbot.cases.models import Case, CaseStatus
from mailbot.cases.suppression import suppress
from mailbot.cases.verification import (
    VERIFYING_KINDS,
    mark_checked,
    settle_id_copies,
    strongest_kind,
    surest_kind,
)
from mailbot.config import Settings
from mailbot.mail.parse import ParsedMail
from mailbot.replies.drafts import Letterhead, Thread, draft_reply
from mailbot.sealing import Sealer
from mailbot.store.models import Attachment, KnownAccount
from mailbot.triage.identity_policy import (
    IdentityPolicy,
    identity_decision,
    pause_eligible,
    requester_facts,
)

IMMEDIATE = {"objection": "objection_done", "withdraw_consent": "consent_withdrawn"}
# Doubts an ID copy alone does not settle: a mandate, or who gets the answer.
NEEDS_THE_DPO = frozenset({"third_party", "other_reply_address"})
# What the DPO looks at when there is doubt and the bot could not settle it.
REVIEWABLE = frozenset({*VERIFYING_KINDS, "other_document"})
# The letter the DPO completes for each right; the first right of the case decides.
ANSWERS = {
    "access": "access_answer",
    "portability": "portability_answer",
    "erasure": "erasure_done",
    "rectification": "rectification_done",
    "restriction": "restriction_done",
}
# What the bot cannot know, left for the DPO as a fill-in of the draft.
_FILL_IN = "[[ ... ]]"
_ANSWER_FILL_INS: dict[str, object] = {
    "changes": [_FILL_IN],
    "recipients_notified": [_FILL_IN],
    "erased": [_FILL_IN],
    "kept": [],
    "restriction_scope": _FILL_IN,
}


@dataclass(frozen=True, slots=True)
class Handling:
    """The parts of the bot a case's handling uses."""

    settings: Settings
    sealer: Sealer
    letterhead: Letterhead
    # Another source of known account addresses (Jaimy's user database, say); None
    # reads the table `mailbot accounts import` fills.
    accounts: AccountDirectory | None = None

    @classmethod
    def of(cls, settings: Settings, sealer: Sealer) -> Handling:
        return cls(settings, sealer, Letterhead.of(settings))


def respond_to_new_case(
    session: Session,
    case: Case,
    mail: ParsedMail,
    attachments: list[Attachment],
    thread: Thread,
    bot: Handling,
    now: datetime,
) -> None:
    rights = [label for label in case.label_list if label in RIGHTS]
    immediate = [right for right in rights if right in IMMEDIATE]
    for right in immediate:
        # Even when the reading is unsure: a marketing stop nobody asked for costs
        # little, one that waits for triage breaks Art. 21(3) (LEGAL.md §3.5).
        suppress(session, case, right)
    if case.needs_triage or not rights:
        _acknowledge_or_redirect(session, case, thread, bot)
    elif len(immediate) == len(rights):
        # Nothing to verify or prepare: the confirmation is the answer.
        transition(session, case, CaseStatus.IN_PROGRESS, "bot", "takes effect at once")
        for right in immediate:
            draft_reply(session, case, IMMEDIATE[right], {}, bot.letterhead, thread)
    else:
        request_with_identity(session, case, mail, attachments, thread, bot, now)
        for right in immediate:
            draft_reply(session, case, IMMEDIATE[right], {}, bot.letterhead, thread)
    settle_id_copies(session, case, bot.sealer, now)


def request_with_identity(
    session: Session,
    case: Case,
    mail: ParsedMail,
    attachments: list[Attachment],
    thread: Thread | None,
    bot: Handling,
    now: datetime,
) -> None:
    """The identity policy, then the acknowledgement (with the ID request when one is
    needed) or, with `thread` None (acknowledged already), the ID request alone."""
    rights = [label for label in case.label_list if label in RIGHTS]
    known = (bot.accounts or ImportedAccounts(session)).is_known(case.requester)
    kind = strongest_kind(attachments)
    # Only what the sender wrote now: a quoted "on behalf of" is someone else's words.
    text = new_text(mail.text, forwarded=False)
    facts = requester_facts(mail, text, rights, sender_known=known, id_attached_kind=kind)
    decision = identity_decision(rights, facts, IdentityPolicy(bot.settings.identity_policy))
    case.doubt_reason = decision.doubt_reason
    append_event(session, _id(case), "identity_policy", "bot", {"why": decision.why})
    verified = _verify_with_attached_copy(session, case, surest_kind(attachments), bot, now)
    # A document the check could not settle, while there is doubt: the DPO looks at it
    # (`mailbot cases verify`) before anything is answered; it stays sealed until then.
    review = not verified and decision.doubt_reason is not None and kind in REVIEWABLE
    asking = decision.ask_for_id and not verified and not review
    id_request = {"doubt_reason": decision.doubt_reason} if asking else None
    if thread is not None:
        extra = {"id_request": id_request}
        draft_reply(session, case, "acknowledgement", extra, bot.letterhead, thread)
    elif id_request is not None:
        draft_reply(session, case, "id_request", id_request, bot.letterhead)
    if asking:
        assert decision.doubt_reason is not None
        request_identity(session, case, decision.doubt_reason, now, pause_eligible(decision))
    elif review:
        transition(session, case, CaseStatus.AWAITING_IDENTITY, "bot", "ID copy to review")
        case.id_received_at = now
        append_event(session, _id(case), "identity_needs_review", "bot", {"kind": kind})
    else:
        prepare_answer(session, case, bot)


def continue_case(
    session: Session,
    case: Case,
    reading: Classification,
    attachments: list[Attachment],
    bot: Handling,
    received_at: datetime,
) -> None:
    """A follow-up joined `case` (it reached the inbox at `received_at`)."""
    kind = strongest_kind(attachments)
    detail = {"reading": reading.primary, "id_document": kind}
    append_event(session, _id(case), "follow_up_read", "bot", detail)
    _rights_in_follow_up(session, case, reading, bot)
    if case.status == CaseStatus.AWAITING_IDENTITY and case.identity_verified is None:
        _identity_in_follow_up(session, case, attachments, bot, received_at)
    settle_id_copies(session, case, bot.sealer, received_at)


def _rights_in_follow_up(
    session: Session, case: Case, reading: Classification, bot: Handling
) -> None:
    """A right the follow-up adds: marketing stops at once, anything else goes to the DPO."""
    if reading.needs_triage:
        return
    for right in (label for label in reading.labels if label in IMMEDIATE):
        suppress(session, case, right)
        if right not in case.label_list:
            draft_reply(session, case, IMMEDIATE[right], {}, bot.letterhead)
    added = [r for r in reading.labels if r in RIGHTS and r not in IMMEDIATE]
    added = [right for right in added if right not in case.label_list]
    if added:
        case.needs_triage = True  # on the DPO's list: the case asks more than it did
        session.add(case)
        append_event(session, _id(case), "follow_up_new_rights", "bot", {"rights": added})


def _identity_in_follow_up(
    session: Session,
    case: Case,
    attachments: list[Attachment],
    bot: Handling,
    received_at: datetime,
) -> None:
    kind = strongest_kind(attachments)
    if kind == "none":
        return
    if kind == "eid_back":
        # Only the back: it goes at once and the requester is asked for the front.
        extra = {"doubt_reason": case.doubt_reason or "unknown_address"}
        draft_reply(session, case, "id_request", extra, bot.letterhead)
        return
    case.id_received_at = received_at  # the clock resumes from the mail's arrival
    session.add(case)
    if _verify_with_attached_copy(session, case, surest_kind(attachments), bot, received_at):
        draft_reply(session, case, "id_received", {}, bot.letterhead)
        prepare_answer(session, case, bot)
    else:
        append_event(session, _id(case), "identity_needs_review", "bot", {"kind": kind})


def prepare_answer(session: Session, case: Case, bot: Handling) -> None:
    """Draft the letter the DPO completes and approves, and put the case on their list."""
    rights = [label for label in case.label_list if label in ANSWERS]
    if not rights:
        return
    template = ANSWERS[rights[0]]
    draft_reply(session, case, template, _ANSWER_FILL_INS, bot.letterhead)
    transition(session, case, CaseStatus.AWAITING_APPROVAL, "bot", f"{template} drafted")


def _acknowledge_or_redirect(session: Session, case: Case, thread: Thread, bot: Handling) -> None:
    if case.primary == "not_a_request" and not case.needs_triage:
        extra = {"service_contact": bot.settings.service_contact}
        draft_reply(session, case, "redirect", extra, bot.letterhead, thread)
        transition(session, case, CaseStatus.AWAITING_APPROVAL, "bot", "redirect drafted")
        return
    draft_reply(session, case, "acknowledgement", {"id_request": None}, bot.letterhead, thread)


def _verify_with_attached_copy(
    session: Session, case: Case, kind: str, bot: Handling, now: datetime
) -> bool:
    """An ID copy the check read as such settles the doubts an ID can settle; a mandate
    (third party) or another reply address need the DPO's eye."""
    if kind not in VERIFYING_KINDS or case.doubt_reason in NEEDS_THE_DPO:
        return False
    mark_checked(session, case, True, f"id-copy:{kind}", "bot", now, bot.sealer)
    return True


class ImportedAccounts:
    """The directory `mailbot accounts import` fills: the known_account table."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def is_known(self, address: str) -> bool:
        query = select(KnownAccount.id).where(KnownAccount.address == account_key(address))
        return self.session.exec(query).first() is not None


def _id(case: Case) -> int:
    assert case.id is not None
    return case.id
