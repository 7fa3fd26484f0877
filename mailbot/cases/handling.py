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
from mailbot.cases.models import Attachment, Case, CaseStatus, KnownAccount, Suppression
from mailbot.cases.verification import (
    VERIFYING_KINDS,
    discard_id_copies,
    mark_checked,
    strongest_kind,
)
from mailbot.config import Settings
from mailbot.mail.parse import ParsedMail
from mailbot.replies.drafts import Letterhead, Thread, draft_reply
from mailbot.sealing import Sealer
from mailbot.triage.identity_policy import IdentityPolicy, identity_decision, requester_facts

IMMEDIATE = {"objection": "objection_done", "withdraw_consent": "consent_withdrawn"}
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
    if case.needs_triage or not rights:
        _acknowledge_or_redirect(session, case, thread, bot)
        return
    immediate = [right for right in rights if right in IMMEDIATE]
    for right in immediate:
        suppress(session, case, right)
    if len(immediate) == len(rights):
        # Nothing to verify or prepare: the confirmation is the answer (LEGAL.md §3.5).
        transition(session, case, CaseStatus.IN_PROGRESS, "bot", "takes effect at once")
        for right in immediate:
            draft_reply(session, case, IMMEDIATE[right], {}, bot.letterhead, thread)
        return
    known = (bot.accounts or ImportedAccounts(session)).is_known(case.requester)
    kind = strongest_kind(attachments)
    # Only what the sender wrote now: a quoted "on behalf of" is someone else's words.
    text = new_text(mail.text, forwarded=False)
    facts = requester_facts(mail, text, rights, sender_known=known, id_attached_kind=kind)
    decision = identity_decision(rights, facts, IdentityPolicy(bot.settings.identity_policy))
    case.doubt_reason = decision.doubt_reason
    append_event(session, _id(case), "identity_policy", "bot", {"why": decision.why})
    verified = _verify_with_attached_copy(session, case, attachments, bot, now)
    asking = decision.ask_for_id and not verified
    # A document came along that the check could not read as an ID, and there is doubt:
    # the DPO looks at it (`mailbot cases verify`) before anything is answered.
    review = kind == "other_document" and decision.doubt_reason is not None and not verified
    id_request = {"doubt_reason": decision.doubt_reason} if asking else None
    extra = {"id_request": id_request}
    draft_reply(session, case, "acknowledgement", extra, bot.letterhead, thread)
    if asking:
        assert decision.doubt_reason is not None
        request_identity(session, case, decision.doubt_reason, now)
    elif review:
        transition(session, case, CaseStatus.AWAITING_IDENTITY, "bot", "ID copy to review")
        case.id_received_at = now
        append_event(session, _id(case), "identity_needs_review", "bot", {})
    else:
        prepare_answer(session, case, bot)


def continue_case(
    session: Session,
    case: Case,
    classification: Classification,
    attachments: list[Attachment],
    bot: Handling,
    now: datetime,
) -> None:
    """A follow-up joined `case`."""
    append_event(
        session,
        _id(case),
        "follow_up_read",
        "bot",
        {"reading": classification.primary, "id_document": strongest_kind(attachments)},
    )
    if case.status != CaseStatus.AWAITING_IDENTITY:
        return
    if _verify_with_attached_copy(session, case, attachments, bot, now):
        case.id_received_at = case.id_received_at or now
        draft_reply(session, case, "id_received", {}, bot.letterhead)
        prepare_answer(session, case, bot)
    elif any(a.kind != "none" for a in attachments):
        # A document the check could not read as an ID: the DPO looks and decides
        # (`mailbot cases verify`); the copy stays sealed until then.
        case.id_received_at = now
        session.add(case)
        append_event(session, _id(case), "identity_needs_review", "bot", {})


def prepare_answer(session: Session, case: Case, bot: Handling) -> None:
    """Draft the letter the DPO completes and approves, and put the case on their list."""
    rights = [label for label in case.label_list if label in ANSWERS]
    if not rights:
        return
    template = ANSWERS[rights[0]]
    draft_reply(session, case, template, _ANSWER_FILL_INS, bot.letterhead)
    transition(session, case, CaseStatus.AWAITING_APPROVAL, "bot", f"{template} drafted")


def suppress(session: Session, case: Case, right: str) -> None:
    """The requester's address leaves every marketing list at once (Art. 21(3), 7(3))."""
    address = account_key(case.requester)
    known = session.exec(select(Suppression).where(Suppression.address == address)).first()
    if known is None:
        session.add(Suppression(address=address, reason=right, case_id=case.id))
    append_event(session, _id(case), "suppressed", "bot", {"reason": right})


def _acknowledge_or_redirect(session: Session, case: Case, thread: Thread, bot: Handling) -> None:
    if case.primary == "not_a_request" and not case.needs_triage:
        extra = {"service_contact": bot.settings.service_contact}
        draft_reply(session, case, "redirect", extra, bot.letterhead, thread)
        transition(session, case, CaseStatus.AWAITING_APPROVAL, "bot", "redirect drafted")
        return
    draft_reply(session, case, "acknowledgement", {"id_request": None}, bot.letterhead, thread)


def _verify_with_attached_copy(
    session: Session, case: Case, attachments: list[Attachment], bot: Handling, now: datetime
) -> bool:
    kind = strongest_kind(attachments)
    if kind == "eid_back":
        # The back proves nothing we need and carries the national register number:
        # it goes at once (the requester is asked for the front).
        discard_id_copies(session, case, bot.sealer, now)
    if kind not in VERIFYING_KINDS:
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
