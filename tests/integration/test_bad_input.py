"""Bad input through the real servers: the worker never crashes, every mail is kept with
a recorded outcome, and the mail after a bad one is answered as usual."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

from tests.integration.botprocess import bot_env, imap_flags, mailbot, status
from tests.mailfactory import PNG_1PX, request_mail
from tests.servers.mailservers import Dovecot, MailAccount, SmtpSink


def _raw(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


def _many_attachments(count: int) -> bytes:
    message = EmailMessage()
    message["From"] = "Many Parts <parts@example.org>"
    message["To"] = "privacy@jaimy.be"
    message["Subject"] = "Mijn documenten"
    message["Message-ID"] = "<bad-parts@example.org>"
    message.set_content("Zie bijlagen.")
    for n in range(count):
        message.add_attachment(PNG_1PX, maintype="image", subtype="png", filename=f"p{n}.png")
    return message.as_bytes()


BAD_MAILS: dict[str, bytes] = {
    "lost_boundary": _raw(
        "From: Lost Boundary <lost@example.org>\nTo: privacy@jaimy.be\n"
        "Subject: Delete my data\nMessage-ID: <bad-boundary@example.org>\n"
        "MIME-Version: 1.0\nContent-Type: multipart/mixed\n\n"
        "--x\nContent-Type: text/plain\n\nPlease delete my account.\n--x--\n"
    ),
    "unknown_charset": _raw(
        "From: Odd Charset <charset@example.org>\nTo: privacy@jaimy.be\n"
        "Subject: Suppression\nMessage-ID: <bad-charset@example.org>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=x-unknown\n\n"
        "Supprimez mes donn\xe9es s'il vous pla\xeet.\n"
    ),
    "empty": _raw(
        "From: Empty Mail <empty@example.org>\nTo: privacy@jaimy.be\n"
        "Message-ID: <bad-empty@example.org>\n\n"
    ),
    "header_injection": _raw(
        "From: Injector <inject@example.org>\nTo: privacy@jaimy.be\n"
        "Subject: =?utf-8?q?Hello=0D=0ABcc:_victim@example.net?=\n"
        "Message-ID: <bad-inject@example.org>\n\nDelete my data.\n"
    ),
    "huge_attachment": request_mail(
        sender="Big Photo <big@example.org>",
        message_id="<bad-huge@example.org>",
        attachments=[("id.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + b"\0" * (30 * 1024 * 1024))],
    ),
    "five_hundred_attachments": _many_attachments(500),
}


def test_bad_mails_are_kept_and_the_next_mail_is_answered(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    good_ids = []
    for name, raw in BAD_MAILS.items():
        dovecot.deliver(mail_account, raw)
        good_ids.append(f"<good-after-{name}@example.org>")
        dovecot.deliver(mail_account, request_mail(language="nl", message_id=good_ids[-1]))
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")

    done = mailbot("run", "--once", env=env)
    assert "Traceback" not in done.stderr

    rows = {
        row["message_id"]: row
        for row in map(
            json.loads, mailbot("mails", "list", "--json", env=env).stdout.split("\n")[:-1]
        )
    }
    assert len(rows) == 2 * len(BAD_MAILS), "every mail is kept"
    for message_id in good_ids:
        assert rows[message_id]["disposition"] == "case_opened"
    outcome = {
        name: rows[f"<bad-{key}@example.org>"]
        for name, key in (
            ("lost_boundary", "boundary"),
            ("unknown_charset", "charset"),
            ("empty", "empty"),
            ("header_injection", "inject"),
            ("huge_attachment", "huge"),
            ("five_hundred_attachments", "parts"),
        )
    }
    # Recoverable damage is handled: the text is still read and the request answered.
    assert outcome["lost_boundary"]["disposition"] == "case_opened"
    assert outcome["unknown_charset"]["disposition"] == "case_opened"
    # The rest is quarantined with a reason a person can act on.
    for name, words in (
        ("empty", "empty"),
        ("header_injection", "CR/LF"),
        ("huge_attachment", "too large"),
        ("five_hundred_attachments", "too many"),
    ):
        assert outcome[name]["disposition"] == "quarantined", (name, outcome[name])
        assert words in str(outcome[name]["reason"]), (name, outcome[name])
    # No reply can carry an injected header; the quarantined mails got none.
    sent = smtp_sink.wait_for(len(BAD_MAILS) + 2)
    recipients = sorted(str(m["To"]) for m in sent)
    assert "inject@example.org" not in recipients
    assert all(b"victim@example.net" not in m.as_bytes() for m in sent)
    assert all("victim" not in str(m["X-Sink-Rcpt-To"]) for m in sent)
    counts = status(env)
    assert counts["quarantined"] == 4
    assert counts["outbox"] == {"sent": len(BAD_MAILS) + 2, "queued": 0, "failed": 0}


def test_a_dismissed_mail_leaves_the_folder_even_after_renumbering(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    env = bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data")
    dovecot.deliver(mail_account, _many_attachments(500))  # quarantined, its parts kept
    mailbot("run", "--once", env=env)
    (held,) = json.loads("[" + mailbot("mails", "list", "--json", env=env).stdout.strip() + "]")
    assert held["disposition"] == "quarantined"
    shown = mailbot("mails", "show", str(held["id"]), env=env).stdout
    assert "Mijn documenten" in shown and "Zie bijlagen." in shown

    # The server renumbers the folder before the DPO gets to it: the UID the bot stored
    # names nothing now; the mail is read again and found under its new number.
    dovecot.set_uidvalidity(mail_account, 777)
    mailbot("mails", "dismiss", str(held["id"]), "--as", "Dana DPO", "--reason", "spam", env=env)
    mailbot("run", "--once", env=env)
    assert imap_flags(dovecot, mail_account) == {}, "the mailbox copy is gone"
    (row,) = json.loads("[" + mailbot("mails", "list", "--json", env=env).stdout.strip() + "]")
    assert row["disposition"] == "dismissed" and "Dana DPO" in row["reason"]
    assert status(env)["quarantined"] == 0
