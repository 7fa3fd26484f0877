"""`mailbot demo`: the bot over the sample mails leaves something in every view of the
web app (a draft for the DPO, a case to triage, a quarantined mail), and one demo login
per role signs in. The web app itself is served by `mailbot demo` (without `--no-web`);
tests/browser/test_demo.py opens it in a browser."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine
from sqlmodel import select
from typer.testing import CliRunner

from mailbot.cases.models import Case, OutboundMessage, OutboundStatus
from mailbot.cli import app
from mailbot.commands.users import listen
from mailbot.config import Settings
from mailbot.database import transaction
from mailbot.demo import demo_logins
from mailbot.runtime import open_database
from mailbot.staff.models import Role
from mailbot.staff.sign_in import SessionPolicy, SignInRefused, sign_in
from mailbot.store.models import Disposition, InboundMessage, utcnow


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    directory = tmp_path_factory.mktemp("demo")
    done = CliRunner().invoke(app, ["demo", "--directory", str(directory), "--no-web"])
    assert done.exit_code == 0, done.output
    return directory, done.output


def _engine(directory: Path) -> Engine:
    # The demo's own key: the module's demo ran before this test's MAILBOT_DATA_KEY was set.
    return open_database(
        Settings(
            database_url=f"sqlite:///{directory / 'demo.sqlite3'}",
            data_key=None,
            data_key_file=directory / "data.key",
        )
    )


def test_the_demo_leaves_work_for_every_view(demo_dir: tuple[Path, str]) -> None:
    directory, output = demo_dir
    assert "quarantined: internal error: RuntimeError" in output
    assert "triage=True" in output
    assert "web app" not in output  # --no-web: nothing served, the command returns
    with transaction(_engine(directory)) as session:
        cases = session.exec(select(Case)).all()
        drafts = session.exec(
            select(OutboundMessage).where(
                OutboundMessage.status == OutboundStatus.AWAITING_APPROVAL
            )
        ).all()
        quarantined = session.exec(
            select(InboundMessage).where(InboundMessage.disposition == Disposition.QUARANTINED)
        ).all()
    assert {case.language for case in cases} == {"nl", "fr", "de", "en"}
    assert [case.needs_triage for case in cases].count(True) == 1
    assert [draft.template for draft in drafts] == ["access_answer"]  # the known account's
    assert len(quarantined) == 1


def test_the_demo_logins_sign_in_and_a_second_run_resets_them(
    demo_dir: tuple[Path, str],
) -> None:
    engine = _engine(demo_dir[0])
    first = demo_logins(engine)
    second = demo_logins(engine)
    assert set(second) == {Role.DPO, Role.COMPLIANCE, Role.ADMIN}
    with transaction(engine) as session:
        for role, (name, password) in second.items():
            _, signed_in = sign_in(session, name, password, "127.0.0.1", utcnow(), SessionPolicy())
            assert signed_in.member.role == role
        name, old_password = first[Role.DPO]
        with pytest.raises(SignInRefused):
            sign_in(session, name, old_password, "127.0.0.1", utcnow(), SessionPolicy())


def test_the_demo_takes_the_next_free_port() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        listener = listen("127.0.0.1", port)
        assert listener.getsockname()[1] > port
        listener.close()
        with pytest.raises(typer.Exit):
            listen("127.0.0.1", port, tries=1)
    finally:
        taken.close()
