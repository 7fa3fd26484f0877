"""Defect 5 (issue 11): a wrong data key was accepted at start; the worker then failed to
open stored mail and sealed new mail under the other key. A key check value, written at
the first start, makes every start with another key refuse, saying what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.config import ConfigError, Settings
from mailbot.database import transaction
from mailbot.runtime import open_database, open_sealer
from mailbot.sealing import load_sealer, new_key_text, write_key_file
from mailbot.store.keycheck import WrongDataKey, check_data_key
from mailbot.store.models import DataKeyCheck, InboundMessage
from tests.maildir_worker import deliver, maildir_worker
from tests.mailfactory import request_mail


def _settings(tmp_path: Path, key_file: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        data_dir=tmp_path,
        data_key_file=key_file,
    )


def _key_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    write_key_file(path)
    return path


def test_the_first_start_records_a_check_and_another_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAILBOT_DATA_KEY")
    first, other = _key_file(tmp_path, "first.key"), _key_file(tmp_path, "other.key")
    settings = _settings(tmp_path, first)
    engine = open_database(settings)
    open_sealer(settings, engine)
    with transaction(engine) as session:
        assert len(session.exec(select(DataKeyCheck)).all()) == 1
    open_sealer(settings, engine)  # the same key again: fine
    with pytest.raises(ConfigError) as refused:
        open_sealer(_settings(tmp_path, other), engine)
    message = str(refused.value)
    assert str(other) in message
    assert "another data key" in message
    assert "MAILBOT_DATA_KEY_FILE" in message


def test_an_existing_install_gets_its_check_only_from_a_key_that_opens_its_mail(
    tmp_path: Path,
) -> None:
    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail("Anna <anna@example.org>"))
    with transaction(worker.engine) as session:  # as stored before the check existed
        session.delete(session.get_one(DataKeyCheck, 1))
    other = load_sealer(new_key_text(), None)
    with pytest.raises(WrongDataKey):
        check_data_key(worker.engine, other)
    with transaction(worker.engine) as session:
        assert session.exec(select(DataKeyCheck)).first() is None  # nothing written
    check_data_key(worker.engine, worker.bot.sealer)
    with transaction(worker.engine) as session:
        assert session.exec(select(DataKeyCheck)).first() is not None
    with pytest.raises(WrongDataKey):
        check_data_key(worker.engine, other)


def _mailbot(tmp_path: Path, key: str, *command: str) -> tuple[int, str]:
    env = {
        "MAILBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MAILBOT_DATA_KEY": key,
        "MAILBOT_MAILDIR": str(tmp_path / "inbox"),
        "MAILBOT_SMTP_URL": "smtp://127.0.0.1:9",
        "MAILBOT_CLASSIFIER": "baseline",
    }
    done = CliRunner().invoke(app, list(command), env=env)
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        return done.exit_code, f"Traceback: {done.exception!r}"
    return done.exit_code, done.output


@pytest.mark.parametrize(
    "command",
    [
        ("mails", "show", "1"),
        ("run", "--once"),
        ("web", "--port", "9"),  # refused before it would listen
        ("cases", "list"),
        ("purge",),
        ("mails", "dismiss", "1", "--as", "Dana", "--reason", "spam"),
    ],
)
def test_commands_that_unseal_refuse_another_key(
    tmp_path: Path, command: tuple[str, ...], data_key: str
) -> None:
    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail("Anna <anna@example.org>"))
    code, output = _mailbot(tmp_path, data_key, "mails", "show", "1")
    assert code == 0, output  # the right key: the check is written from it
    code, output = _mailbot(tmp_path, new_key_text(), *command)
    assert code == 2, output
    assert "another data key" in output
    assert "Traceback" not in output


def test_mails_show_says_in_one_line_when_a_mail_cannot_be_opened(
    tmp_path: Path, data_key: str
) -> None:
    worker = maildir_worker(tmp_path)
    deliver(worker, request_mail("Anna <anna@example.org>"))
    assert _mailbot(tmp_path, data_key, "mails", "show", "1")[0] == 0
    with transaction(worker.engine) as session:
        row = session.get_one(InboundMessage, 1)
        row.raw = row.raw[:-1] + bytes([row.raw[-1] ^ 1])  # damaged on disk
        session.add(row)
    code, output = _mailbot(tmp_path, data_key, "mails", "show", "1")
    assert code == 1
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) == 1
    assert "cannot be opened" in output
