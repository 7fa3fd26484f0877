"""A standby worker on PostgreSQL, with the real Dovecot, SMTP server and PostgreSQL: the
leader is killed with SIGKILL while mail arrives, the standby takes over within 30 s,
no mail is lost and no acknowledgement goes out twice except as the same message (the
outbox's stable Message-ID). On SQLite a second worker still refuses, saying why."""

from __future__ import annotations

import re
import secrets
import signal
import time
from collections import defaultdict
from pathlib import Path

from tests.integration.botprocess import (
    bot_env,
    mailbot,
    mails,
    start_worker,
    stop_worker,
    wait_until,
)
from tests.mailfactory import request_mail
from tests.servers.mailservers import Dovecot, MailAccount, SmtpSink
from tests.servers.postgres import Postgres

STANDING_BY = "another worker leads: standing by"
TAKEN_OVER = "the lease is free: this worker leads now"


def _request(n: int) -> bytes:
    # A domain per sender: the per-domain reply cap is not what is tested here.
    return request_mail(sender=f"Requester {n} <r{n}@d{n}.example.org>", language="nl")


def test_the_standby_takes_over_when_the_leader_is_killed(
    dovecot: Dovecot,
    mail_account: MailAccount,
    smtp_sink: SmtpSink,
    postgres: Postgres,
    tmp_path: Path,
) -> None:
    url = postgres.create_database(f"failover_{secrets.token_hex(4)}")
    env = {**bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data"),
           "MAILBOT_DATABASE_URL": url, "MAILBOT_IDLE_SECONDS": "2"}  # fmt: skip
    mailbot("migrate", env=env)
    leader_log, standby_log = tmp_path / "leader.log", tmp_path / "standby.log"
    leader = start_worker(env, leader_log)
    standby = None
    try:
        dovecot.deliver(mail_account, _request(0))
        smtp_sink.wait_for(1, timeout=60)
        standby = start_worker(env, standby_log)
        wait_until(lambda: STANDING_BY in standby_log.read_text(), 60, "the standby")

        for n in range(1, 4):  # mail arriving as the leader dies
            dovecot.deliver(mail_account, _request(n))
        leader.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        leader.wait(timeout=10)
        wait_until(lambda: TAKEN_OVER in standby_log.read_text(), 60, "the take-over")
        assert time.monotonic() - killed < 30
        dovecot.deliver(mail_account, _request(4))
        sent = smtp_sink.wait_for(5, timeout=60)
        time.sleep(3)  # anything sent twice would arrive now
        sent = smtp_sink.messages()
    finally:
        stop_worker(leader, signal.SIGKILL)
        if standby is not None:
            stop_worker(standby)

    message_ids: dict[str, set[str]] = defaultdict(set)
    for message in sent:
        message_ids[str(message["To"])].add(str(message["Message-ID"]))
    assert sorted(message_ids) == [f"r{n}@d{n}.example.org" for n in range(5)]
    # Each requester got one acknowledgement: a resend is the same message.
    assert all(len(ids) == 1 for ids in message_ids.values()), message_ids
    stored = mails(env)
    assert len(stored) == 5 and {m["disposition"] for m in stored} == {"case_opened"}


def test_a_second_worker_on_sqlite_refuses_and_says_why(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    first = start_worker(env, tmp_path / "first.log")
    try:
        wait_until(lambda: (tmp_path / "data" / "mailbot.worker-lock").exists(), 60, "start")
        time.sleep(2)
        second = mailbot("run", env=env, check=False)
    finally:
        stop_worker(first)
    assert second.returncode == 1
    assert re.search(r"another mailbot worker is running.*standby worker needs PostgreSQL",
                     second.stderr), second.stderr  # fmt: skip
