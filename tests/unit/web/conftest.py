"""A web app over a real bot's database: a Maildir worker (baseline classifier) fills it
with cases from synthetic mails; three people, one per role, can sign in."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from mailbot.cases.models import Case, CaseEvent, CaseStatus, OutboundMessage
from mailbot.database import transaction
from mailbot.handling.record import Handling
from mailbot.staff import passwords
from mailbot.staff.members import add_member
from mailbot.staff.models import StaffSession
from mailbot.staff.sign_in import token_digest
from mailbot.store.models import utcnow
from mailbot.web.app import create_app
from mailbot.web.auth import COOKIE
from mailbot.web.context import WebContext
from mailbot.worker import Worker
from tests.maildir_worker import deliver, maildir_worker, send_queued

PASSWORD = "correct horse battery staple"
PEOPLE = {"dpo": "Dana DPO", "compliance": "Chris Compliance", "admin": "Ada Admin"}


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost here: these tests sign in hundreds of times. The real
    parameters are tested in tests/unit/staff."""
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
def worker(tmp_path: Path) -> Worker:
    return maildir_worker(tmp_path)


@pytest.fixture
def context(worker: Worker) -> WebContext:
    settings = worker.bot.settings
    context = WebContext(settings, worker.engine, Handling.of(settings, worker.bot.sealer))
    with transaction(worker.engine) as session:
        for role, name in PEOPLE.items():
            add_member(session, name, role, PASSWORD, utcnow(), "setup")
    return context


@pytest.fixture
def anonymous(context: WebContext) -> Iterator[TestClient]:
    # https: the session cookie is Secure, as in production.
    with TestClient(create_app(context), base_url="https://testserver") as client:
        yield client


def signed_in_as(context: WebContext, role: str) -> TestClient:
    client = TestClient(create_app(context), base_url="https://testserver")
    sign_in(client, PEOPLE[role])
    return client


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    page = client.get("/signin")
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    return client.post(
        "/signin",
        data={"name": name, "password": password, "token": token.group(1), "next": "/"},
        follow_redirects=False,
    )


def csrf_of(page_text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page_text)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


@pytest.fixture
def dpo(context: WebContext) -> TestClient:
    return signed_in_as(context, "dpo")


@pytest.fixture
def compliance(context: WebContext) -> TestClient:
    return signed_in_as(context, "compliance")


@pytest.fixture
def admin(context: WebContext) -> TestClient:
    return signed_in_as(context, "admin")


# Helpers the route tests share: cases made by the bot or inserted directly, the audit
# events of a case, and the CSRF token of a session whatever page it can see.


def token_of(client: TestClient, context: WebContext) -> str:
    """The CSRF token of `client`'s session, read from the database (for people whose
    pages this app does not serve here, and for cross-session checks)."""
    token = client.cookies.get(COOKIE)
    assert token, "the client is not signed in"
    with Session(context.engine) as session:
        row = session.exec(
            select(StaffSession).where(StaffSession.token_hash == token_digest(token))
        ).one()
        return row.csrf_token


def newest_case(context: WebContext) -> Case:
    with Session(context.engine) as session:
        found = session.exec(select(Case).order_by(col(Case.id).desc())).first()
        assert found is not None, "the bot opened no case"
        return found


def case_named(context: WebContext, reference: str) -> Case:
    with Session(context.engine) as session:
        return session.exec(select(Case).where(Case.reference == reference)).one()


def delivered(worker: Worker, raw: bytes) -> Case:
    """Hand one mail to the bot; the case it opened."""

    deliver(worker, raw)
    with Session(worker.engine) as session:
        found = session.exec(select(Case).order_by(col(Case.id).desc())).first()
        assert found is not None, "the bot opened no case"
        return found


def replies_left(context: WebContext) -> None:
    """The SMTP server took every queued reply (these tests have none: replies stay
    queued), with what sending means for each case (replies.outcomes.after_sent)."""
    send_queued(context.engine)


def events_of(context: WebContext, case_id: int | None, kind: str | None = None) -> list[CaseEvent]:

    query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))
    if kind is not None:
        query = query.where(CaseEvent.kind == kind)
    with Session(context.engine) as session:
        return list(session.exec(query).all())


def drafts_of(context: WebContext, case_id: int | None) -> list[OutboundMessage]:
    with Session(context.engine) as session:
        return list(
            session.exec(
                select(OutboundMessage)
                .where(OutboundMessage.case_id == case_id)
                .order_by(col(OutboundMessage.id))
            ).all()
        )


def insert_case(context: WebContext, number: int, **changes: object) -> Case:
    """A case row written directly (no mail): cheap, for queue tests over many cases."""
    received = changes.pop("received_at", context.clock())
    assert isinstance(received, datetime)
    day = received.date()
    case = Case(
        reference=f"JAIMY-PRIV-2030-{number:04d}",
        requester=f"person{number}@example.org",
        requester_name=f"Person {number}",
        language="en",
        detected_language="en",
        primary="access",
        labels="access",
        confidence=0.9,
        received_at=received,
        receipt_date=day,
        legal_due=day + timedelta(days=30),
        target_due=day + timedelta(days=28),
        extended_due=day + timedelta(days=91),
        rule_version="test",
        status=CaseStatus.IN_PROGRESS,
    )
    for name, value in changes.items():
        setattr(case, name, value)
    with transaction(context.engine) as session:
        session.add(case)
        session.flush()
        session.refresh(case)
        session.expunge(case)
    return case


def refused_to_others(
    context: WebContext,
    method: str,
    url: str,
    data: dict[str, str] | None = None,
    secret: str = "",
    allowed: str = "dpo",
) -> None:
    """The roles but `allowed` get 403 (without `secret` in the page), anonymous goes to
    the sign-in page; a POST carries each person's own valid CSRF token, so the role
    alone refuses it."""
    for role in sorted(set(PEOPLE) - {allowed}):
        client = signed_in_as(context, role)
        form = {**(data or {}), "csrf": token_of(client, context)}
        if method == "GET":
            answer = client.get(url, follow_redirects=False)
        else:
            answer = client.post(url, data=form, follow_redirects=False)
        assert answer.status_code == 403, (role, url, answer.status_code)
        assert f"not for the {role} role" in answer.text
        if secret:
            assert secret not in answer.text
    stranger = TestClient(create_app(context), base_url="https://testserver")
    if method == "GET":
        answer = stranger.get(url, follow_redirects=False)
    else:
        answer = stranger.post(url, data=data or {}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin")


def editor_base(page: str) -> str:
    """The version of the text a draft editor started from."""
    found = re.search(r'name="base" value="([^"]+)"', page)
    assert found is not None, "the page has no draft editor"
    return found.group(1)


def editor_text(page: str) -> str:
    """The text in a draft editor, as the browser would send it back."""
    found = re.search(r'<textarea id="body" name="body"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None, "the page has no draft editor"
    return html.unescape(found.group(1))
