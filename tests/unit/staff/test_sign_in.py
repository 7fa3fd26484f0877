"""Staff sign-in (mailbot.staff): argon2 passwords, sessions that end, a throttle counted
in the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot.cases.refused import Refused
from mailbot.database import migrate, open_engine
from mailbot.staff.members import add_member, disable_member, recent_events, reset_password
from mailbot.staff.models import FailedSignIn, StaffMember, StaffSession
from mailbot.staff.passwords import WeakPassword
from mailbot.staff.sign_in import SessionPolicy, SignInRefused, resume, sign_in, sign_out

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
POLICY = SessionPolicy()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = open_engine(f"sqlite:///{tmp_path / 'staff.sqlite3'}")
    migrate(engine)
    with Session(engine) as session:
        add_member(session, "Dana DPO", "dpo", PASSWORD, NOW, "Ada Admin")
        yield session


def test_the_password_is_stored_as_an_argon2id_hash(session: Session) -> None:
    member = session.exec(select(StaffMember)).one()
    assert member.password_hash.startswith("$argon2id$")
    assert PASSWORD not in member.password_hash


def test_a_short_password_and_a_second_account_of_one_name_are_refused(
    session: Session,
) -> None:
    with pytest.raises(WeakPassword):
        add_member(session, "Short", "dpo", "hunter2", NOW, "Ada Admin")
    with pytest.raises(Refused, match="exists"):
        add_member(session, "Dana DPO", "compliance", PASSWORD, NOW, "Ada Admin")
    with pytest.raises(Refused, match="no role"):
        add_member(session, "Eve", "root", PASSWORD, NOW, "Ada Admin")
    with pytest.raises(Refused, match="printable"):
        add_member(session, "Eve\nbot", "dpo", PASSWORD, NOW, "Ada Admin")


def test_signing_in_gives_a_token_whose_hash_alone_is_stored(session: Session) -> None:
    token, signed = sign_in(session, "Dana DPO", PASSWORD, "127.0.0.1", NOW, POLICY)
    row = session.exec(select(StaffSession)).one()
    assert token not in row.token_hash
    assert len(signed.session.csrf_token) >= 32
    found = resume(session, token, NOW + timedelta(minutes=5), POLICY)
    assert found is not None and found.member.name == "Dana DPO"


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(session: Session) -> None:
    with pytest.raises(SignInRefused) as wrong:
        sign_in(session, "Dana DPO", "not the password", "127.0.0.1", NOW, POLICY)
    with pytest.raises(SignInRefused) as unknown:
        sign_in(session, "Nobody", PASSWORD, "127.0.0.1", NOW, POLICY)
    assert str(wrong.value) == str(unknown.value) == "wrong name or password"
    assert len(session.exec(select(FailedSignIn)).all()) == 2


def test_five_failures_for_one_name_lock_it_even_with_the_right_password(
    session: Session,
) -> None:
    for attempt in range(5):
        with pytest.raises(SignInRefused):
            sign_in(session, "Dana DPO", f"guess {attempt}", f"10.0.0.{attempt}", NOW, POLICY)
    with pytest.raises(SignInRefused, match="too many"):
        sign_in(session, "Dana DPO", PASSWORD, "10.0.0.99", NOW, POLICY)
    # The window passes: the right password works again.
    later = NOW + POLICY.window + timedelta(seconds=1)
    assert sign_in(session, "Dana DPO", PASSWORD, "10.0.0.99", later, POLICY)[0]


def test_one_address_trying_many_names_is_stopped(session: Session) -> None:
    for n in range(POLICY.failures_per_address):
        with pytest.raises(SignInRefused):
            sign_in(session, f"user{n}", "guess", "192.0.2.7", NOW, POLICY)
    with pytest.raises(SignInRefused, match="too many"):
        sign_in(session, "Dana DPO", PASSWORD, "192.0.2.7", NOW, POLICY)
    assert sign_in(session, "Dana DPO", PASSWORD, "192.0.2.8", NOW, POLICY)[0]


def test_a_session_ends_when_idle_too_long_at_its_age_limit_or_at_sign_out(
    session: Session,
) -> None:
    token, _ = sign_in(session, "Dana DPO", PASSWORD, "127.0.0.1", NOW, POLICY)
    assert resume(session, token, NOW + POLICY.idle - timedelta(minutes=1), POLICY)
    assert resume(session, token, NOW + 2 * POLICY.idle, POLICY) is None

    token, _ = sign_in(session, "Dana DPO", PASSWORD, "127.0.0.1", NOW, POLICY)
    moment = NOW
    while moment < NOW + POLICY.lifetime - timedelta(minutes=20):  # kept busy all day
        moment += timedelta(minutes=20)
        assert resume(session, token, moment, POLICY) is not None
    assert resume(session, token, NOW + POLICY.lifetime + timedelta(minutes=1), POLICY) is None

    token, _ = sign_in(session, "Dana DPO", PASSWORD, "127.0.0.1", NOW, POLICY)
    sign_out(session, token, NOW)
    assert resume(session, token, NOW, POLICY) is None


def test_disabling_or_a_new_password_ends_every_open_session(session: Session) -> None:
    token, _ = sign_in(session, "Dana DPO", PASSWORD, "127.0.0.1", NOW, POLICY)
    reset_password(
        session, "Dana DPO", "another long passphrase", NOW + timedelta(minutes=1), "Ada Admin"
    )
    assert resume(session, token, NOW + timedelta(minutes=2), POLICY) is None

    later = NOW + timedelta(minutes=3)
    token, _ = sign_in(session, "Dana DPO", "another long passphrase", "127.0.0.1", later, POLICY)
    disable_member(session, "Dana DPO", later, "Ada Admin")
    assert resume(session, token, later, POLICY) is None
    with pytest.raises(SignInRefused):
        sign_in(session, "Dana DPO", "another long passphrase", "127.0.0.1", later, POLICY)


def test_sign_ins_and_account_changes_are_staff_events_naming_who(session: Session) -> None:
    token, _ = sign_in(session, "Dana DPO", PASSWORD, "127.0.0.1", NOW, POLICY)
    sign_out(session, token, NOW)
    disable_member(session, "Dana DPO", NOW, "Ada Admin")
    events = [(e.kind, e.actor, e.member) for e in reversed(recent_events(session))]
    assert events == [
        ("member_added", "Ada Admin", "Dana DPO (dpo)"),
        ("signed_in", "Dana DPO", "Dana DPO"),
        ("signed_out", "Dana DPO", "Dana DPO"),
        ("member_disabled", "Ada Admin", "Dana DPO"),
    ]
