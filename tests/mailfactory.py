"""Synthetic mails for tests: invented people at example.org / example.test."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

_counter = itertools.count(1)

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63fccf00010f000485018084a98c21"
    "0000000049454e44ae426082"
)

REQUESTS = {
    "nl": (
        "Verwijder mijn gegevens",
        "Beste,\n\nIk wil dat jullie mijn account en al mijn gegevens verwijderen.\n\nGroeten",
    ),
    "fr": (
        "Accès à mes données",
        "Bonjour,\n\nJe souhaite obtenir une copie de toutes mes données personnelles.\n\nMerci",
    ),
    "de": (
        "Auskunft",
        "Guten Tag,\n\nbitte erteilen Sie mir Auskunft über meine gespeicherten Daten.\n\nGruß",
    ),
    "en": (
        "My data",
        "Hello,\n\nPlease delete my account and all personal data you hold about me.\n\nThanks",
    ),
}


def request_mail(
    sender: str = "",
    language: str = "en",
    subject: str | None = None,
    body: str | None = None,
    message_id: str | None = None,
    extra_headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
) -> bytes:
    """A request as a mail client would send it; returns the raw bytes."""
    n = next(_counter)
    default_subject, default_body = REQUESTS[language]
    message = EmailMessage()
    message["From"] = sender or f"Requester {n} <requester{n}@example.org>"
    message["To"] = "privacy@jaimy.be"
    message["Subject"] = default_subject if subject is None else subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id or make_msgid(f"t{n}", domain="example.org")
    for name, value in (extra_headers or {}).items():
        message[name] = value
    message.set_content(default_body if body is None else body)
    for filename, mime, data in attachments or []:
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def auto_reply(to_subject: str = "Uw verzoek") -> bytes:
    return request_mail(
        sender="Afwezig Persoon <away@example.org>",
        language="nl",
        subject=f"Automatisch antwoord: {to_subject}",
        body="Ik ben afwezig tot maandag.",
        extra_headers={"Auto-Submitted": "auto-replied"},
    )


def bounce() -> bytes:
    n = next(_counter)
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: privacy@jaimy.be\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <bounce{n}@mx.example.net>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n'
        "\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; x@example.net\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n--b--\r\n"
    ).encode()
