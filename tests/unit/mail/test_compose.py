"""Replies as they leave: threading headers, RFC 3834 marking, no header injection."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

from mailbot.mail.compose import Reply, compose, new_message_id, thread_references


def _reply(**changes: object) -> Reply:
    fields: dict[str, object] = {
        "sender": "privacy@jaimy.be",
        "sender_name": "Jaimy Privacy",
        "to": "lotte@example.org",
        "subject": "Re: Verwijder mijn gegevens [JAIMY-PRIV-2026-0001]",
        "body": "Beste Lotte,\n\nWij hebben uw verzoek ontvangen op 1 december 2026.\n",
        "language": "nl",
        "message_id": "<JAIMY-PRIV-2026-0001.x@mailbot.jaimy.be>",
        "date": datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        "case_reference": "JAIMY-PRIV-2026-0001",
        "in_reply_to": "<abc@example.org>",
        "references": ("<root@example.org>", "<abc@example.org>"),
    }
    fields.update(changes)
    return Reply(**fields)  # type: ignore[arg-type]


def test_headers_of_an_acknowledgement_survive_the_wire() -> None:
    wire = compose(_reply()).as_bytes()
    back = message_from_bytes(wire, policy=policy.default)
    assert back["From"].addresses[0].addr_spec == "privacy@jaimy.be"
    assert back["To"] == "lotte@example.org"
    assert back["In-Reply-To"] == "<abc@example.org>"
    assert back["References"] == "<root@example.org> <abc@example.org>"
    assert back["Auto-Submitted"] == "auto-replied"
    assert back["X-Mailbot-Reference"] == "JAIMY-PRIV-2026-0001"
    assert back["Content-Language"] == "nl"
    assert back["Message-ID"] == "<JAIMY-PRIV-2026-0001.x@mailbot.jaimy.be>"
    assert back.get_content().startswith("Beste Lotte")
    assert "1 december 2026" in back.get_content()


def test_same_row_composes_to_the_same_message() -> None:
    # A resend after a crash must be recognisable as the same mail.
    assert compose(_reply()).as_bytes() == compose(_reply()).as_bytes()


def test_subject_with_line_breaks_cannot_add_headers() -> None:
    wire = compose(_reply(subject="Hello\r\nBcc: victim@example.net")).as_bytes()
    back = message_from_bytes(wire, policy=policy.default)
    assert back["Bcc"] is None
    assert back["Subject"] == "Hello Bcc: victim@example.net"


def test_message_ids_are_unique_and_name_the_case() -> None:
    first = new_message_id("JAIMY-PRIV-2026-0001", "mailbot.jaimy.be")
    second = new_message_id("JAIMY-PRIV-2026-0001", "mailbot.jaimy.be")
    assert first != second
    assert "JAIMY-PRIV-2026-0001" in first and first.endswith("@mailbot.jaimy.be>")
    # Never folded: "Message-ID: " plus the id stays within 78 characters.
    assert len("Message-ID: " + first) <= 78
    wire = compose(_reply(message_id=first)).as_bytes()
    assert f"Message-ID: {first}\r\n".encode() in wire.replace(b"\n", b"\r\n").replace(
        b"\r\r\n", b"\r\n"
    )


def test_references_chain_and_cap() -> None:
    assert thread_references("<b@x>", ("<a@x>",)) == ("<a@x>", "<b@x>")
    assert thread_references("<a@x>", ("<a@x>",)) == ("<a@x>",)
    assert thread_references(None, ()) == ()
    long = tuple(f"<{n}@x>" for n in range(30))
    capped = thread_references("<new@x>", long)
    assert len(capped) == 20 and capped[0] == "<0@x>" and capped[-1] == "<new@x>"
