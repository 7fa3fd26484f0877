"""Ingest from a Maildir: raw bytes stored first, each mail once, marked Seen after."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from mailbot.database import migrate, open_engine, transaction
from mailbot.lease import WorkerAlreadyRunning, worker_lease
from mailbot.mail.maildir import MaildirSource
from mailbot.sealing import Sealer, load_sealer
from mailbot.store.ingest import header_message_id, ingest, message_key
from mailbot.store.models import Disposition, InboundMessage
from mailbot.store.sealed import stored_raw
from tests.conftest import TEST_DATA_KEY
from tests.mailfactory import request_mail

SEALER: Sealer = load_sealer(TEST_DATA_KEY, None)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = open_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate(engine)
    return engine


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "inbox" / sub).mkdir(parents=True)
    return tmp_path / "inbox"


def _stored(engine: Engine) -> list[InboundMessage]:
    with transaction(engine) as session:
        return list(session.exec(select(InboundMessage)).all())


def test_message_id_read_from_raw_headers_even_when_folded() -> None:
    folded = b"From: a@example.org\r\nMessage-ID:\r\n <long-id@example.org>\r\n\r\nbody"
    assert header_message_id(folded) == "<long-id@example.org>"
    assert header_message_id(b"From: a@example.org\r\n\r\nMessage-ID: <in-body@x>") is None
    assert header_message_id(b"") is None


def test_message_key_is_the_same_only_for_the_same_bytes() -> None:
    raw = request_mail(language="nl")
    assert message_key(raw) == message_key(bytes(raw))
    # A copy delivered twice differs in its trace headers: it is another stored mail.
    assert message_key(b"Received: by mx2\r\n" + raw) != message_key(raw)
    assert message_key(b"").startswith("sha256:")


def test_each_mail_stored_once_with_its_bytes_and_marked_seen(
    engine: Engine, maildir: Path
) -> None:
    raws = [request_mail(language=lang) for lang in ("nl", "fr")]
    for n, raw in enumerate(raws):
        (maildir / "new" / f"m{n}").write_bytes(raw)
    source = MaildirSource(maildir)
    assert ingest(engine, source, max_bytes=10_000_000, sealer=SEALER).stored == 2
    assert ingest(engine, source, max_bytes=10_000_000, sealer=SEALER).stored == 0
    rows = _stored(engine)
    assert sorted(stored_raw(row, SEALER) for row in rows) == sorted(raws)
    # At rest only sealed bytes: not a word of the mail is readable in the database.
    assert all(b"Subject" not in row.raw and row.raw not in raws for row in rows)
    assert all(row.disposition == Disposition.PENDING for row in rows)
    assert not list((maildir / "new").iterdir())
    assert sorted(p.name for p in (maildir / "cur").iterdir()) == ["m0:2,S", "m1:2,S"]


def test_a_mail_offered_again_after_a_crash_is_not_stored_twice(
    engine: Engine, maildir: Path
) -> None:
    raw = request_mail(language="de")
    (maildir / "new" / "again").write_bytes(raw)
    # Simulate a crash after the commit but before the file was marked: same mail twice.
    (maildir / "new" / "again-copy").write_bytes(raw)
    summary = ingest(engine, MaildirSource(maildir), max_bytes=10_000_000, sealer=SEALER)
    assert (summary.stored, summary.duplicates) == (1, 1)
    assert len(_stored(engine)) == 1


def test_oversized_mail_keeps_its_headers_and_is_quarantined(engine: Engine, maildir: Path) -> None:
    raw = request_mail(language="en", body="x" * 5000)
    (maildir / "new" / "big").write_bytes(raw)
    ingest(engine, MaildirSource(maildir), max_bytes=1000, sealer=SEALER)
    (row,) = _stored(engine)
    assert row.disposition == Disposition.QUARANTINED
    assert "too large" in (row.reason or "")
    headers = stored_raw(row, SEALER)
    assert row.size == len(raw) and b"Message-ID" in headers and len(headers) < 1000


def test_not_a_maildir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a Maildir"):
        MaildirSource(tmp_path)


def test_sqlite_lease_is_exclusive_and_released(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lease.sqlite3'}"
    with (
        worker_lease(open_engine(url)),
        pytest.raises(WorkerAlreadyRunning, match="another mailbot worker"),
        worker_lease(open_engine(url)),
    ):
        pass
    with worker_lease(open_engine(url)):
        pass


def test_mails_fetched_before_the_source_fails_are_stored_and_marked(
    engine: Engine, maildir: Path
) -> None:
    """Mails are stored a batch per transaction: a connection lost midway must still
    leave the ones already fetched stored, the cursor past them, the files moved."""
    from collections.abc import Iterator

    from mailbot.mail.source import FetchedMail, Position

    class Failing(MaildirSource):
        def fetch_new(self, position: Position | None, max_bytes: int) -> Iterator[FetchedMail]:
            yield from list(super().fetch_new(position, max_bytes))[:3]
            raise ConnectionResetError("the server went away")

    for n in range(5):
        (maildir / "new" / f"m{n}").write_bytes(request_mail(language="nl", subject=f"n{n}"))
    with pytest.raises(ConnectionResetError):
        ingest(engine, Failing(maildir), max_bytes=10_000_000, sealer=SEALER)
    assert len(_stored(engine)) == 3
    assert len(list((maildir / "cur").iterdir())) == 3
    summary = ingest(engine, MaildirSource(maildir), max_bytes=10_000_000, sealer=SEALER)
    assert (summary.stored, summary.duplicates) == (2, 0)
