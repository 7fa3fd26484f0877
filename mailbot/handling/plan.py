"""The vocabulary of plans: the steps a decision returns and the recorder applies.

Each step is a value saying what changes, never how: the recorder
(`mailbot.handling.record`) turns it into rows and audit events, in order. Steps
carry the actor when a person caused them; everything else is the bot's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from mailbot.cases.models import CaseStatus
from mailbot.store.models import Disposition

BOT = "bot"


@dataclass(frozen=True, slots=True)
class Suppress:
    """The requester's address leaves every marketing list (objection, withdrawal)."""

    right: str
    actor: str = BOT


@dataclass(frozen=True, slots=True)
class Transition:
    to: CaseStatus
    why: str
    actor: str = BOT


@dataclass(frozen=True, slots=True)
class Draft:
    """A letter from the catalogue; `threaded`: in reply to the mail being handled
    (else it continues the case's conversation)."""

    template: str
    extra: Mapping[str, object] = field(default_factory=dict)
    threaded: bool = False


@dataclass(frozen=True, slots=True)
class Note:
    """An audit event with nothing else to change."""

    kind: str
    data: Mapping[str, object]
    actor: str = BOT


@dataclass(frozen=True, slots=True)
class SetDoubt:
    """Why the requester's identity is in doubt (None: no doubt)."""

    reason: str | None


@dataclass(frozen=True, slots=True)
class RequestIdentity:
    """Ask for the card front; the clock pauses only when `pause_allowed` (LEGAL.md §1.7)."""

    doubt_reason: str
    pause_allowed: bool


@dataclass(frozen=True, slots=True)
class IdReceived:
    """A document arrived: the paused clock resumes from `at`, or from an earlier one's
    arrival (a second card while the first waits for the DPO stops no clock again)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class RecordIdentityCheck:
    verified: bool
    method: str
    actor: str = BOT


@dataclass(frozen=True, slots=True)
class DiscardIdCopies:
    """Cut the case's ID copies out of its stored mails; `every_document` also the
    documents the check did not read as an identity document (once the identity is
    checked, nothing of the kind is kept)."""

    every_document: bool = False
    actor: str = BOT


@dataclass(frozen=True, slots=True)
class HoldForCheck:
    """A document (of `kind`) the bot could not settle waits for the DPO's eye: it stays
    sealed until the check (`mailbot.handling.id_copies.awaits_review`)."""

    kind: str


@dataclass(frozen=True, slots=True)
class FlagForTriage:
    """The case asks more than it did: it goes on the DPO's list."""


@dataclass(frozen=True, slots=True)
class SetReading:
    """The DPO's reading of what the case asks, primary first."""

    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RejectDraft:
    outbound_id: int
    why: str
    actor: str


@dataclass(frozen=True, slots=True)
class RenewIdWait:
    """The requester answered the ID request, though not with what proves who they are
    (the back of a card alone): the wait for the copy, and for the "not identified"
    closure at its end, starts again from `at`."""

    at: datetime
    why: str


@dataclass(frozen=True, slots=True)
class SetExtensionReason:
    reason: str


@dataclass(frozen=True, slots=True)
class CloseAnswered:
    """The case's answer went out already (a confirmation sent before the DPO's reading
    said it was the whole answer): it closes now, as that letter's sending would have."""

    why: str
    actor: str


Step = (
    Suppress
    | Transition
    | Draft
    | Note
    | SetDoubt
    | RequestIdentity
    | IdReceived
    | RecordIdentityCheck
    | DiscardIdCopies
    | HoldForCheck
    | FlagForTriage
    | SetReading
    | RejectDraft
    | RenewIdWait
    | SetExtensionReason
    | CloseAnswered
)


@dataclass(frozen=True, slots=True)
class NewCase:
    """A case to open for the mail: everything but its reference, which the recorder
    draws from the database."""

    requester: str
    requester_name: str
    language: str
    detected_language: str
    primary: str
    labels: tuple[str, ...]
    confidence: float
    needs_triage: bool
    received_at: datetime
    receipt_date: date
    legal_due: date
    target_due: date
    extended_due: date
    rule_version: str
    id_document: str

    @property
    def label_list(self) -> list[str]:
        return list(self.labels)


@dataclass(frozen=True, slots=True)
class MailPlan:
    """What becomes of one inbound mail.

    `case_id`: the existing case it joins (a follow-up, or a copy of a mail of that
    case); `new_case`: the case it opens. `steps` apply to that case, in order.
    `attachments`: record its attachments' rows ("checked": with the ID check's
    findings; "unchecked": as rows only, to mark them gone). `erase`: its content goes
    at once (a copy of a mail the DPO dismissed)."""

    disposition: Disposition
    reason: str | None = None
    sender: str | None = None
    message_id: str | None = None
    flags: tuple[str, ...] = ()
    attachments: Literal["checked", "unchecked"] | None = None
    erase: bool = False
    case_id: int | None = None
    new_case: NewCase | None = None
    steps: tuple[Step, ...] = ()
    # Facts the recorder writes on the mail row only once the mail was read.
    read: bool = False
