"""parse_mail: what the pipeline reads from a mail; hostile bytes only ever raise MalformedMail."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailbot.mail.parse import MalformedMail, ParseLimits, parse_mail

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64))
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"


def _mail(subject: str = "Inzage in mijn gegevens", body: str = "Graag een kopie.") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Els Voorbeeld <Els.Voorbeeld@Example.org>"
    msg["To"] = "privacy@example.test"
    msg["Cc"] = "Wim Test <wim@example.org>, els.voorbeeld@example.org"
    msg["Subject"] = subject
    msg["Date"] = "Tue, 07 Apr 2026 09:15:00 +0200"
    msg["Message-ID"] = "  <req-1@example.org> "
    msg.set_content(body)
    return msg


def test_plain_mail_gives_addresses_date_and_text() -> None:
    mail = parse_mail(_mail().as_bytes())

    assert mail.sender == "els.voorbeeld@example.org"
    assert mail.sender_name == "Els Voorbeeld"
    assert mail.recipients == (
        "privacy@example.test",
        "wim@example.org",
        "els.voorbeeld@example.org",
    )
    assert mail.subject == "Inzage in mijn gegevens"
    assert mail.message_id == "<req-1@example.org>"
    assert mail.date == datetime(2026, 4, 7, 7, 15, tzinfo=UTC)
    assert mail.date is not None and mail.date.utcoffset() == timedelta(hours=2)
    assert mail.text == "Graag een kopie."
    assert mail.content_type == "text/plain"
    assert mail.attachments == ()
    assert mail.problems == ()


def test_header_lookup_is_case_insensitive_and_returns_the_first_value() -> None:
    raw = b"From: a@example.org\nX-Tag: one\nx-tag: two\n\nbody\n"
    mail = parse_mail(raw)

    assert mail.header("X-TAG") == "one"
    assert ("x-tag", "two") in mail.headers
    assert mail.header("Reply-To") is None


def test_folded_encoded_subject_is_decoded_and_unfolded() -> None:
    raw = (
        b"From: a@example.org\n"
        b"Subject: =?utf-8?q?Demande_d=27acc=C3=A8s?=\n"
        b" =?utf-8?q?_=C3=A0_mes_donn=C3=A9es?=  \n\nbody\n"
    )
    assert parse_mail(raw).subject == "Demande d'accès à mes données"


def test_html_only_mail_becomes_readable_text() -> None:
    msg = _mail()
    msg.set_content(
        "<html><head><style>p {color: red}</style><script>alert(1)</script></head>"
        "<body><p>Beste,</p><div>Verwijder&nbsp;mijn gegevens.<br>Dank &amp; groet</div>"
        "<ul><li>naam</li><li>adres</li></ul></body></html>",
        subtype="html",
    )
    mail = parse_mail(msg.as_bytes())

    assert mail.text.splitlines() == [
        "Beste,",
        "",
        "Verwijder mijn gegevens.",
        "Dank & groet",
        "",
        "naam",
        "adres",
    ]
    assert "alert" not in mail.text and "color" not in mail.text


def test_multipart_alternative_prefers_the_plain_text() -> None:
    msg = _mail(body="Plain version")
    msg.add_alternative("<p>HTML version</p>", subtype="html")
    mail = parse_mail(msg.as_bytes())

    assert mail.content_type == "multipart/alternative"
    assert mail.text == "Plain version"
    assert mail.attachments == ()


def test_unknown_charset_is_decoded_as_utf8_and_reported() -> None:
    raw = (
        b"From: a@example.org\nContent-Type: text/plain; charset=x-unknown\n"
        b"Content-Transfer-Encoding: 8bit\n\nL\xc3\xb6sche meine Daten\n"
    )
    mail = parse_mail(raw)

    assert mail.text == "Lösche meine Daten"
    assert "unknown charset 'x-unknown'; decoded as utf-8" in mail.problems


def test_text_not_valid_in_its_declared_charset_is_still_read() -> None:
    raw = (
        b"From: a@example.org\nContent-Type: text/plain; charset=us-ascii\n\n"
        b"J'ai d\xc3\xa9j\xc3\xa0 \xe9crit\n"
    )
    mail = parse_mail(raw)

    assert mail.text.startswith("J'ai d")
    assert any("us-ascii" in problem for problem in mail.problems)


def test_multipart_that_lost_its_boundary_keeps_its_text() -> None:
    raw = (
        b"From: a@example.org\nSubject: x\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/alternative\n\nPlease erase my account.\n"
    )
    mail = parse_mail(raw)

    assert "Please erase my account." in mail.text
    assert "multipart without boundary" in mail.problems


def _with_attachments(count: int) -> bytes:
    msg = _mail()
    for index in range(count):
        msg.add_attachment(
            b"x" * 10, maintype="application", subtype="octet-stream", filename=f"{index}.bin"
        )
    return msg.as_bytes()


def test_five_hundred_attachments_are_refused() -> None:
    with pytest.raises(MalformedMail) as refused:
        parse_mail(_with_attachments(500))
    assert refused.value.reason.startswith("too many MIME parts (")
    assert refused.value.reason.endswith(" > 100)")


def test_part_limit_is_exact_just_above_the_limit() -> None:
    limits = ParseLimits(max_parts=5)

    assert len(parse_mail(_with_attachments(3), limits).attachments) == 3  # root + text + 3 = 5
    with pytest.raises(MalformedMail, match=r"too many MIME parts \(6 > 5\)"):
        parse_mail(_with_attachments(4), limits)


def test_oversize_attachment_is_refused() -> None:
    msg = _mail()
    msg.add_attachment(b"\x01" * 3000, maintype="application", subtype="pdf", filename="scan.pdf")

    with pytest.raises(MalformedMail, match=r"attachment too large \(2\.9 KB > 2\.0 KB\)"):
        parse_mail(msg.as_bytes(), ParseLimits(max_attachment_bytes=2048))
    assert len(parse_mail(msg.as_bytes(), ParseLimits(max_attachment_bytes=3000)).attachments) == 1


@pytest.mark.parametrize(
    ("header", "label"),
    [
        ("Subject", "Subject"),
        ("From", "From"),
        ("Reply-To", "Reply-To"),
        ("Message-ID", "Message-ID"),
        ("References", "References"),
    ],
)
def test_encoded_cr_lf_in_a_header_is_injection(header: str, label: str) -> None:
    lines = {"From": "a@example.org", "Subject": "hello"}
    lines[header] = "=?utf-8?q?x=0D=0ABcc:_victim@example.org?="
    raw = "".join(f"{name}: {value}\n" for name, value in lines.items()) + "\nbody\n"

    with pytest.raises(MalformedMail) as refused:
        parse_mail(raw.encode())
    assert refused.value.reason == f"CR/LF injection in {label} header"


@pytest.mark.parametrize("raw", [b"", b" ", b"\r\n\r\n\t"])
def test_empty_message_is_refused(raw: bytes) -> None:
    with pytest.raises(MalformedMail, match="empty message"):
        parse_mail(raw)


def test_nul_bytes_do_not_reach_the_text_or_headers() -> None:
    raw = b"From: a@example.org\nSubject: hel\x00lo\n\nbo\x00dy\x00\n"
    mail = parse_mail(raw)

    assert mail.subject == "hello"
    assert mail.text == "body"
    assert all("\x00" not in value for _, value in mail.headers)


def test_png_named_pdf_is_sniffed_as_png() -> None:
    msg = _mail()
    msg.add_attachment(PNG, maintype="application", subtype="pdf", filename="id.pdf")
    (attachment,) = parse_mail(msg.as_bytes()).attachments

    assert attachment.filename == "id.pdf"
    assert attachment.declared_type == "application/pdf"
    assert attachment.sniffed_type == "image/png"
    assert attachment.data == PNG
    assert attachment.size == len(PNG)
    assert attachment.sha256 == hashlib.sha256(PNG).hexdigest()


@pytest.mark.parametrize(
    ("data", "sniffed"),
    [
        (PDF, "application/pdf"),
        (b"name;street\nEls;Kerkstraat 1\n", "text/plain"),
        (bytes(range(256)) * 4, "application/octet-stream"),
    ],
)
def test_attachment_types_come_from_the_bytes(data: bytes, sniffed: str) -> None:
    msg = _mail()
    msg.add_attachment(data, maintype="image", subtype="jpeg", filename="photo.jpg")
    assert parse_mail(msg.as_bytes()).attachments[0].sniffed_type == sniffed


def test_attachment_filename_loses_directories_and_control_characters() -> None:
    msg = _mail()
    msg.add_attachment(
        PDF, maintype="application", subtype="pdf", filename="..\\..\\etc/pass\u202ewd\x07.pdf"
    )
    assert parse_mail(msg.as_bytes()).attachments[0].filename == "passwd.pdf"


def test_inline_image_counts_as_attachment_and_text_is_kept() -> None:
    msg = _mail(body="Mijn identiteitskaart staat hieronder.")
    msg.add_attachment(PNG, maintype="image", subtype="png", disposition="inline")
    mail = parse_mail(msg.as_bytes())

    assert mail.text == "Mijn identiteitskaart staat hieronder."
    assert [a.sniffed_type for a in mail.attachments] == ["image/png"]
    assert mail.attachments[0].filename is None


def test_forwarded_message_is_an_attachment_not_body_text() -> None:
    inner = _mail(subject="Original", body="Inner text that is not the new text.")
    outer = _mail(subject="Fwd: Original", body="See the attached mail.")
    outer.add_attachment(inner)
    mail = parse_mail(outer.as_bytes())

    assert mail.text == "See the attached mail."
    (attachment,) = mail.attachments
    assert attachment.declared_type == "message/rfc822"
    assert attachment.sniffed_type == "message/rfc822"
    assert b"Inner text that is not the new text." in attachment.data


def test_text_attachment_is_not_body_text() -> None:
    msg = _mail(body="Zie bijlage.")
    msg.add_attachment("naam;adres\n", filename="gegevens.csv")
    mail = parse_mail(msg.as_bytes())

    assert mail.text == "Zie bijlage."
    assert [a.filename for a in mail.attachments] == ["gegevens.csv"]


def test_long_text_is_truncated_and_reported() -> None:
    mail = parse_mail(_mail(body="a" * 500).as_bytes(), ParseLimits(max_text_chars=100))

    assert mail.text == "a" * 100
    assert "text truncated to 100 characters" in mail.problems


def test_group_syntax_recipient_does_not_crash_header_access() -> None:
    # CPython issue 83281: merely reading this To header raises AttributeError.
    raw = (
        b"From: a@example.org\nTo: unlisted-recipients:; (no To-header on input)\n"
        b"Cc: b@example.org\n\nx\n"
    )
    mail = parse_mail(raw)

    assert mail.recipients == ("b@example.org",)
    assert mail.header("to") is not None


def test_mail_without_from_address_parses_with_no_sender() -> None:
    mail = parse_mail(b"From: MAILER-DAEMON\nSubject: x\n\nbody\n")

    assert mail.sender is None
    assert mail.header("from") == "MAILER-DAEMON"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Mon, 27 Apr 2026 27:39:33 +0200", None),
        ("not a date", None),
        ("Mon, 27 Apr 2026 10:00:00 -0000", datetime(2026, 4, 27, 10, 0, tzinfo=UTC)),
    ],
)
def test_date_is_aware_or_none(value: str, expected: datetime | None) -> None:
    mail = parse_mail(f"From: a@example.org\nDate: {value}\n\nx\n".encode())
    assert mail.date == expected
    assert mail.date is None or mail.date.tzinfo is not None


def test_threading_headers_are_normalised() -> None:
    raw = (
        b"From: a@example.org\nIn-Reply-To: <out-7@mailbot.example.test> (our reply)\n"
        b"References: <a@example.org>\n <out-7@mailbot.example.test>\n\nx\n"
    )
    mail = parse_mail(raw)

    assert mail.in_reply_to == "<out-7@mailbot.example.test>"
    assert mail.references == ("<a@example.org>", "<out-7@mailbot.example.test>")


def test_raw_8bit_latin1_subject_is_readable() -> None:
    mail = parse_mail(b"From: a@example.org\nSubject: R\xe9ponse demand\xe9e\n\nx\n")
    assert mail.subject == "Réponse demandée"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_only_ever_raise_malformed_mail(raw: bytes) -> None:
    try:
        parse_mail(raw)
    except MalformedMail as refused:
        assert refused.reason


HEADER_LINES = [
    b"From: a@example.org",
    b"Content-Type: multipart/mixed; boundary=b",
    b"Content-Type: text/plain; charset=x-unknown",
    b"Content-Transfer-Encoding: base64",
    b"Content-Disposition: attachment; filename*=utf-8''%E2%80%AE.pdf",
    b"To: undisclosed:;",
    b"Subject: =?utf-8?b?w6k=?=",
    b"--b",
    b"--b--",
    b"",
    b"\x00\xff\xfe",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(HEADER_LINES) | st.binary(max_size=40), max_size=30))
def test_mime_shaped_garbage_only_ever_raises_malformed_mail(lines: list[bytes]) -> None:
    try:
        mail = parse_mail(b"\n".join(lines))
    except MalformedMail as refused:
        assert refused.reason
    else:
        assert "\x00" not in mail.text
        assert all(isinstance(a.data, bytes) for a in mail.attachments)


def test_thousands_of_distinct_boundaries_are_refused_as_a_part_bomb() -> None:
    # Each part declares its own boundary; counting them once per boundary used to take
    # minutes for a few MB. The refusal must come from the cheap pre-count.
    head = b'From: a@example.org\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n'
    parts = b"".join(
        b'--b0\r\nContent-Type: multipart/mixed; boundary="x%d"\r\n\r\n--x%d--\r\n' % (n, n)
        for n in range(8000)
    )
    with pytest.raises(MalformedMail, match=r"too many MIME parts \(8001 > 100\)"):
        parse_mail(head + parts + b"--b0--\r\n")
