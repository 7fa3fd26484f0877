"""End to end: mails delivered into a real Dovecot -> `mailbot run` -> acknowledgements
captured by a real SMTP server. No mocks: the command, the servers and the database are real.
"""

from __future__ import annotations

import re
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

from imapclient import IMAPClient

from tests.conftest import TEST_DATA_KEY
from tests.integration.botprocess import (
    bot_env,
    cases,
    imap_flags,
    mailbot,
    mails,
    start_worker,
    status,
    stop_worker,
    wait_until,
)
from tests.mailfactory import auto_reply, bounce, request_mail
from tests.servers.mailservers import Dovecot, MailAccount, SmtpSink

REFERENCE = re.compile(r"\[(JAIMY-PRIV-\d{4}-\d{4})\]")


def test_four_languages_become_cases_and_threaded_acknowledgements(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    requests = {
        lang: request_mail(
            sender=f"Person {lang.upper()} <{lang}.person@example.org>",
            language=lang,
            message_id=f"<req-{lang}@example.org>",
        )
        for lang in ("nl", "fr", "de", "en")
    }
    for raw in requests.values():
        dovecot.deliver(mail_account, raw)
    dovecot.deliver(mail_account, auto_reply())
    dovecot.deliver(mail_account, bounce())
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    env["MAILBOT_CLASSIFIER"] = "e5"  # the real, trained classifier end to end

    mailbot("run", "--once", env=env)

    sent = smtp_sink.wait_for(4)
    assert len(sent) == 4, "the auto-reply and the bounce must not be answered"
    by_recipient = {str(m["To"]): m for m in sent}
    for lang in ("nl", "fr", "de", "en"):
        ack = by_recipient[f"{lang}.person@example.org"]
        assert ack["In-Reply-To"] == f"<req-{lang}@example.org>"
        assert f"<req-{lang}@example.org>" in ack["References"]
        assert ack["Auto-Submitted"] == "auto-replied"
        assert ack["Content-Language"] == lang
        assert REFERENCE.search(ack["Subject"]), ack["Subject"]
        assert ack["X-Sink-Mail-From"] == "privacy@jaimy.be"
    listed = cases(env)
    assert sorted(row["language"] for row in listed) == ["de", "en", "fr", "nl"]
    primaries = {row["language"]: row["primary"] for row in listed}
    assert primaries == {"nl": "erasure", "fr": "access", "de": "access", "en": "erasure"}
    for row in listed:
        assert {
            "reference",
            "requester",
            "language",
            "primary",
            "labels",
            "status",
            "receipt_date",
            "legal_due",
        } <= row.keys()
        # Unknown senders (no account directory imported): an ID copy is asked for.
        assert row["status"] == "awaiting_identity"
    references = {REFERENCE.search(m["Subject"]).group(1) for m in sent}  # type: ignore[union-attr]
    assert references == {row["reference"] for row in listed}
    assert status(env) == {
        "inbound": 6,
        "cases": 4,
        "outbox": {"sent": 4, "queued": 0, "failed": 0},
        "quarantined": 0,
        "sending": {"state": "sending", "reason": None, "since": None, "until": None},
    }
    flags = imap_flags(dovecot, mail_account)
    assert all(b"$MailbotDone" in f and b"\\Seen" in f for f in flags.values()), flags

    # A second run finds nothing new: nothing stored or sent twice.
    mailbot("run", "--once", env=env)
    assert len(smtp_sink.messages()) == 4
    assert status(env)["inbound"] == 6


def test_reply_to_an_acknowledgement_joins_the_case(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    sender = "Jan Peeters <jan.peeters@example.org>"
    dovecot.deliver(mail_account, request_mail(sender=sender, language="nl"))
    mailbot("run", "--once", env=env)
    ack = smtp_sink.wait_for(1)[0]
    follow_up = request_mail(
        sender=sender,
        language="nl",
        subject=f"Re: {ack['Subject']}",
        body="Hier is nog een vraag.",
        extra_headers={"In-Reply-To": ack["Message-ID"]},
    )
    stranger = request_mail(
        sender="Someone Else <other@example.test>",
        language="nl",
        subject=f"Re: {ack['Subject']}",
        body="Ik citeer een referentie van iemand anders.",
    )
    dovecot.deliver(mail_account, follow_up)
    dovecot.deliver(mail_account, stranger)
    mailbot("run", "--once", env=env)
    # The requester's reply joins the case silently; the stranger gets a case of their own.
    assert len(cases(env)) == 2
    sent = smtp_sink.wait_for(2)
    assert [str(m["To"]) for m in sent] == ["jan.peeters@example.org", "other@example.test"]


def test_imaps_and_uidvalidity_change(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data", tls=True)
    assert env["MAILBOT_IMAP_URL"].startswith("imaps://")
    dovecot.deliver(mail_account, request_mail(language="fr"))
    dovecot.deliver(mail_account, request_mail(language="de"))
    mailbot("run", "--once", env=env)
    smtp_sink.wait_for(2)

    # The server renumbers the folder: the bot reads it again, recognises what it
    # already has by Message-ID and answers only the new mail.
    dovecot.set_uidvalidity(mail_account, 4242)
    dovecot.deliver(mail_account, request_mail(language="en"))
    mailbot("run", "--once", env=env)
    assert len(smtp_sink.wait_for(3)) == 3
    assert status(env)["inbound"] == 3
    assert len(smtp_sink.messages()) == 3
    flags = imap_flags(dovecot, mail_account)
    assert len(flags) == 3
    assert all(b"$MailbotDone" in f for f in flags.values()), flags


def test_running_worker_answers_new_mail_and_survives_a_disconnect(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    env["MAILBOT_IDLE_SECONDS"] = env["MAILBOT_POLL_SECONDS"] = "300"
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        wait_until(lambda: "connected to" in log.read_text(), 30, "the worker to connect")
        time.sleep(1)  # let it settle into IDLE
        dovecot.deliver(mail_account, request_mail(language="nl"))
        # IDLE pushes the new mail: answered in seconds, not after a 300 s poll.
        smtp_sink.wait_for(1, timeout=8)

        dovecot.kick(mail_account)  # the server drops the connection
        dovecot.deliver(mail_account, request_mail(language="fr"))
        smtp_sink.wait_for(2, timeout=30)
        assert worker.poll() is None, log.read_text()
    finally:
        code = stop_worker(worker)
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()


def test_sigkill_mid_batch_loses_nothing_and_sends_nothing_twice(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    total = 60
    for n in range(total):
        lang = ("nl", "fr", "de", "en")[n % 4]
        # One domain each: sixty requests from one domain in a day would be held for the
        # DPO by the per-domain cap, which is not what this test is about.
        sender = f"Requester {n} <requester{n}@home{n}.example.org>"
        mail = request_mail(sender=sender, language=lang, message_id=f"<kill-{n}@example.org>")
        dovecot.deliver(mail_account, mail)
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    data = tmp_path / "data"
    kills = 0
    progress_at_kill = []
    # Kill the worker at different depths: during ingest, handling and sending.
    for threshold in (10, 80, 150):
        worker = start_worker(env, tmp_path / "worker.log")
        wait_until(
            lambda t=threshold, w=worker: _progress(data) >= t or w.poll() is not None,  # type: ignore[misc]
            60,
            f"progress {threshold}",
        )
        stop_worker(worker, signal.SIGKILL)
        kills += 1
        progress_at_kill.append(_progress(data))
    # The kills really interrupted work (3 * total when everything is done).
    assert all(progress < 3 * total for progress in progress_at_kill), progress_at_kill
    mailbot("run", "--once", env=env)

    assert status(env) == {
        "inbound": total,
        "cases": total,
        "outbox": {"sent": total, "queued": 0, "failed": 0},
        "quarantined": 0,
        "sending": {"state": "sending", "reason": None, "since": None, "until": None},
    }
    sent = smtp_sink.messages()
    answered = [m["In-Reply-To"] for m in sent]
    assert set(answered) == {f"<kill-{n}@example.org>" for n in range(total)}
    # A duplicate can only come from a kill between the server's acceptance and our
    # commit, and then it carries the same Message-ID.
    assert len(sent) - total <= kills
    duplicates = len(sent) - len({m["Message-ID"] for m in sent})
    assert duplicates == len(sent) - total
    print("progress at each kill (of", 3 * total, "):", progress_at_kill)


def _progress(data_dir: Path) -> int:
    """Mails stored + mails handled + replies sent, read straight from the SQLite file."""
    import sqlite3

    path = data_dir / "mailbot.sqlite3"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=1) as db:
            stored = db.execute("select count(*) from inbound_message").fetchone()[0]
            handled = db.execute(
                "select count(*) from inbound_message where disposition != 'pending'"
            ).fetchone()[0]
            sent = db.execute(
                "select count(*) from outbound_message where status = 'sent'"
            ).fetchone()[0]
    except sqlite3.Error:
        return 0
    return int(stored) + int(handled) + int(sent)


def test_unreachable_imap_server_is_a_clear_error_when_running_once(
    smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    env = {
        "MAILBOT_IMAP_URL": "imap://user:secret@127.0.0.1:9/INBOX",  # nothing listens on 9
        "MAILBOT_SMTP_URL": smtp_sink.url,
        "MAILBOT_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "MAILBOT_DATA_KEY": TEST_DATA_KEY,
    }
    done = mailbot("run", "--once", env=env, check=False)
    assert done.returncode == 1
    assert "cannot reach the mail source" in done.stderr
    assert "secret" not in done.stderr and "Traceback" not in done.stderr


def test_bad_configuration_is_reported_before_anything_runs(tmp_path: Path) -> None:
    env = {"MAILBOT_IMAP_URL": "pop3://x", "MAILBOT_DATA_DIR": str(tmp_path), "PATH": "/usr/bin"}
    done = mailbot("run", "--once", env=env, check=False)
    assert done.returncode == 2
    assert "MAILBOT_IMAP_URL" in done.stderr and "imap or imaps" in done.stderr


def test_receipt_date_is_when_the_server_received_the_mail(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    # LEGAL.md §1.1: 23:30 UTC on 31 January is 1 February in Brussels.
    arrived = datetime(2025, 1, 31, 23, 30, tzinfo=UTC)
    client = IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False)
    client.login(mail_account.user, mail_account.password)
    client.append("INBOX", request_mail(language="fr"), msg_time=arrived)
    client.logout()
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    mailbot("run", "--once", env=env)
    (case,) = cases(env)
    assert case["receipt_date"] == "2025-02-01"
    assert case["legal_due"] == "2025-03-03"  # 1 March 2025 is a Saturday
    body = smtp_sink.wait_for(1)[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    text = " ".join(body.split())  # lines are wrapped at 78 characters
    assert "1er février 2025" in text and "3 mars 2025" in text


def test_mail_over_the_size_cap_is_kept_as_headers_and_quarantined(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    dovecot.deliver(
        mail_account,
        request_mail(language="en", body="x" * 200_000, message_id="<big@example.org>"),
    )
    dovecot.deliver(mail_account, request_mail(language="en", message_id="<small@example.org>"))
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    env["MAILBOT_MAX_MESSAGE_BYTES"] = "100000"
    mailbot("run", "--once", env=env)
    rows = {row["message_id"]: row for row in mails(env)}
    big = rows[None] if None in rows else rows["<big@example.org>"]
    assert big["disposition"] == "quarantined" and "too large" in big["reason"]
    assert big["size"] > 200_000
    assert rows["<small@example.org>"]["disposition"] == "case_opened"
    assert len(smtp_sink.wait_for(1)) == 1
    flags = imap_flags(dovecot, mail_account)
    assert b"$MailbotQuarantined" in flags[1] and b"\\Seen" not in flags[1]


def test_history_new_leaves_mail_already_in_the_folder_alone(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    dovecot.deliver(mail_account, request_mail(language="nl"))  # handled by hand before
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    env["MAILBOT_IMAP_HISTORY"] = "new"
    mailbot("run", "--once", env=env)
    assert status(env)["inbound"] == 0
    dovecot.deliver(mail_account, request_mail(language="de", message_id="<later@example.org>"))
    mailbot("run", "--once", env=env)
    (ack,) = smtp_sink.wait_for(1)
    assert ack["In-Reply-To"] == "<later@example.org>"


def test_a_copy_with_the_same_message_id_is_kept_but_answered_once(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    raw = request_mail(language="nl", message_id="<cc-twice@example.org>")
    dovecot.deliver(mail_account, raw)
    dovecot.deliver(mail_account, b"Delivered-To: privacy@jaimy.be\r\n" + raw)  # second route
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    mailbot("run", "--once", env=env)
    dispositions = sorted(row["disposition"] for row in mails(env))
    assert dispositions == ["case_opened", "duplicate"]
    assert len(cases(env)) == 1 and len(smtp_sink.wait_for(1)) == 1


def test_a_second_worker_on_the_same_database_refuses_to_start(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        wait_until(lambda: "connected to" in log.read_text(), 30, "the worker to connect")
        second = mailbot("run", "--once", env=env, check=False)
        assert second.returncode == 1
        assert "another mailbot worker is running" in second.stderr
    finally:
        stop_worker(worker)
    # Once the first has stopped (or died: the OS drops the lock), a new one may run.
    assert mailbot("run", "--once", env=env).returncode == 0
