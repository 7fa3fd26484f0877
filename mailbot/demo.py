"""`mailbot demo`: the whole bot on embedded defaults, nothing else installed.

Sample mails go into a Maildir, a local SMTP server (aiosmtpd, in this process) captures
what the bot sends, the database is a SQLite file; then the demo prints the cases it
opened and the acknowledgements the SMTP server received.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from mailbot.config import Settings
from mailbot.reports import case_rows, inbound_rows, status_counts
from mailbot.runtime import open_worker
from mailbot.sealing import write_key_file

SAMPLES = Path(__file__).parent / "demo_mail"


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


def prepare_maildir(root: Path) -> Path:
    inbox = root / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    for sample in sorted(SAMPLES.glob("*.eml")):
        shutil.copyfile(sample, inbox / "new" / sample.stem)
    return inbox


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
    try:
        await worker.run(once=True)
    finally:
        server.close()
        await server.wait_closed()
    return settings, handler.messages


def run_demo(directory: Path | None = None, out: Any = print) -> None:
    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="mailbot-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    settings, sent = asyncio.run(_run(root))
    from mailbot.runtime import open_database

    engine = open_database(settings)
    counts = status_counts(engine)
    out(f"privacy-mailbot demo: {len(list(SAMPLES.glob('*.eml')))} sample mails in {root}")
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
    out("Mails recorded but not answered (never answer a machine):")
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
