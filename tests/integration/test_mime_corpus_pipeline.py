"""All 375 real bounces, auto-replies and malformed mails of ../shared/corpus/mime through
the whole worker (Maildir source -> pipeline -> outbox -> real SMTP server).

None may crash the pipeline (an "internal error" quarantine counts as a crash), and no
bounce or auto-reply may be answered. The corpus stays in ../shared: the test copies the
files into a temporary Maildir, never into the repository, and skips without it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from mailbot.cases.models import OutboundMessage, OutboundStatus
from mailbot.config import Settings
from mailbot.database import transaction
from mailbot.runtime import open_worker
from mailbot.store.ingest import message_key
from mailbot.store.models import Disposition, InboundMessage
from tests.servers.mailservers import SmtpSink

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "mime"

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus/mime is absent"),
]


def test_every_corpus_mail_is_kept_and_no_bounce_or_auto_reply_is_answered(
    smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    index = [json.loads(line) for line in (CORPUS / "index.jsonl").read_text().splitlines()]
    maildir = tmp_path / "inbox"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    category_of_key: dict[str, set[str]] = {}
    for n, entry in enumerate(index):
        source = CORPUS / entry["file"]
        shutil.copyfile(source, maildir / "new" / f"{n:04d}.corpus")
        key = message_key(source.read_bytes())
        category_of_key.setdefault(key, set()).add(entry["category"])

    settings = Settings(
        maildir=maildir,
        smtp_url=smtp_sink.url,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'corpus.sqlite3'}",
    )
    worker = open_worker(settings)
    asyncio.run(worker.run(once=True))

    with transaction(worker.engine) as session:
        rows = session.exec(select(InboundMessage)).all()
        replies = session.exec(select(OutboundMessage)).all()
    # One row per distinct file: nothing is dropped, not even copies sharing a Message-ID.
    assert len(rows) == len(category_of_key)
    crashed = [row.message_key for row in rows if (row.reason or "").startswith("internal error")]
    assert crashed == []
    assert all(row.disposition != Disposition.PENDING for row in rows)
    answered = [row for row in rows if row.disposition in (Disposition.CASE_OPENED,)]
    automatic = {"bounce", "autoreply"}
    wrongly = [row.message_key for row in answered if category_of_key[row.message_key] & automatic]
    assert wrongly == [], "bounces or auto-replies were answered"
    # Every opened case got its first letter (acknowledgement, redirect, or the
    # confirmation of an objection): sent, or held for the DPO (a redirect always is,
    # and so is anything to an address that got more than a few in a day).
    first = {"acknowledgement", "redirect", "objection_done", "consent_withdrawn"}
    answered_ids = {r.inbound_id for r in replies if r.kind in first}
    assert answered_ids == {row.id for row in answered}
    sent = [r for r in replies if r.status == OutboundStatus.SENT]
    held = [r for r in replies if r.status == OutboundStatus.AWAITING_APPROVAL]
    assert len(sent) + len(held) == len(replies)
    assert len(smtp_sink.messages()) == len(sent)
    print(
        f"{len(rows)} mails: "
        + ", ".join(
            f"{d}={sum(r.disposition == d for r in rows)}"
            for d in sorted({r.disposition for r in rows})
        )
    )
