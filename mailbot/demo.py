"""`mailbot demo`: the whole bot on embedded defaults, nothing else installed.

Sample mails go into a Maildir, a local SMTP server (aiosmtpd, in this process) captures
what the bot sends, the database is a SQLite file; then the demo prints the cases it
opened and the acknowledgements the SMTP server received. One sample writes from a known
account (demo_mail/accounts.csv), so its answer waits as a draft for the DPO; one is too
vague for the classifier and waits for triage; one more arrives during a simulated
classifier fault and is quarantined, so every view of the web app has something to show.
`demo_logins` then creates one demo user per role for the web app (`mailbot demo` serves
it; see mailbot/cli.py).
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import Engine
from sqlmodel import select

from classifiers import Classification
from mailbot.accounts import read_accounts_csv
from mailbot.config import Settings
from mailbot.database import transaction
from mailbot.pipeline import Bot
from mailbot.reports import case_rows, inbound_rows, status_counts
from mailbot.runtime import open_database, open_worker
from mailbot.sealing import write_key_file
from mailbot.staff.members import add_member, find_member, reset_password
from mailbot.staff.models import Role
from mailbot.store.models import KnownAccount, utcnow
from mailbot.worker import Worker

SAMPLES = Path(__file__).parent / "demo_mail"
# Mails that arrive while the classifier is broken (a simulated fault).
FAULT_SAMPLES = SAMPLES / "fault"
DEMO_USERS = {Role.DPO: "demo-dpo", Role.COMPLIANCE: "demo-compliance", Role.ADMIN: "demo-admin"}


class CapturingHandler:
    """aiosmtpd handler that keeps every accepted mail in memory."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


class BrokenClassifier:
    """The simulated fault: a classifier that fails on every mail it reads."""

    name = "broken-for-the-demo"

    def classify(self, subject: str, body: str) -> Classification:
        raise RuntimeError("simulated classifier fault (demo)")


def prepare_maildir(root: Path, samples: Path = SAMPLES) -> Path:
    inbox = root / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    for sample in sorted(samples.glob("*.eml")):
        shutil.copyfile(sample, inbox / "new" / sample.stem)
    return inbox


def add_known_accounts(engine: Engine) -> None:
    """The demo's account list: mail from these addresses raises no identity doubt."""
    found = read_accounts_csv(SAMPLES / "accounts.csv")
    with transaction(engine) as session:
        known = set(session.exec(select(KnownAccount.address)).all())
        session.add_all(
            KnownAccount(address=address, source="demo")
            for address in found.addresses
            if address not in known
        )


async def _during_a_fault(worker: Worker, root: Path) -> None:
    """One more mail arrives while the classifier is broken: the worker quarantines it
    (the DPO can read it and hand it back) instead of stalling the mails behind it."""
    prepare_maildir(root, FAULT_SAMPLES)
    healthy = worker.bot
    worker.bot = Bot(healthy.settings, BrokenClassifier(), healthy.sealer)
    try:
        await worker.run(once=True)
    finally:
        worker.bot = healthy


async def _run(root: Path) -> tuple[Settings, list[EmailMessage]]:
    handler = CapturingHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    key_file = root / "data.key"
    if not key_file.exists():
        write_key_file(key_file)  # the demo's mails are sealed like production's
    settings = Settings(
        data_key_file=key_file,
        maildir=prepare_maildir(root),
        smtp_url=f"smtp://127.0.0.1:{port}",
        data_dir=root,
        database_url=f"sqlite:///{root / 'demo.sqlite3'}",
    )
    worker = open_worker(settings)
    add_known_accounts(worker.engine)
    try:
        await worker.run(once=True)
        await _during_a_fault(worker, root)
    finally:
        server.close()
        await server.wait_closed()
    return settings, handler.messages


def demo_logins(engine: Engine) -> dict[Role, tuple[str, str]]:
    """One demo user per role with a fresh random password: {role: (name, password)}.
    Demo-only accounts of a throwaway database; a second run resets their passwords."""
    logins: dict[Role, tuple[str, str]] = {}
    now = utcnow()
    with transaction(engine) as session:
        for role, name in DEMO_USERS.items():
            password = secrets.token_urlsafe(12)
            if find_member(session, name) is None:
                add_member(session, name, role.value, password, now, "mailbot demo")
            else:
                reset_password(session, name, password, now, "mailbot demo")
            logins[role] = (name, password)
    return logins


def run_demo(directory: Path | None = None, out: Any = print) -> tuple[Settings, Engine]:
    """Run the bot over the sample mails and print what it did; returns its settings and
    database for the web app."""
    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="mailbot-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    settings, sent = asyncio.run(_run(root))
    engine = open_database(settings)
    counts = status_counts(engine)
    samples = len(list(SAMPLES.glob("*.eml"))) + len(list(FAULT_SAMPLES.glob("*.eml")))
    out(f"privacy-mailbot demo: {samples} sample mails in {root}")
    out(f"status: {counts}")
    out("")
    out("Cases opened:")
    for row in case_rows(engine):
        out(
            f"  {row['reference']}  lang={row['language']}  {row['primary']:<14} "
            f"labels={','.join(row['labels'])}  received {row['receipt_date']}  "
            f"due {row['legal_due']}  triage={row['needs_triage']}"
        )
    out("")
    out("Mails recorded but not answered (never answer a machine; quarantined: for the DPO):")
    for mail in inbound_rows(engine):
        if mail["disposition"] != "case_opened":
            out(f"  {mail['message_id']}  {mail['disposition']}: {mail['reason']}")
    out("")
    out(f"Acknowledgements captured by the local SMTP server ({len(sent)}):")
    for message in sent:
        out("-" * 72)
        for header in ("To", "Subject", "In-Reply-To", "Auto-Submitted", "Content-Language"):
            out(f"{header}: {message[header]}")
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        out("")
        out(text.rstrip())
    out("-" * 72)
    out(f"Database: {settings.effective_database_url}")
    return settings, engine
