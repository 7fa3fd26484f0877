"""A web app over a real bot's database: a Maildir worker (baseline classifier) fills it
with cases from synthetic mails; three people, one per role, can sign in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from mailbot.database import transaction
from mailbot.handling.record import Handling
from mailbot.staff import passwords
from mailbot.staff.members import add_member
from mailbot.store.models import utcnow
from mailbot.web.app import create_app
from mailbot.web.context import WebContext
from mailbot.worker import Worker
from tests.maildir_worker import maildir_worker

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


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> object:
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
