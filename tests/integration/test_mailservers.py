"""The mail-server rig is real: Dovecot and the SMTP sink behave as the bot will see them."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib
import imapclient
import pytest
from imapclient.exceptions import IMAPClientAbortError, LoginError

from tests.servers.mailservers import Dovecot, MailAccount, SmtpSink, start_smtp_sink

TIMEOUT = 10.0


def request_mail(subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Noor Vermeulen <noor.vermeulen@example.org>"
    message["To"] = "privacy@example.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4()}@example.org>"
    message.set_content("Ik wil graag inzage in mijn persoonsgegevens.")
    return message.as_bytes()


def outgoing_mail(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "privacy@example.test"
    message["To"] = "noor.vermeulen@example.org"
    message["Subject"] = subject
    message.set_content("We hebben uw verzoek ontvangen.")
    return message


def imap_login(dovecot: Dovecot, account: MailAccount) -> imapclient.IMAPClient:
    client = imapclient.IMAPClient(dovecot.host, dovecot.imap_port, ssl=False, timeout=TIMEOUT)
    client.login(account.user, account.password)
    return client


def wait_for_exists(client: imapclient.IMAPClient, count: int) -> bool:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if (count, b"EXISTS") in client.idle_check(timeout=1):
            return True
    return False


def test_delivered_mail_is_fetched_over_plain_imap_and_peeking_leaves_it_unseen(
    dovecot: Dovecot, mail_account: MailAccount
) -> None:
    raw = request_mail("Inzageverzoek")
    dovecot.deliver(mail_account, raw)
    client = imap_login(dovecot, mail_account)
    client.select_folder("INBOX")
    [uid] = client.search("ALL")
    fetched = client.fetch([uid], ["BODY.PEEK[]"])[uid]
    parsed = BytesParser(policy=default_policy).parsebytes(fetched[b"BODY[]"])
    assert parsed["Message-ID"] == BytesParser(policy=default_policy).parsebytes(raw)["Message-ID"]
    assert b"\\Seen" not in client.get_flags([uid])[uid]
    client.logout()
    assert dovecot.status(mail_account)["unseen"] == 1


def test_imaps_verifies_against_the_rig_ca_only(
    dovecot: Dovecot, mail_account: MailAccount
) -> None:
    dovecot.deliver(mail_account, request_mail("Verzoek tot wissing"))
    trusted = ssl.create_default_context(cafile=dovecot.cafile)
    client = imapclient.IMAPClient(
        dovecot.host, dovecot.imaps_port, ssl_context=trusted, timeout=TIMEOUT
    )
    client.login(mail_account.user, mail_account.password)
    assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 1
    client.logout()
    with pytest.raises(ssl.SSLCertVerificationError):
        imapclient.IMAPClient(dovecot.host, dovecot.imaps_port, timeout=TIMEOUT)


def test_starttls_upgrades_the_plain_port(dovecot: Dovecot, mail_account: MailAccount) -> None:
    client = imapclient.IMAPClient(dovecot.host, dovecot.imap_port, ssl=False, timeout=TIMEOUT)
    client.starttls(ssl.create_default_context(cafile=dovecot.cafile))
    assert client.login(mail_account.user, mail_account.password)
    client.logout()


@pytest.mark.parametrize("tls", [False, True])
def test_imap_url_carries_percent_encoded_credentials_that_log_in(
    dovecot: Dovecot, mail_account: MailAccount, tls: bool
) -> None:
    url = urlsplit(dovecot.imap_url(mail_account, tls=tls))
    assert url.scheme == ("imaps" if tls else "imap")
    assert (url.hostname, url.port) == (
        dovecot.host,
        dovecot.imaps_port if tls else dovecot.imap_port,
    )
    assert unquote(url.path.lstrip("/")) == "INBOX"
    assert url.username is not None and url.password is not None
    context = ssl.create_default_context(cafile=dovecot.cafile)
    client = imapclient.IMAPClient(
        url.hostname, url.port, ssl=tls, ssl_context=context, timeout=TIMEOUT
    )
    assert client.login(unquote(url.username), unquote(url.password))
    client.logout()


def test_accounts_are_separate_mailboxes(dovecot: Dovecot, mail_account: MailAccount) -> None:
    neighbour = dovecot.add_account()
    dovecot.deliver(mail_account, request_mail("Bezwaar"), folder="Archief")
    assert dovecot.status(mail_account, "Archief")["messages"] == 1
    assert dovecot.status(mail_account)["messages"] == 0
    assert dovecot.status(neighbour)["messages"] == 0
    with pytest.raises(ValueError, match="taken"):
        dovecot.add_account(neighbour.user)


def test_lmtp_delivers_to_the_account_address(dovecot: Dovecot, mail_account: MailAccount) -> None:
    with smtplib.LMTP(dovecot.host, dovecot.lmtp_port, timeout=TIMEOUT) as lmtp:
        lmtp.sendmail("noor.vermeulen@example.org", [mail_account.address], request_mail("LMTP"))
    assert dovecot.status(mail_account)["messages"] == 1


def test_a_failed_login_does_not_slow_down_the_next_one(
    dovecot: Dovecot, mail_account: MailAccount
) -> None:
    client = imapclient.IMAPClient(dovecot.host, dovecot.imap_port, ssl=False, timeout=TIMEOUT)
    with pytest.raises(LoginError):
        client.login(mail_account.user, "not-the-password")
    started = time.monotonic()
    imap_login(dovecot, mail_account).logout()
    assert time.monotonic() - started < 1.0


def test_idle_is_offered_and_pushes_exists_after_a_delivery(
    dovecot: Dovecot, mail_account: MailAccount
) -> None:
    client = imap_login(dovecot, mail_account)
    assert b"IDLE" in client.capabilities()
    client.select_folder("INBOX")
    client.idle()
    dovecot.deliver(mail_account, request_mail("Rectificatie"))
    assert wait_for_exists(client, 1)
    client.idle_done()
    client.logout()


def test_set_uidvalidity_changes_what_select_reports(
    dovecot: Dovecot, mail_account: MailAccount
) -> None:
    dovecot.deliver(mail_account, request_mail("Overdraagbaarheid"))
    before = imap_login(dovecot, mail_account)
    old = before.select_folder("INBOX")[b"UIDVALIDITY"]
    before.logout()
    dovecot.set_uidvalidity(mail_account, old + 1000)
    after = imap_login(dovecot, mail_account)
    assert after.select_folder("INBOX")[b"UIDVALIDITY"] == old + 1000
    after.logout()
    assert dovecot.status(mail_account)["uidvalidity"] == old + 1000


def test_kick_breaks_an_idle_connection(dovecot: Dovecot, mail_account: MailAccount) -> None:
    client = imap_login(dovecot, mail_account)
    client.select_folder("INBOX")
    client.idle()
    dovecot.kick(mail_account)
    # Dovecot says BYE and hangs up; leaving IDLE must then fail instead of hanging.
    assert b"BYE" in [response[0] for response in client.idle_check(timeout=TIMEOUT)]
    with pytest.raises((IMAPClientAbortError, OSError)):
        client.idle_done()


def test_sink_captures_mail_with_its_envelope(smtp_sink: SmtpSink) -> None:
    recipients = ["noor.vermeulen@example.org", "dpo@example.test"]
    message = outgoing_mail("Ontvangstbevestiging")
    asyncio.run(
        aiosmtplib.send(
            message,
            hostname=smtp_sink.host,
            port=smtp_sink.port,
            sender="bounces@example.test",
            recipients=recipients,
            timeout=TIMEOUT,
        )
    )
    [captured] = smtp_sink.wait_for(1)
    assert captured["X-Sink-Mail-From"] == "bounces@example.test"
    assert captured["X-Sink-Rcpt-To"] == ", ".join(recipients)
    assert captured["Subject"] == "Ontvangstbevestiging"
    assert captured.get_content().strip() == "We hebben uw verzoek ontvangen."


def test_sink_lists_mails_in_arrival_order(smtp_sink: SmtpSink) -> None:
    subjects = [f"Antwoord {number}" for number in range(3)]
    for subject in subjects:
        asyncio.run(
            aiosmtplib.send(outgoing_mail(subject), hostname=smtp_sink.host, port=smtp_sink.port)
        )
    assert [mail["Subject"] for mail in smtp_sink.wait_for(3)] == subjects


def test_sink_fail_first_answers_451_then_accepts(tmp_path: Path) -> None:
    sink = start_smtp_sink(tmp_path, fail_first=1)
    try:
        message = outgoing_mail("Herinnering")
        send = aiosmtplib.send(message, hostname=sink.host, port=sink.port, timeout=TIMEOUT)
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            asyncio.run(send)
        assert refused.value.code == 451
        asyncio.run(aiosmtplib.send(message, hostname=sink.host, port=sink.port, timeout=TIMEOUT))
        assert [mail["Subject"] for mail in sink.wait_for(1)] == ["Herinnering"]
    finally:
        sink.stop()
