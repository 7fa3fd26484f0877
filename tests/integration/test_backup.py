"""`mailbot backup` and `mailbot restore` with the real Dovecot and SMTP server: back up,
destroy the database, restore, and the worker carries on with nothing lost and nothing
answered twice. A copy is refused under another data key, and never laid over a
database in place without --replace."""

from __future__ import annotations

import base64
import os
import stat
import time
from pathlib import Path

from tests.integration.botprocess import bot_env, mailbot, status
from tests.mailfactory import request_mail
from tests.servers.mailservers import Dovecot, MailAccount, SmtpSink


def test_back_up_destroy_restore_and_the_worker_carries_on(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    database = tmp_path / "data" / "mailbot.sqlite3"
    for n, language in enumerate(("nl", "fr")):
        sender = f"Requester {n} <r{n}@d{n}.example.org>"
        dovecot.deliver(mail_account, request_mail(sender=sender, language=language))
    mailbot("run", "--once", env=env)
    assert len(smtp_sink.wait_for(2)) == 2

    copy = tmp_path / "backups" / "mailbot-1.sqlite3"
    done = mailbot("backup", str(copy), env=env)
    assert "database copied" in done.stdout
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert mailbot("backup", str(copy), env=env, check=False).returncode == 2  # never over
    into = mailbot("backup", str(copy.parent), env=env).stdout  # a directory: a dated file
    assert len(list(copy.parent.glob("mailbot-*.sqlite3"))) == 2 and "mailbot-" in into

    for file in database.parent.glob("mailbot.sqlite3*"):
        file.unlink()  # the disk is gone
    mailbot("restore", str(copy), env=env)
    assert status(env)["cases"] == 2

    dovecot.deliver(mail_account, request_mail(sender="New <new@d9.example.org>", language="de"))
    mailbot("run", "--once", env=env)
    sent = smtp_sink.wait_for(3)
    assert sorted(str(m["To"]) for m in sent) == [
        "new@d9.example.org", "r0@d0.example.org", "r1@d1.example.org"
    ]  # fmt: skip
    counts = status(env)
    assert (counts["inbound"], counts["cases"]) == (3, 3)


def test_a_restore_is_refused_under_another_key_or_over_a_database(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    dovecot.deliver(mail_account, request_mail(language="nl"))
    mailbot("run", "--once", env=env)
    copy = tmp_path / "copy.sqlite3"
    mailbot("backup", str(copy), env=env)
    before = copy.read_bytes()

    refused = mailbot("restore", str(copy), env=env, check=False)
    assert refused.returncode == 2 and "--replace" in refused.stderr

    other_key = base64.b64encode(os.urandom(32)).decode()
    elsewhere = {**env, "MAILBOT_DATA_KEY": other_key, "MAILBOT_DATA_DIR": str(tmp_path / "new")}
    wrong = mailbot("restore", str(copy), env=elsewhere, check=False)
    assert wrong.returncode == 2 and "key" in wrong.stderr
    assert not (tmp_path / "new" / "mailbot.sqlite3").exists()
    assert copy.read_bytes() == before  # a restore only ever reads the backup

    assert mailbot("restore", str(copy), "--replace", env=env).returncode == 0
    assert status(env)["cases"] == 1


def test_a_restore_is_refused_while_a_worker_runs(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    from tests.integration.botprocess import start_worker, stop_worker, wait_until

    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    mailbot("run", "--once", env=env)
    copy = tmp_path / "copy.sqlite3"
    mailbot("backup", str(copy), env=env)
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        lock = tmp_path / "data" / "mailbot.worker-lock"
        wait_until(lock.exists, 60, "the worker's lease")
        time.sleep(1)
        refused = mailbot("restore", str(copy), "--replace", env=env, check=False)
    finally:
        stop_worker(worker)
    assert refused.returncode == 2 and "a worker is running" in refused.stderr
