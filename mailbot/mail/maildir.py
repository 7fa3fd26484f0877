"""A Maildir as mail source: the embedded alternative to IMAP (demo, local delivery).

A Maildir has no UIDs, so "stored" is recorded in the folder itself: once a mail is in
the database its file moves to cur/ with the Seen flag (`:2,S`), the Maildir convention
every mail client understands. A crash in between means the mail is offered again, and
ingest recognises it by its Message-ID (or hash) and skips it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from mailbot.mail.source import FetchedMail, Position


class MaildirSource:
    def __init__(self, path: Path, poll_seconds: float = 60) -> None:
        self.poll_seconds = poll_seconds
        self.path = path.expanduser().resolve()
        if not (self.path / "new").is_dir() or not (self.path / "cur").is_dir():
            raise ValueError(f"{self.path} is not a Maildir (no new/ and cur/ folders)")
        self.label = f"maildir:{self.path}"

    def fetch_new(self, position: Position | None, max_bytes: int) -> Iterator[FetchedMail]:
        pending = [
            (file.stat().st_mtime, file.name, file)
            for folder in ("new", "cur")
            for file in (self.path / folder).iterdir()
            if file.is_file() and not _seen(file.name)
        ]
        for mtime, _name, file in sorted(pending):
            size = file.stat().st_size
            yield FetchedMail(
                raw=file.read_bytes() if size <= max_bytes else _headers_only(file),
                received_at=datetime.fromtimestamp(mtime, UTC),
                truncated=size > max_bytes,
                size=size,
                source_ref=str(file),
            )

    def after_store(self, mail: FetchedMail) -> None:
        file = Path(mail.source_ref) if mail.source_ref else None
        if file is not None and file.exists():
            base, _, info = file.name.partition(":2,")
            flags = "".join(sorted(set(info) | {"S"}))
            file.rename(self.path / "cur" / f"{base}:2,{flags}")

    def mark_handled(self, uidvalidity: int | None, handled: list[tuple[int, bool]]) -> None:
        return None  # marked when stored: a Maildir has no UIDs to mark later

    def remove(self, uidvalidity: int | None, uid: int | None, source_ref: str | None) -> None:
        if not source_ref or "/" in source_ref:
            return
        for folder in ("new", "cur"):
            for file in (self.path / folder).glob(f"{source_ref}*"):
                if file.name.partition(":2,")[0] == source_ref:
                    file.unlink(missing_ok=True)

    def start_position(self) -> Position | None:
        return None  # a Maildir has no positions: unseen files are what is new

    def wait_for_mail(self, timeout: float, stop: threading.Event) -> None:
        stop.wait(min(timeout, self.poll_seconds))

    def close(self) -> None:
        return None

    def drop(self) -> None:
        return None


def _seen(name: str) -> bool:
    _, separator, flags = name.partition(":2,")
    return bool(separator) and "S" in flags


def _headers_only(file: Path, limit: int = 256 * 1024) -> bytes:
    with file.open("rb") as handle:
        head = handle.read(limit)
    for blank in (b"\r\n\r\n", b"\n\n"):
        end = head.find(blank)
        if end >= 0:
            return head[: end + len(blank)]
    return head
