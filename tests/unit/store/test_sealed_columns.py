"""Defect 6 (issue 11): attachment file names (one held a national register number),
reply subjects and bodies and requester names were plaintext at rest. They are sealed
(SealedText), read back plain through the ORM only, and an install's older plaintext
values are sealed by the worker's start."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from mailbot.cases.at_rest import seal_plaintext_columns
from mailbot.cases.models import Case, OutboundMessage
from mailbot.database import open_engine, transaction
from mailbot.sealing import SealingError
from mailbot.store.models import Attachment
from tests.maildir_worker import deliver, maildir_worker
from tests.mailfactory import request_mail

REGISTER_NUMBER = "85.07.30-033.61"


def _file(tmp_path: Path) -> bytes:
    return (tmp_path / "db.sqlite3").read_bytes() + b"".join(
        path.read_bytes() for path in tmp_path.glob("db.sqlite3-*")
    )


def test_names_subjects_bodies_and_file_names_are_sealed_at_rest(tmp_path: Path) -> None:
    worker = maildir_worker(tmp_path)
    raw = request_mail(
        "Zoë Vandenbroucke <zoe@example.org>",
        subject="Inzage Vandenbroucke dossier",
        attachments=[(f"rijksregister {REGISTER_NUMBER}.pdf", "application/pdf", b"%PDF-1.4")],
    )
    deliver(worker, raw)
    with transaction(worker.engine) as session:
        case = session.exec(select(Case)).one()
        reply = session.exec(select(OutboundMessage)).first()
        attachment = session.exec(select(Attachment)).one()
    assert case.requester_name == "Zoë Vandenbroucke"  # plain through the ORM
    assert attachment.filename == f"rijksregister {REGISTER_NUMBER}.pdf"
    assert reply is not None and "Vandenbroucke" in reply.body
    with worker.engine.connect() as connection:
        stored = connection.execute(
            text(
                "SELECT c.requester_name, o.subject, o.body, a.filename FROM privacy_case c, "
                "outbound_message o, attachment a"
            )
        ).first()
    assert stored is not None
    for value in stored:
        assert value.startswith("mbs1:")
    worker.engine.dispose()
    on_disk = _file(tmp_path)
    assert REGISTER_NUMBER.encode() not in on_disk
    assert b"Vandenbroucke" not in on_disk
    # The address stays plaintext: follow-ups, suppression and the queue search need it.
    assert b"zoe@example.org" in on_disk


def test_plaintext_stored_before_sealing_is_read_and_then_sealed(tmp_path: Path) -> None:
    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail("Jan Peeters <jan@example.org>", subject="Inzage"))
    with worker.engine.begin() as connection:
        connection.execute(text("UPDATE outbound_message SET subject = 'Re: Inzage Peeters'"))
        connection.execute(text("UPDATE privacy_case SET requester_name = 'Jan Peeters'"))
        connection.execute(text("UPDATE privacy_case SET name_search = ''"))
    with transaction(worker.engine) as session:
        assert session.exec(select(OutboundMessage)).first().subject == "Re: Inzage Peeters"  # type: ignore[union-attr]
    assert seal_plaintext_columns(worker.engine) >= 2
    assert seal_plaintext_columns(worker.engine) == 0  # nothing left
    with worker.engine.connect() as connection:
        subject, name, search = connection.execute(
            text(
                "SELECT o.subject, c.requester_name, c.name_search"
                " FROM outbound_message o, privacy_case c"
            )
        ).first()  # type: ignore[misc]
    assert subject.startswith("mbs1:") and name.startswith("mbs1:") and search.strip()
    with transaction(worker.engine) as session:
        assert session.exec(select(Case)).one().requester_name == "Jan Peeters"


def test_without_the_data_key_a_sealed_column_is_an_error_not_ciphertext(tmp_path: Path) -> None:
    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail("Jan Peeters <jan@example.org>"))
    keyless = open_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with transaction(keyless) as session, pytest.raises(SealingError, match="data key"):
        session.exec(select(Case)).one()
