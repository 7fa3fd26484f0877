"""What every mail source (IMAP folder, Maildir) offers the ingest stage."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FetchedMail:
    raw: bytes
    received_at: datetime  # aware; when the mail reached the inbox
    uidvalidity: int | None = None
    uid: int | None = None
    # True when only the headers were fetched because the mail exceeds the size cap;
    # the full mail stays in the source folder.
    truncated: bool = False
    size: int | None = None  # the size the server reports, when it differs from len(raw)
    # Where the source keeps it (a Maildir file name), for after_store.
    source_ref: str | None = None
    # Set when the server refused to hand the mail over: it is recorded, quarantined
    # with this reason, and the cursor moves past it instead of wedging on it.
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """A source's resume point: UIDs above last_uid within one UIDVALIDITY."""

    uidvalidity: int
    last_uid: int


class MailSource(Protocol):
    label: str  # stable name of the mailbox, without secrets

    def start_position(self) -> Position | None:
        """Where to begin in a folder the bot has never read (None: from the start)."""
        ...

    def fetch_new(self, position: Position | None, max_bytes: int) -> Iterator[FetchedMail]:
        """Mails not yet stored, oldest first. Ingest stores each before taking the next."""
        ...

    def after_store(self, mail: FetchedMail) -> None:
        """Called once the mail is safely committed to the database."""
        ...

    def mark_handled(self, uidvalidity: int | None, handled: list[tuple[int, bool]]) -> None:
        """Flag (uid, quarantined) pairs as done in the source folder."""
        ...

    def remove(self, uidvalidity: int | None, uid: int | None, source_ref: str | None) -> None:
        """Delete a mail from the source folder (an ID copy whose check is done, an erased
        mail). Called after a complete ingest of the folder in the same round."""
        ...

    def wait_for_mail(self, timeout: float, stop: threading.Event) -> None:
        """Return when new mail may be there, after `timeout` seconds, or when stopping."""
        ...

    def close(self) -> None: ...

    def drop(self) -> None:
        """Forget a broken connection without talking to the server."""
        ...
