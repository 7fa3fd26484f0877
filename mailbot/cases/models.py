"""The case tables (SQLModel on SQLAlchemy): cases, their audit events, replies, and the
suppression list.

A reply is a row with a `status` from draft to sent, so a crash anywhere leaves rows
the worker resumes from. The stored mail these build on is in `mailbot.store.models`.
Schema changes go through the Alembic migrations in `mailbot/migrations/`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Connection, Index, Integer, Text, event, inspect, text
from sqlmodel import Field, SQLModel

from mailbot.sealing import Sealer
from mailbot.store.models import SealedString, SealedText, UTCDateTime, bound_sealer, utcnow


class CaseStatus(StrEnum):
    NEW = "new"
    AWAITING_IDENTITY = "awaiting_identity"
    IN_PROGRESS = "in_progress"
    AWAITING_APPROVAL = "awaiting_approval"
    ANSWERED = "answered"
    CLOSED = "closed"


class CaseOutcome(StrEnum):
    """How a closed case ended (DESIGN.md: recorded outcomes beside the status)."""

    ANSWERED = "answered"
    REFUSED = "refused"
    NOT_IDENTIFIED = "not_identified"
    WITHDRAWN = "withdrawn"
    NOT_A_REQUEST = "not_a_request"  # redirected customer-service mail


class OutboundStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # a draft the DPO must approve (LEGAL.md §4)
    REJECTED = "rejected"  # the DPO refused the draft; never sent
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # gave up after the configured attempts; the DPO sees it


def _version_column() -> Column[int]:
    """Counts a row's writes. Every UPDATE of a case or a reply names the version it read
    and fails (StaleDataError) when another writer has moved the row on meanwhile: the
    DPO, a colleague in another web process, the worker, a standby that took over.
    Without it the later write won, from a read the first had made stale (a closed
    case's clock set going by a reply recorded as sent; a draft the worker rejected
    when the case closed, queued again by an approval read before). On SQLite a
    transaction reads outside any transaction until its first write (pysqlite begins one
    there), on PostgreSQL under READ COMMITTED: neither would see the conflict."""
    return Column("version", Integer, nullable=False, server_default="1")


_CASE_VERSION = _version_column()
# How often the worker decides again on a case that moved on under it before giving up
# (each try reads the case afresh; a person acts in seconds, the worker in milliseconds).
CASE_CHANGED_TRIES = 3


class Case(SQLModel, table=True):
    """A data-subject request being handled, with its legal clock."""

    __tablename__ = "privacy_case"
    __mapper_args__ = {"version_id_col": _CASE_VERSION}
    __table_args__ = (
        # Covers every column the period figures sum (mailbot.figures), so a dashboard
        # over a million cases reads this index, never the wide rows.
        Index(
            "ix_privacy_case_figures",
            "receipt_date",
            "outcome",
            "closed_on_time",
            "closed_by_target",
            "extension_notified_on",
            "late_extension_notice",
            "id_requested_at",
            "acknowledge_seconds",
            "purged_at",
            "refusals_sent",
            "refusals_with_remedies",
        ),
        # The open cases only (partial): the dashboard places them against their deadline.
        Index(
            "ix_privacy_case_open",
            "receipt_date",
            "status",
            "clock_paused",
            "id_requested_at",
            "extension_notified_on",
            "legal_due",
            "extended_due",
            "outcome",
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        # The median time to acknowledge walks this one in order.
        Index("ix_privacy_case_acknowledge", "acknowledge_seconds", "receipt_date", "outcome"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=40)
    requester: str = Field(max_length=320, index=True)
    # Sealed (SealedText). The queue finds a case by a word of the name through
    # `name_search`: keyed hashes of those words (mailbot.cases.name_search).
    requester_name: str = Field(
        default="", sa_type=SealedString("privacy_case.requester_name", 300)
    )
    name_search: str = Field(default="", sa_type=Text)
    language: str = Field(max_length=8)  # reply language: nl, fr, de or en
    detected_language: str = Field(max_length=8)
    primary: str = Field(max_length=32)
    labels: str = Field(max_length=300)  # space-separated, primary first
    # Rights an answer sent before a follow-up was read answered already (space-
    # separated): the answer drafted after the reading is for the others.
    answered_rights: str = Field(default="", max_length=300)
    confidence: float
    needs_triage: bool = False
    status: str = Field(default=CaseStatus.NEW, max_length=32, index=True)
    received_at: datetime = Field(sa_type=UTCDateTime)
    receipt_date: date
    legal_due: date
    target_due: date
    extended_due: date
    rule_version: str = Field(max_length=40)
    id_document: str = Field(default="none", max_length=32)
    # Identity facts, the only ones LEGAL.md §2.5 lets us keep after the check.
    doubt_reason: str | None = Field(default=None, max_length=40)
    id_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    id_received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    identity_verified: bool | None = None  # None: not checked (or not needed)
    # A document received waits for the DPO's eye (`mailbot cases verify`): kept sealed
    # until the check is recorded, the check proves unneeded or the case closes.
    id_copy_in_review: bool = False
    identity_method: str | None = Field(default=None, max_length=60)
    identity_checked_by: str | None = Field(default=None, max_length=200)
    identity_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    clock_paused: bool = False  # waiting for the ID pauses the clock (LEGAL.md §1.7)
    id_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The DPO rejected the "not identified" closure to wait longer for the copy: the
    # clock drafts it again `id_close_days` after this, not never (mailbot.schedule).
    id_wait_renewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    extension_reason: str | None = Field(default=None, sa_type=Text)
    extension_notified_on: date | None = None
    dpo_warned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=32)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Facts recorded when they happen, for the figures (mailbot.cases.timeliness):
    closed_on_time: bool | None = None  # by the legal deadline; None while open
    closed_by_target: bool | None = None  # by the internal target; None while open
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # first answer
    acknowledge_seconds: int | None = None  # from receipt to the first answer, whole seconds
    late_extension_notice: bool = False  # an extension notice left after the deadline
    refusals_sent: int = 0  # refusal-type letters sent (replies.outcomes.REFUSING_LETTERS)
    refusals_with_remedies: int = 0  # of which carried complaint and court information
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # anonymised
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1, sa_column=_CASE_VERSION)

    @property
    def label_list(self) -> list[str]:
        return self.labels.split()

    @property
    def answered_list(self) -> list[str]:
        return self.answered_rights.split()


_WORD = re.compile(r"\w+")


def name_words(text: str) -> list[str]:
    """The words a name is found by: casefolded, two letters or more."""
    return [word for word in _WORD.findall(text.casefold()) if len(word) > 1]


def name_search_value(name: str, sealer: Sealer) -> str:
    """What `Case.name_search` holds for `name`: its words' keyed hashes, space-framed
    so a LIKE '% token %' finds a whole word."""
    tokens = sorted({sealer.search_token(word) for word in name_words(name)})
    return f" {' '.join(tokens)} " if tokens else ""


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _index_name(_mapper: Any, connection: Connection, case: Case) -> None:
    if inspect(case).attrs.requester_name.history.has_changes() or not case.id:
        name = case.requester_name
        case.name_search = name_search_value(name, bound_sealer(connection.dialect)) if name else ""


class CaseEvent(SQLModel, table=True):
    """Append-only audit log; each row's hash covers the previous row's hash."""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="privacy_case.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    kind: str = Field(max_length=64)
    actor: str = Field(max_length=200)
    data: str = Field(default="{}", sa_type=Text)  # canonical JSON
    prev_hash: str = Field(max_length=64)
    hash: str = Field(unique=True, max_length=64)


_REPLY_VERSION = _version_column()


class OutboundMessage(SQLModel, table=True):
    """A reply: a draft until approved, then the outbox row the sender works from."""

    __tablename__ = "outbound_message"
    __mapper_args__ = {"version_id_col": _REPLY_VERSION}
    __table_args__ = (
        Index("ix_outbound_message_kind_status", "kind", "status"),
        # The daily reply caps count the last day's replies to an address and to a domain
        # at every draft: without these, a scan of every reply ever sent.
        Index("ix_outbound_message_to_address_created", "to_address", "created_at"),
        Index("ix_outbound_message_to_domain_created", "to_domain", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="privacy_case.id", index=True)
    inbound_id: int | None = Field(default=None, foreign_key="inbound_message.id")
    kind: str = Field(max_length=40)  # acknowledgement, ...
    template: str = Field(max_length=80)
    language: str = Field(max_length=8)
    status: str = Field(max_length=32, index=True)
    to_address: str = Field(max_length=320)
    # Derived from to_address on every write (_derive_domain), lower-cased.
    to_domain: str = Field(default="", max_length=320)
    # Sealed at rest (SealedText): a letter names the person and their request.
    subject: str = Field(sa_type=SealedText("outbound_message.subject"))
    body: str = Field(sa_type=SealedText("outbound_message.body"))
    # The text as the bot drafted it, so the DPO's edits show as a diff against it.
    drafted_body: str | None = Field(
        default=None, sa_type=SealedText("outbound_message.drafted_body")
    )
    # Fixed when the row is created, so a resend after a crash carries the same
    # Message-ID and the receiving side can recognise the duplicate.
    message_id: str = Field(unique=True, max_length=300)
    in_reply_to: str | None = Field(default=None, max_length=1000)
    references: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    approved_by: str | None = Field(default=None, max_length=200)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A refusal-type letter, when sent: whether it carried the complaint and court
    # information (LEGAL.md §3.4); None for other letters.
    remedies_included: bool | None = None
    version: int = Field(default=1, sa_column=_REPLY_VERSION)


def reply_domain(address: str) -> str:
    """The domain a reply goes to, as the per-domain daily cap counts it."""
    return address.rpartition("@")[2].casefold()


@event.listens_for(OutboundMessage, "before_insert")
@event.listens_for(OutboundMessage, "before_update")
def _derive_domain(_mapper: Any, _connection: Connection, reply: OutboundMessage) -> None:
    reply.to_domain = reply_domain(reply.to_address)


class SendingState(SQLModel, table=True):
    """Whether the worker is sending or has paused sending, and why: one row (id 1),
    written by the worker when that changes, read by `mailbot status` and the web app.
    The reason names no person: a code and a kind of failure."""

    __tablename__ = "sending_state"

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(max_length=16)  # sending, paused
    reason: str | None = Field(default=None, max_length=200)
    since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failures: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Suppression(SQLModel, table=True):
    """An address direct marketing must never reach again (Art. 21(3), Art. 7(3))."""

    __tablename__ = "suppression"

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(unique=True, max_length=320)  # casefolded
    reason: str = Field(max_length=32)  # objection or withdraw_consent
    case_id: int | None = Field(default=None, foreign_key="privacy_case.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChainCheck(SQLModel, table=True):
    """One verification of the whole audit chain (mailbot.cases.audit), kept so the
    dashboard can show the last result without recomputing a million hashes per view."""

    __tablename__ = "audit_chain_check"

    id: int | None = Field(default=None, primary_key=True)
    checked_at: datetime = Field(sa_type=UTCDateTime)
    checked_by: str = Field(max_length=200)
    events: int
    last_event_id: int | None = None  # the newest event the check covered
    first_broken_event: int | None = None  # None: intact
    seconds: float


class ReadingCorrection(SQLModel, table=True):
    """The DPO's reading of a case where the classifier's was unsure or wrong: a triage
    settled, or the rights corrected. Training data for the classifier (`mailbot model
    retrain`), so it keeps the text the classifier read, sealed like the mail; one per
    case (the latest), removed when retention purges the case."""

    __tablename__ = "reading_correction"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="privacy_case.id", unique=True)
    corrected_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=200)
    language: str = Field(max_length=8)  # the case's reply language
    bot_labels: str = Field(max_length=200)  # what the classifier said, primary first
    labels: str = Field(max_length=200)  # the DPO's reading, primary first
    subject: str = Field(default="", sa_type=SealedText("reading_correction.subject"))
    text: str = Field(default="", sa_type=SealedText("reading_correction.text"))


class WorkerState(SQLModel, table=True):
    """When the leading worker last finished a round with the mail source answering, and
    which one leads: one row (id 1), written once per round, so /metrics can say how long
    the worker has been silent, and who leads, from any process."""

    __tablename__ = "worker_state"

    id: int | None = Field(default=None, primary_key=True)
    last_round_at: datetime = Field(sa_type=UTCDateTime)
    rounds: int = 0
    leader: str = Field(default="", max_length=300)  # host:pid of the worker that leads
