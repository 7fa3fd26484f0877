"""`MAILBOT_LOG_FORMAT=json`: the worker's log is one JSON object per line, naming the
event, never a sender's address or a mail's text, also when a mail is quarantined."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.botprocess import bot_env, mailbot
from tests.integration.test_bad_input import BAD_MAILS
from tests.mailfactory import request_mail
from tests.servers.mailservers import Dovecot, MailAccount, SmtpSink

SECRET_TEXT = "Mijn rekeningnummer is BE00 0000 0000 0000, verwijder alles."


def test_the_worker_logs_one_json_object_per_line_without_personal_data(
    dovecot: Dovecot, mail_account: MailAccount, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    dovecot.deliver(mail_account, BAD_MAILS["lost_boundary"])
    dovecot.deliver(mail_account, BAD_MAILS["huge_attachment"])
    sender = "Jonas Verlinden <jonas.verlinden@example.org>"
    dovecot.deliver(mail_account, request_mail(sender=sender, language="nl", body=SECRET_TEXT))
    env = {**bot_env(dovecot, mail_account, smtp_sink, tmp_path / "data"),
           "MAILBOT_LOG_FORMAT": "json"}  # fmt: skip
    done = mailbot("run", "--once", "--verbose", env=env)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines, "the worker logged nothing"
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(event) for event in events)
    informative = [e for e in events if e["level"] in ("INFO", "WARNING", "ERROR")]
    assert informative
    for event in informative:
        text = json.dumps(event)
        assert "example.org" not in text and "verwijder alles" not in text, event
