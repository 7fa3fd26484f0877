"""The web app in a real browser: Debian's headless chromium driven by Playwright.

One site per run of this package: a real bot (Maildir worker, baseline classifier) fills a
SQLite database from synthetic mails, the SMTP sink of the integration tests waits for
the replies, and the real app runs under uvicorn on 127.0.0.1 with production's cookie
flags. One browser for the package; every test gets a fresh browser context (no cookies,
no storage) and fails on any console error, uncaught page error or Content-Security-
Policy violation (Chromium reports those as console errors "Refused to ...").
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from sqlmodel import col, select

from mailbot.cases.models import Case, OutboundMessage, OutboundStatus
from mailbot.database import transaction
from mailbot.handling.record import Handling
from mailbot.pipeline import Bot
from mailbot.staff.members import add_member
from mailbot.store.models import KnownAccount, utcnow
from mailbot.web.app import create_app
from mailbot.web.context import WebContext
from mailbot.worker import Worker
from tests.conftest import TEST_DATA_KEY
from tests.maildir_worker import deliver, maildir_worker
from tests.mailfactory import request_mail
from tests.servers.smtp_sink import SmtpSink, start_smtp_sink

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying Google's hosts, which
# this machine's closed network refuses (and which a test has no business calling).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

PASSWORD = "correct horse battery staple"
PEOPLE = {"dpo": "Dana DPO", "compliance": "Chris Compliance", "admin": "Ada Admin"}
HOMES = {"dpo": "/cases", "compliance": "/dashboard", "admin": "/staff"}

# Who wrote in. Known accounts raise no identity doubt, so their requests go straight
# to a drafted answer that waits for the DPO (LEGAL.md §4).
KNOWN = "Morgan Example <morgan.example@example.org>"
KNOWN_TOO = "Sam Sample <sam.sample@example.org>"
VAGUE = "Anna Peeters <anna.peeters@example.org>"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"{CHROMIUM} is absent: `scripts/system-packages.sh browser` "
                        "installs Debian's chromium"
                    )
                )


class FallsOver:
    """A classifier with a bug, for one mail: the worker quarantines it."""

    name = "falls-over"

    def classify(self, subject: str, body: str) -> object:
        raise RuntimeError("index out of range")


@dataclass
class Site:
    """The app under test and the bot behind it."""

    url: str
    worker: Worker
    sink: SmtpSink
    references: dict[str, str] = field(default_factory=dict)  # what each sample became

    def case(self, reference: str) -> Case:
        with transaction(self.worker.engine) as session:
            return session.exec(select(Case).where(Case.reference == reference)).one()

    def drafts_of(self, reference: str) -> list[OutboundMessage]:
        with transaction(self.worker.engine) as session:
            case = session.exec(select(Case).where(Case.reference == reference)).one()
            return list(
                session.exec(
                    select(OutboundMessage)
                    .where(OutboundMessage.case_id == case.id)
                    .where(OutboundMessage.status == OutboundStatus.AWAITING_APPROVAL)
                    .order_by(col(OutboundMessage.id))
                ).all()
            )

    def send_replies(self) -> None:
        """One round of the real worker: what is approved goes to the SMTP sink. In a
        thread of its own: Playwright's sync API keeps an event loop in the test's."""
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(self.worker.run(once=True))
            except BaseException as exc:  # handed to the test below
                failure.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(60)
        assert not thread.is_alive() and not failure, failure


def _newest_reference(worker: Worker) -> str:
    with transaction(worker.engine) as session:
        case = session.exec(select(Case).order_by(col(Case.id).desc())).first()
        assert case is not None
        return case.reference


def _fill(worker: Worker) -> dict[str, str]:
    """The mails the bot handles before the browser opens; returns their references."""
    with transaction(worker.engine) as session:
        for sender in (KNOWN, KNOWN_TOO):
            address = sender.split("<")[1].rstrip(">")
            session.add(KnownAccount(address=address, source="browser-tests"))
    samples = {
        "nl_erasure": request_mail(
            sender="Lotte Vermeulen <lotte.vermeulen@example.org>", language="nl"
        ),
        "fr_access": request_mail(sender="Julie Lambert <j.lambert@example.org>", language="fr"),
        "de_objection": request_mail(
            sender="Jonas Becker <jonas.becker@example.org>",
            language="de",
            subject="Werbung",
            body="Guten Tag,\n\nich widerspreche der Nutzung meiner Daten für Werbung.\n\nGruß",
        ),
        "en_access_known": request_mail(
            sender=KNOWN,
            subject="Access request",
            body="Hello,\n\nPlease send me a copy of all personal data you hold about me."
            "\n\nThanks",
        ),
        "nl_access_known": request_mail(
            sender=KNOWN_TOO,
            language="nl",
            subject="Inzage",
            body="Beste,\n\nIk wil graag inzage in alle persoonsgegevens die jullie over mij "
            "bewaren.\n\nGroeten",
        ),
        "triage": request_mail(
            sender=VAGUE,
            language="nl",
            subject="Vraag",
            body="Hallo, ik heb een vraag over mijn account bij jullie.",
        ),
    }
    references = {}
    for name, raw in samples.items():
        deliver(worker, raw)
        references[name] = _newest_reference(worker)
    # One mail the bot cannot handle (a classifier bug), for the quarantine page.
    healthy = worker.bot
    worker.bot = Bot(healthy.settings, FallsOver(), healthy.sealer)  # type: ignore[arg-type]
    try:
        deliver(worker, request_mail(sender="Piet Jansen <piet.jansen@example.org>", language="nl"))
    finally:
        worker.bot = healthy
    return references


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test runner keeps its own
        pass


@contextmanager
def running_app(context: WebContext) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, in a thread; yields its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        create_app(context), log_level="warning", server_header=False, lifespan="off"
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the web app did not start")
            threading.Event().wait(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


# Package scope, not session: Playwright's sync API keeps an event loop running in the
# test's thread while it is open, so the browser must close before tests outside this
# package run asyncio.run (and the site's servers need not outlive these tests either).
@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as env:
        # Session-wide: the data key of every other test (tests/conftest.py).
        env.setenv("MAILBOT_DATA_KEY", TEST_DATA_KEY)
        root = tmp_path_factory.mktemp("site")
        sink = start_smtp_sink(root / "smtp")
        try:
            worker = maildir_worker(root / "bot", smtp_url=sink.url)
            references = _fill(worker)
            settings = worker.bot.settings
            context = WebContext(settings, worker.engine, Handling.of(settings, worker.bot.sealer))
            with transaction(worker.engine) as session:
                for role, name in PEOPLE.items():
                    add_member(session, name, role, PASSWORD, utcnow(), "browser tests")
            with running_app(context) as url:
                yield Site(url, worker, sink, references)
        finally:
            sink.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright gives every launch a new, empty --user-data-dir of its own.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Console:
    """What the page reported: a test fails on any of it unless it said it expects it."""

    problems: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def expect(self, pattern: str) -> None:
        self.expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(e.search(p) for e in self.expected)]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, site: Site, console: Console) -> Iterator[Page]:
    context = browser.new_context(base_url=site.url, java_script_enabled=True)
    context.set_default_timeout(10_000)
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        where = message.location.get("url") or page.url
        if message.type in ("error", "assert"):
            console.problems.append(f"console {message.type}: {message.text} ({where})")
        elif message.type == "warning" and "Content Security Policy" in message.text:
            console.problems.append(f"console warning: {message.text} ({page.url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: console.problems.append(f"page error: {error}"))
    try:
        yield page
    finally:
        context.close()
    unexpected = console.unexpected()
    if unexpected:
        pytest.fail("the browser reported:\n" + "\n".join(unexpected), pytrace=False)


SignIn = Callable[[str], None]


@pytest.fixture
def sign_in(page: Page) -> SignIn:
    """Sign in through the form, as a person would; returns once the next page loaded."""

    def signing_in(role: str) -> None:
        page.goto("/signin")
        page.get_by_label("Name").fill(PEOPLE[role])
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()

    return signing_in
