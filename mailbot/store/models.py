"""The tables of stored mail: what reached the inbox, how far each mailbox was read, what
the mails carried, and the addresses known to belong to an account.

Raw bytes are stored first and decisions later: an inbound mail carries a
`disposition` once handled, so a crash anywhere leaves rows the worker resumes from.
The case tables (`mailbot.cases.models`) build on these; every schema change goes
through the Alembic migrations in `mailbot/migrations/`.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Engine,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from mailbot.sealing import Sealer, SealingError


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without a zone, hands back aware UTC datetimes.

    SQLite keeps no zone and PostgreSQL's `timestamp` would shift by the session's
    TimeZone; normalising at this one boundary keeps every comparison in the code sound.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("only timezone-aware datetimes are stored")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


SEALED_PREFIX: Final = "mbs1:"
_SEAL_OVERHEAD: Final = 40  # magic, key id, nonce and tag (mailbot.sealing)
_SEALER_ATTRIBUTE: Final = "mailbot_sealer"


def bind_sealer(engine: Engine, sealer: Sealer) -> None:
    """Seal and open the `SealedText` columns of everything read and written through
    `engine` with `sealer` (its dialect is the engine's own)."""
    setattr(engine.dialect, _SEALER_ATTRIBUTE, sealer)


def bound_sealer(dialect: Dialect) -> Sealer:
    sealer = getattr(dialect, _SEALER_ATTRIBUTE, None)
    if not isinstance(sealer, Sealer):
        raise SealingError(
            "personal data in this database is sealed: the data key is needed "
            "(MAILBOT_DATA_KEY_FILE or MAILBOT_DATA_KEY)"
        )
    return sealer


class SealedText(TypeDecorator[str]):
    """Text sealed at rest (AES-256-GCM under the data key), plain in Python.

    The one accessor of personal text that search and ordering do not need (reply
    subjects and bodies, requester names, attachment file names): every read and write
    through the ORM or Core goes through it, so nobody reads ciphertext by accident and
    nothing is written in plaintext. Stored as ``mbs1:`` and the sealed bytes in
    base64, bound to the column (`context`); "" stays "" (a purged value). A value
    stored before sealing is read as it is until the worker's start seals it
    (mailbot.store.sealed.seal_plaintext_columns). Such columns cannot be searched or
    compared in SQL: the queue finds names through keyed word hashes instead."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context
        self.length: int | None = None

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or value == "":
            return None if value is None else ""
        if not isinstance(value, str):
            raise TypeError(f"{self.context} holds text, not {type(value).__name__}")
        plain = value.encode("utf-8")
        if self.length is not None:
            room = (self.length - len(SEALED_PREFIX)) * 3 // 4 - _SEAL_OVERHEAD
            plain = plain[:room].decode("utf-8", "ignore").encode("utf-8")
        sealed = bound_sealer(dialect).seal(plain, self.context)
        return SEALED_PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii")

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if not isinstance(value, str):
            return None
        if not is_sealed_text(value):
            return value  # "", or stored before sealing
        sealed = base64.urlsafe_b64decode(value[len(SEALED_PREFIX) :])
        return bound_sealer(dialect).open(sealed, self.context).decode("utf-8")


def is_sealed_text(value: str) -> bool:
    if not value.startswith(SEALED_PREFIX):
        return False
    try:
        base64.urlsafe_b64decode(value[len(SEALED_PREFIX) :])
    except (binascii.Error, ValueError):
        return False
    return True


class SealedString(SealedText):
    """`SealedText` in a VARCHAR(length) column; the plain text is cut to fit sealed."""

    impl = String  # type: ignore[assignment]
    cache_ok = True

    def __init__(self, context: str, length: int) -> None:
        TypeDecorator.__init__(self, length)
        self.context = context
        self.length = length


class Disposition(StrEnum):
    """What became of an inbound mail."""

    PENDING = "pending"  # stored, not yet handled
    CASE_OPENED = "case_opened"
    FOLLOW_UP = "follow_up"  # joined an existing case
    DUPLICATE = "duplicate"  # a copy of a handled mail: same Message-ID, sender, text
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    MAILING_LIST = "mailing_list"
    OWN_MAIL = "own_mail"
    NO_SENDER = "no_sender"
    QUARANTINED = "quarantined"
    DISMISSED = "dismissed"  # a quarantined mail the DPO read and set aside; content erased


class MailboxCursor(SQLModel, table=True):
    """How far the bot has read one mailbox: UIDs above `last_uid` are new."""

    __tablename__ = "mailbox_cursor"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(unique=True, max_length=500)
    # IMAP UIDs are unsigned 32-bit: they overflow PostgreSQL's INTEGER.
    uidvalidity: int = Field(sa_type=BigInteger)
    last_uid: int = Field(default=0, sa_type=BigInteger)


class InboundMessage(SQLModel, table=True):
    """One mail as it reached the inbox: raw bytes first, decisions later."""

    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("source", "uidvalidity", "uid"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=500, index=True)
    uidvalidity: int | None = Field(default=None, sa_type=BigInteger)
    uid: int | None = Field(default=None, sa_type=BigInteger)
    # "sha256:<hex>" of the bytes: the same mail fetched twice (a crash, a UIDVALIDITY
    # reset) is stored once. Copies with other bytes but the same Message-ID (a Cc
    # delivered twice) are kept as rows of their own and answered once, when sender and
    # text match too (a Message-ID alone is anyone's to write).
    message_key: str = Field(unique=True, max_length=200)
    message_id: str | None = Field(default=None, max_length=1000, index=True)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    size: int
    sha256: str = Field(max_length=64)
    # When it reached the inbox (IMAP INTERNALDATE, Maildir file time): the legal clock starts.
    received_at: datetime = Field(sa_type=UTCDateTime)
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sender: str | None = Field(default=None, max_length=320)
    disposition: str = Field(default=Disposition.PENDING, max_length=32, index=True)
    reason: str | None = Field(default=None, sa_type=Text)
    flags: str = Field(default="", max_length=500)  # space-separated screening flags
    case_id: int | None = Field(default=None, foreign_key="privacy_case.id")
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Times the worker began handling it, counted and committed before each try: a mail
    # still pending after three (one with its batch, two alone) is quarantined.
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    marked_in_source: bool = False  # flagged as processed in the IMAP folder
    # Where the source keeps it (a Maildir file), to remove an ID copy from there too.
    source_ref: str | None = Field(default=None, sa_type=Text)
    # An ID copy was cut out of `raw`; the source folder's copy is still to be removed.
    remove_from_source: bool = Field(default=False, index=True)
    # The content (bytes, sender, attachment names) is gone: dismissed or past retention.
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Attachment(SQLModel, table=True):
    """What an inbound mail carried: metadata and what the ID check found. The bytes stay
    inside the sealed raw mail until an ID copy's check, when they are cut out of it."""

    __tablename__ = "attachment"
    # The copies still held, found at every worker round and every /metrics scrape
    # among every attachment ever stored.
    __table_args__ = (Index("ix_attachment_kind_purged", "kind", "purged_at"),)

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int = Field(foreign_key="inbound_message.id", index=True)
    # Sealed (SealedText): a file name can hold a national register number or a name.
    filename: str | None = Field(default=None, sa_type=SealedString("attachment.filename", 500))
    declared_type: str = Field(max_length=200)
    sniffed_type: str = Field(max_length=200)
    size: int
    sha256: str = Field(max_length=64)
    kind: str = Field(max_length=32)  # id-document kind: eid_front, ..., other_document, none
    part_index: int = -1  # position among the mail's attachments, to cut it out later
    # The check is sure of `kind` (enough evidence, or valid MRZ check digits); a
    # "probably" reading is left to the DPO's eye.
    check_verified: bool = False
    # Whether the document shows the sender's display name (None: not compared). The
    # name is compared during the check and never stored.
    holder_match: bool | None = None
    check_reason: str | None = Field(default=None, max_length=300)  # never personal data
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class KnownAccount(SQLModel, table=True):
    """An address that belongs to a Jaimy account: mail from it raises no identity doubt."""

    __tablename__ = "known_account"

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(unique=True, max_length=320)  # casefolded
    source: str = Field(default="", max_length=300)  # the import it came from
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DataKeyCheck(SQLModel, table=True):
    """The key check value: a fixed label sealed under the data key at the first start, so
    a start with another key is refused before it reads or seals anything
    (mailbot.store.keycheck)."""

    __tablename__ = "data_key_check"

    id: int | None = Field(default=None, primary_key=True)  # 1: the key; 2: a rotation's next
    key_id: str = Field(max_length=16)  # hex of the sealer's key id, for the message only
    check_value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
