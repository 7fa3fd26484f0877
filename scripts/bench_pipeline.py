"""Throughput of the whole worker on this machine: N synthetic mails from a Maildir through
ingest, pipeline and outbox into a local SMTP server, SQLite in a temporary directory.

    .venv/bin/python -m scripts.bench_pipeline [N] [CLASSIFIER]   (e5 or baseline)

Prints mails per second for each stage and the peak RSS; the README quotes the figures.
"""

from __future__ import annotations

import asyncio
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

from aiosmtpd.smtp import SMTP

from mailbot.config import Settings
from mailbot.demo import CapturingHandler
from mailbot.replies.outbox import send_due
from mailbot.runtime import open_worker
from mailbot.sealing import new_key_text
from mailbot.store.ingest import ingest
from tests.mailfactory import request_mail


async def bench(count: int, root: Path, classifier: str) -> None:
    inbox = root / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True)
    for n in range(count):
        lang = ("nl", "fr", "de", "en")[n % 4]
        # A domain per sender: the per-domain reply cap would hold the rest for the DPO.
        sender = f"Requester {n} <requester{n}@d{n}.example.org>"
        (inbox / "new" / f"{n:06d}").write_bytes(request_mail(sender=sender, language=lang))
    handler = CapturingHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = Settings(
        data_key=new_key_text(),
        maildir=inbox,
        classifier=classifier,
        smtp_url=f"smtp://127.0.0.1:{port}",
        data_dir=root,
        database_url=f"sqlite:///{root / 'bench.sqlite3'}",
    )
    started = time.perf_counter()
    worker = open_worker(settings)
    loaded = time.perf_counter()
    ingest(worker.engine, worker.source, settings.max_message_bytes, worker.bot.sealer)
    ingested = time.perf_counter()
    worker.handle_pending()
    handled = time.perf_counter()
    await send_due(worker.engine, settings)
    sent = time.perf_counter()
    server.close()
    assert len(handler.messages) == count, "every mail must be acknowledged"
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"Python {platform.python_version()}, SQLite database"
    )
    print(f"start (migrations, classifier load): {loaded - started:.2f} s")
    for stage, seconds in (
        ("ingest", ingested - loaded),
        ("handle", handled - ingested),
        ("send", sent - handled),
        ("total", sent - loaded),
    ):
        print(f"{stage:>7}: {count / seconds:8.1f} mails/s ({seconds:.2f} s for {count})")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    classifier = sys.argv[2] if len(sys.argv) > 2 else "e5"
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(bench(count, Path(directory), classifier))
