"""Defect 6 (issue 11), files: with the usual umask the database was 0644 and the data
folder 0755. What the bot creates is its owner's only, whatever the umask; a key file
others can read is warned about at start and in `mailbot status`."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.config import Settings
from mailbot.database import open_engine
from mailbot.runtime import key_file_warning, open_database, open_sealer
from mailbot.sealing import write_key_file


@pytest.fixture
def open_umask() -> Iterator[None]:
    before = os.umask(0o022)
    yield
    os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_database_and_its_journal_are_the_owners_only(
    tmp_path: Path, open_umask: None
) -> None:
    data = tmp_path / "data" / "mailbot"
    engine = open_engine(f"sqlite:///{data / 'mailbot.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        names = sorted(path.name for path in data.iterdir())
        assert "mailbot.sqlite3-wal" in names and "mailbot.sqlite3-shm" in names
        for path in data.iterdir():
            assert _mode(path) == 0o600, path
    assert _mode(data) == 0o700
    assert _mode(data.parent) == 0o700  # created for it too


def test_an_existing_database_file_is_made_the_owners_only(
    tmp_path: Path, open_umask: None
) -> None:
    database = tmp_path / "mailbot.sqlite3"
    database.touch(0o644)
    open_engine(f"sqlite:///{database}").dispose()
    assert _mode(database) == 0o600


def test_a_key_file_others_can_read_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("MAILBOT_DATA_KEY")
    key = tmp_path / "data.key"
    write_key_file(key)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", data_key_file=key)
    assert key_file_warning(settings) is None
    key.chmod(0o644)
    warning = key_file_warning(settings)
    assert warning is not None and str(key) in warning and "chmod 600" in warning
    with caplog.at_level(logging.WARNING):
        open_sealer(settings, open_database(settings))
    assert any(r.levelno == logging.WARNING and str(key) in r.message for r in caplog.records)
    env = {"MAILBOT_DATABASE_URL": settings.effective_database_url}
    done = CliRunner().invoke(app, ["status"], env={**env, "MAILBOT_DATA_KEY_FILE": str(key)})
    assert done.exit_code == 0 and "chmod 600" in done.output
