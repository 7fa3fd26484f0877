"""Decide whether to ask a requester for an ID copy, and record why (LEGAL.md §2.2-2.3).

Pure: the facts come in (is the sender a known account, what does the mail say, what is
attached), a decision goes out. The detectors read the mail's new text in Dutch, French,
German and English, case- and accent-folded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from classifiers import LABELS
from classifiers.citations import fold
from mailbot.mail.parse import ParsedMail
from mailbot.triage.doubt_signals import (
    asks_answer_elsewhere,
    changes_account_email,
    writes_for_someone_else,
)
from mailbot.triage.identity import ID_KINDS
from mailbot.triage.screen import authentication_failed, screening_flags


class IdentityPolicy(StrEnum):
    ON_DOUBT = "on_doubt"  # the default: the Belgian DPA's reading of Art. 12(6)
    ALWAYS = "always"  # the charter taken literally


THIRD_PARTY: Final = "third_party"
OTHER_REPLY_ADDRESS: Final = "other_reply_address"
CHANGES_ACCOUNT_EMAIL: Final = "changes_account_email"
SENDER_NOT_AUTHENTICATED: Final = "sender_not_authenticated"
UNKNOWN_ADDRESS: Final = "unknown_address"
POLICY_ALWAYS: Final = "policy_always"
# Highest first. The recorded reason is the one the ID check must settle: a third party
# needs a mandate as well as an identity, a foreign reply address could leak the data to a
# stranger even from a known sender, an e-mail change is how accounts are taken over, a
# failed sender authentication (DMARC, or SPF and DKIM) says a known address may be forged,
# and an unknown address is the weakest (people often write from another mailbox of their own).
# policy_always is no doubt at all, only the charter's default.
DOUBT_REASONS: Final = (
    THIRD_PARTY,
    OTHER_REPLY_ADDRESS,
    CHANGES_ACCOUNT_EMAIL,
    SENDER_NOT_AUTHENTICATED,
    UNKNOWN_ADDRESS,
    POLICY_ALWAYS,
)
_EXPLANATIONS: Final = {
    THIRD_PARTY: "someone writes on another person's behalf",
    OTHER_REPLY_ADDRESS: "the answer would go to another address than the sender's",
    CHANGES_ACCOUNT_EMAIL: "the request changes the account's e-mail address",
    SENDER_NOT_AUTHENTICATED: (
        "the sender's authentication failed (DMARC, or SPF and DKIM): the address may be forged"
    ),
    UNKNOWN_ADDRESS: "the sender is not a known account address",
    POLICY_ALWAYS: "the identity policy asks for an ID copy with every request",
}
# Art. 21(2)-(3) and 7(3): acted on at once, never made to wait for an ID.
NO_ID_RIGHTS: Final = frozenset({"objection", "withdraw_consent"})
NOT_RIGHTS: Final = frozenset({"other", "not_a_request"})
SUFFICIENT_ID_KINDS: Final = frozenset({"eid_front", "passport", "driving_licence"})
PENDING_ID_KINDS: Final = frozenset({"other_document"})  # the DPO judges it by eye


@dataclass(frozen=True, slots=True)
class RequesterFacts:
    sender_known: bool
    reply_to_differs: bool
    third_party: bool
    answer_elsewhere: bool
    changes_email: bool
    id_attached_kind: str  # one of mailbot.triage.identity.ID_KINDS
    # The receiving server's Authentication-Results: DMARC failed, or SPF and DKIM did.
    sender_unauthenticated: bool = False

    def __post_init__(self) -> None:
        if self.id_attached_kind not in ID_KINDS:
            raise ValueError(f"id_attached_kind {self.id_attached_kind!r} is not one of {ID_KINDS}")


@dataclass(frozen=True, slots=True)
class IdentityDecision:
    ask_for_id: bool
    doubt_reason: str | None  # one of DOUBT_REASONS
    why: str  # for the DPO and the audit trail; never holds personal data


def requester_facts(
    mail: ParsedMail,
    new_text: str,
    rights: Sequence[str],
    *,
    sender_known: bool,
    id_attached_kind: str,
) -> RequesterFacts:
    """The facts `identity_decision` needs, read from one mail (subject and new text)."""
    text = f"{mail.subject}\n{new_text}"
    reply_to = fold(mail.reply_to or "").strip()
    return RequesterFacts(
        sender_known=sender_known,
        reply_to_differs=bool(reply_to) and reply_to != fold(mail.sender or "").strip(),
        third_party=writes_for_someone_else(text),
        answer_elsewhere=asks_answer_elsewhere(text, sender=mail.sender),
        changes_email=changes_account_email(text, rights),
        id_attached_kind=id_attached_kind,
        sender_unauthenticated=authentication_failed(screening_flags(mail)),
    )


def doubt_reasons(facts: RequesterFacts) -> tuple[str, ...]:
    """Every reason for doubt the facts give, highest priority first (policy aside)."""
    holds = {
        THIRD_PARTY: facts.third_party,
        OTHER_REPLY_ADDRESS: facts.reply_to_differs or facts.answer_elsewhere,
        CHANGES_ACCOUNT_EMAIL: facts.changes_email,
        SENDER_NOT_AUTHENTICATED: facts.sender_unauthenticated,
        UNKNOWN_ADDRESS: not facts.sender_known,
    }
    return tuple(reason for reason, held in holds.items() if held)


def identity_decision(
    rights: Sequence[str], facts: RequesterFacts, policy: IdentityPolicy
) -> IdentityDecision:
    """Whether to ask for an ID copy, the recorded doubt reason, and why (LEGAL.md §2.2-2.3)."""
    unknown = [right for right in rights if right not in LABELS]
    if unknown:
        raise ValueError(f"not classifier labels: {unknown}")
    exercised = {right for right in rights if right not in NOT_RIGHTS}
    if not exercised:
        return IdentityDecision(False, None, "no right is exercised, so there is nothing to verify")
    reasons = doubt_reasons(facts)
    if exercised <= NO_ID_RIGHTS:
        why = "an objection or consent withdrawal is honoured at once, without an ID copy"
        if not facts.sender_known:
            why += "; the sender's own address is what goes on the suppression list"
        return IdentityDecision(False, reasons[0] if reasons else None, _with(why, reasons))
    if policy is IdentityPolicy.ALWAYS:
        reasons = (*reasons, POLICY_ALWAYS)
    if not reasons:
        return IdentityDecision(False, None, "a known account address and nothing casts doubt")
    reason = reasons[0]
    if facts.id_attached_kind in SUFFICIENT_ID_KINDS:
        why = f"{_EXPLANATIONS[reason]}, but an ID copy ({facts.id_attached_kind}) is attached"
        return IdentityDecision(False, reason, _with(why, reasons[1:]))
    if facts.id_attached_kind in PENDING_ID_KINDS:
        why = f"{_EXPLANATIONS[reason]}; the attached document awaits the DPO's review"
        return IdentityDecision(False, reason, _with(why, reasons[1:]))
    why = f"{_EXPLANATIONS[reason]}, so an ID copy is requested"
    if facts.id_attached_kind == "eid_back":
        why += " (only the back of the eID card was sent; the front side is needed)"
    return IdentityDecision(True, reason, _with(why, reasons[1:]))


def _with(why: str, other_reasons: Sequence[str]) -> str:
    also = [reason for reason in other_reasons if reason != POLICY_ALWAYS]
    return f"{why} (also: {', '.join(also)})" if also else why


def pause_eligible(decision: IdentityDecision) -> bool:
    """Whether waiting for the requested ID may pause the clock (LEGAL.md §1.7, first half).

    Only an ID asked for a recorded reason of doubt counts; asking because the policy says
    `always` is no doubt, and without a request there is nothing to wait for. Whether the
    request came in time is `mailbot.cases.deadlines.pause_applies`."""
    return (
        decision.ask_for_id
        and decision.doubt_reason is not None
        and decision.doubt_reason != POLICY_ALWAYS
    )
