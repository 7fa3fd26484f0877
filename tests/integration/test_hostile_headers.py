"""Small mails whose headers once held the worker for minutes (issue 11, defect 1): each
is quarantined with the bound it broke, well inside the worker's time budget, readable
with `mails show`, and the mail behind it is answered."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, select

from mailbot.database import transaction
from mailbot.store.models import Disposition, InboundMessage
from mailbot.store.reading import read_stored
from tests.hostile_mail import HOSTILE_MAILS
from tests.maildir_worker import deliver, maildir_worker
from tests.mailfactory import request_mail


def test_hostile_headers_are_quarantined_and_the_next_mail_answered(tmp_path: Path) -> None:
    # Within its budget a mail is refused for what it is; past it the reason would say
    # "took longer than". Unbounded, the first of these took 73 s and 568 MB.
    worker = maildir_worker(tmp_path, mail_seconds=30)
    for make in HOSTILE_MAILS.values():
        deliver(worker, make())
    deliver(worker, request_mail(language="nl", message_id="<after@example.org>"))

    with transaction(worker.engine) as session:
        rows = session.exec(select(InboundMessage).order_by(col(InboundMessage.id))).all()
    *hostile, after = rows
    reasons = [(row.disposition, row.reason) for row in hostile]
    assert reasons == [
        (Disposition.QUARANTINED, "too many parameters in one header field (over 100)"),
        (Disposition.QUARANTINED, "header line too long (over 32768 bytes)"),
        (Disposition.QUARANTINED, "too many header fields (over 1000)"),
        (Disposition.QUARANTINED, "header line too long (over 32768 bytes)"),
        (Disposition.QUARANTINED, "too many parameters in one header field (over 100)"),
    ]
    assert after.disposition == Disposition.CASE_OPENED
    # The DPO can still read each one: the body's first bytes, no hostile header parsed.
    shown = [read_stored(row, worker.bot.sealer) for row in hostile]
    assert all("Please delete my data." in mail.text for mail in shown[:4])
    assert "hello" in shown[4].text
