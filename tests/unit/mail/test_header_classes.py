"""The bot's e-mail policy: CPython's default in all it reads and writes, made faster by
keeping one header class per kind, and never growing with the names a mail brings."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from mailbot.mail.compose import compose
from mailbot.mail.header_classes import MAIL_POLICY
from mailbot.mail.parse import parse_mail
from tests.mailfactory import request_mail
from tests.unit.mail.test_compose import _reply


def _as_default_policy_writes(message: EmailMessage) -> bytes:
    again = EmailMessage(policy=policy.default)
    for name, value in message.items():
        again[name] = str(value)
    again.set_payload(message.get_payload(), "utf-8")
    return again.as_bytes()


def test_a_reply_is_written_as_the_default_policy_writes_it() -> None:
    # Non-ASCII in the subject and the display name: encoded words, folded alike.
    reply = _reply(subject="Re: Löschung meiner Daten – Überprüfung [JAIMY-PRIV-2026-0001]",
                   sender_name="Jaimy Privacy – Délégué à la protection des données")  # fmt: skip
    ours = compose(reply)
    assert ours.policy is MAIL_POLICY
    assert ours.as_bytes() == _as_default_policy_writes(ours)
    back = message_from_bytes(ours.as_bytes(), policy=policy.default)
    assert back["Subject"] == "Re: Löschung meiner Daten – Überprüfung [JAIMY-PRIV-2026-0001]"


def test_headers_are_read_as_the_default_policy_reads_them() -> None:
    raw = request_mail(language="fr", sender="Élodie Dupré <elodie@example.org>")
    mail = parse_mail(raw)
    stock = message_from_bytes(raw, policy=policy.default)
    assert mail.sender == stock["From"].addresses[0].addr_spec == "elodie@example.org"
    assert mail.subject == str(stock["Subject"])


def test_a_mail_with_hundreds_of_header_names_adds_no_header_classes() -> None:
    factory = MAIL_POLICY.header_factory
    parse_mail(request_mail(language="en"))
    before = dict(factory._made)  # type: ignore[attr-defined]
    names = "".join(f"X-Name-{n}: value {n}\r\n" for n in range(900))
    parse_mail(names.encode() + request_mail(language="en"))
    assert factory._made == before  # type: ignore[attr-defined]
    assert len(before) <= len(factory.registry) + 1  # type: ignore[attr-defined]
