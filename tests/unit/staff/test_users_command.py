"""`mailbot users`: scripts create users with the password on standard input; the
password never shows in the listing and changes end open sessions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.database import open_engine
from mailbot.staff.models import StaffMember
from mailbot.staff.passwords import password_matches

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    monkeypatch.setenv("MAILBOT_DATABASE_URL", url)
    return url


def _member(url: str, name: str) -> StaffMember:
    with Session(open_engine(url)) as session:
        return session.exec(select(StaffMember).where(StaffMember.name == name)).one()


def test_a_script_adds_a_user_with_the_password_on_standard_input(database: str) -> None:
    added = runner.invoke(
        app, ["users", "add", "Dana DPO", "--role", "dpo"], input="a long passphrase here\n"
    )
    assert added.exit_code == 0, added.output
    assert "Dana DPO added as dpo" in added.output
    member = _member(database, "Dana DPO")
    assert password_matches(member.password_hash, "a long passphrase here")

    listed = runner.invoke(app, ["users", "list", "--json"])
    assert '"name": "Dana DPO"' in listed.output and '"role": "dpo"' in listed.output
    assert "argon2" not in listed.output and "passphrase" not in listed.output


def test_refusals_exit_with_status_one_and_a_reason(database: str) -> None:
    short = runner.invoke(app, ["users", "add", "Eve", "--role", "dpo"], input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    role = runner.invoke(app, ["users", "add", "Eve", "--role", "root"], input="x" * 20 + "\n")
    assert role.exit_code == 1 and "no role" in role.output
    nothing = runner.invoke(app, ["users", "add", "Eve", "--role", "dpo"], input="")
    assert nothing.exit_code == 2 and "standard input" in nothing.output
    unknown = runner.invoke(app, ["users", "disable", "Nobody"])
    assert unknown.exit_code == 1 and "no user" in unknown.output


def test_disable_and_reset_password(database: str) -> None:
    runner.invoke(app, ["users", "add", "Chris", "--role", "compliance"], input="p" * 16 + "\n")
    assert runner.invoke(app, ["users", "disable", "Chris"]).exit_code == 0
    assert _member(database, "Chris").disabled_at is not None
    assert "disabled" in runner.invoke(app, ["users", "list"]).output

    reset = runner.invoke(app, ["users", "reset-password", "Chris"], input="q" * 16 + "\n")
    assert reset.exit_code == 0, reset.output
    member = _member(database, "Chris")
    assert member.disabled_at is None
    assert password_matches(member.password_hash, "q" * 16)


def test_an_actor_name_with_a_line_break_is_refused(database: str) -> None:
    forged = runner.invoke(
        app,
        ["users", "add", "Eve", "--role", "dpo", "--as", "Dana\n2026-03-09 member_added Root"],
        input="x" * 20 + "\n",
    )
    assert forged.exit_code == 1 and "printable" in forged.output
    with Session(open_engine(database)) as session:
        assert session.exec(select(StaffMember)).all() == []
