"""screen: the bot answers people, never auto-replies, bounces, lists or its own mail."""

from __future__ import annotations

import time
from email.message import EmailMessage

import pytest

from mailbot.mail.parse import ParsedMail, parse_mail
from mailbot.triage.screen import Screening, Verdict, screen

OWN = frozenset({"privacy@jaimy.example.test"})
OWN_DOMAINS = frozenset({"mailbot.example.test"})


def _mail(
    *,
    sender: str = "Anna Peeters <anna.peeters@example.org>",
    subject: str = "Verwijdering van mijn gegevens",
    body: str = "Graag wil ik dat u al mijn gegevens verwijdert.",
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    if sender:
        msg["From"] = sender
    msg["To"] = "privacy@jaimy.example.test"
    msg["Subject"] = subject
    msg["Message-ID"] = "<m-1@example.org>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg


def _screen(msg: EmailMessage | bytes) -> Screening:
    raw = msg if isinstance(msg, bytes) else msg.as_bytes()
    return screen(parse_mail(raw), OWN, OWN_DOMAINS)


def test_a_person_asking_for_erasure_is_answered() -> None:
    result = _screen(_mail())

    assert result.verdict is Verdict.ANSWER
    assert result.answerable
    assert result.flags == ()


@pytest.mark.parametrize(
    "msg",
    [
        _mail(sender="Privacy Jaimy <Privacy@Jaimy.Example.Test>"),
        _mail(headers={"X-Mailbot-Reference": "JAIMY-PRIV-2026-0042"}),
        _mail(headers={"Auto-Submitted": "auto-replied", "X-Mailbot-Reference": "JAIMY-PRIV-1"}),
    ],
    ids=["own-address", "own-reference-header", "own-beats-auto-submitted"],
)
def test_our_own_mail_is_recognised_first(msg: EmailMessage) -> None:
    result = _screen(msg)
    assert result.verdict is Verdict.OWN_MAIL
    assert not result.answerable


def test_message_id_from_our_domain_is_own_mail() -> None:
    msg = _mail()
    msg.replace_header("Message-ID", "<out-17@mailbot.example.test>")
    assert _screen(msg).verdict is Verdict.OWN_MAIL


@pytest.mark.parametrize("value", ["auto-replied", "auto-generated (failure)", "auto-notified"])
def test_auto_submitted_other_than_no_is_an_auto_reply(value: str) -> None:
    result = _screen(_mail(subject="Re: your mail", headers={"Auto-Submitted": value}))
    assert result.verdict is Verdict.AUTO_REPLY
    assert result.reason.startswith("Auto-Submitted: ")


def test_auto_submitted_no_is_a_person() -> None:
    assert _screen(_mail(headers={"Auto-Submitted": "no"})).verdict is Verdict.ANSWER


def _report(report_type: str, machine_part: str) -> bytes:
    return (
        "From: Some Server <reports@mx.example.org>\nTo: privacy@jaimy.example.test\n"
        "Subject: Report\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type={report_type}; boundary="r"\n\n'
        "--r\nContent-Type: text/plain\n\nHuman readable part.\n"
        f"--r\nContent-Type: {machine_part}\n\nReporting-MTA: dns; mx.example.org\n\n"
        "--r--\n"
    ).encode()


def test_delivery_status_report_is_a_bounce() -> None:
    result = _screen(_report("delivery-status", "message/delivery-status"))
    assert result.verdict is Verdict.BOUNCE
    assert result.reason == "multipart/report; report-type=delivery-status"


def test_read_receipt_is_an_auto_reply() -> None:
    result = _screen(_report("disposition-notification", "message/disposition-notification"))
    assert result.verdict is Verdict.AUTO_REPLY


def test_null_return_path_is_a_bounce() -> None:
    result = _screen(_mail(subject="Hello", headers={"Return-Path": "<>"}))
    assert result.verdict is Verdict.BOUNCE
    assert "Return-Path" in result.reason


@pytest.mark.parametrize(
    "sender",
    [
        "Mail Delivery System <MAILER-DAEMON@mx.example.org>",
        "postmaster@mx.example.org",
        "MAILER_DAEMON@mx.example.org",
        "MAILER-DAEMON",
    ],
)
def test_mail_system_senders_are_bounces(sender: str) -> None:
    result = _screen(_mail(sender=sender, subject="Hello"))
    assert result.verdict is Verdict.BOUNCE


@pytest.mark.parametrize(
    ("headers", "verdict"),
    [
        ({"Precedence": "bulk"}, Verdict.MAILING_LIST),
        ({"Precedence": "list"}, Verdict.MAILING_LIST),
        ({"Precedence": "junk"}, Verdict.MAILING_LIST),
        ({"Precedence": "auto_reply"}, Verdict.AUTO_REPLY),
        ({"List-Id": "Nieuwsbrief <news.example.org>"}, Verdict.MAILING_LIST),
        ({"List-Unsubscribe": "<mailto:leave@example.org>"}, Verdict.MAILING_LIST),
        ({"List-Post": "<mailto:list@example.org>"}, Verdict.MAILING_LIST),
        ({"X-Autoreply": "yes"}, Verdict.AUTO_REPLY),
        ({"X-Autorespond": "Hello"}, Verdict.AUTO_REPLY),
    ],
)
def test_list_and_autoresponder_headers(headers: dict[str, str], verdict: Verdict) -> None:
    assert _screen(_mail(subject="Hello", headers=headers)).verdict is verdict


def test_exchange_out_of_office_without_auto_submitted() -> None:
    msg = _mail(
        sender="Jan Janssens <jan@example.org>",
        subject="Automatic reply: Verwijdering van mijn gegevens",
        body="I am out of the office until Monday.",
        headers={
            "X-Auto-Response-Suppress": "All",
            "X-MS-Exchange-Inbox-Rules-Loop": "jan@example.org",
        },
    )
    assert _screen(msg).verdict is Verdict.AUTO_REPLY


def test_exchange_rule_header_alone_does_not_hide_a_redirected_request() -> None:
    # A colleague's redirect rule passes real requests on with the same header.
    msg = _mail(headers={"X-MS-Exchange-Inbox-Rules-Loop": "support@example.org"})
    assert _screen(msg).verdict is Verdict.ANSWER


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Inzageverzoek",
        "Out of Office: your request",
        "Out of Office AutoReply: request",
        "Automatisch antwoord: Verwijdering",
        "Afwezig",
        "Réponse automatique : Demande d'accès",
        "Absence",
        "Abwesenheitsnotiz: Auskunftsersuchen",
        "Automatische Antwort: Löschung",
        "Abwesend: Widerspruch",
        "Auto reply: hello",
        "Respuesta automática: solicitud",
    ],
)
def test_automatic_reply_subjects(subject: str) -> None:
    assert _screen(_mail(subject=subject)).verdict is Verdict.AUTO_REPLY


@pytest.mark.parametrize(
    "subject",
    [
        "Undeliverable: Inzageverzoek",
        "Delivery Status Notification (Failure)",
        "Mail delivery failed: returning message to sender",
        "Returned mail: see transcript for details",
        "Unzustellbar: Auskunft",
        "Non remis : Demande",
        "Onbestelbaar: Verzoek",
        "Undelivered Mail Returned to Sender",
    ],
)
def test_delivery_failure_subjects(subject: str) -> None:
    assert _screen(_mail(subject=subject)).verdict is Verdict.BOUNCE


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Absence of any answer to my access request", "I wrote to you in March."),
        ("Vraag over mijn gegevens", "Ik was out of office, daarom antwoord ik nu pas."),
        ("Re: out of office last week", "Sorry, I was out of office. Please delete my data."),
        ("My data request", "My first mail could not be delivered, so I am writing again."),
        ("Automatic replies from your company", "Why do I get automatic replies? Erase me."),
        ("Undelivered parcel and my personal data", "Which data did you share with the courier?"),
        ("Delivery of my data copy failed?", "The download link in your mail does not work."),
    ],
)
def test_real_requests_mentioning_absence_or_failure_stay_answerable(
    subject: str, body: str
) -> None:
    assert _screen(_mail(subject=subject, body=body)).verdict is Verdict.ANSWER


def test_person_resending_their_bounced_mail_stays_answerable() -> None:
    msg = _mail(body="My earlier mail could not be delivered; I attach it again.")
    msg.add_attachment(_mail(subject="Verzoek"))
    assert _screen(msg).verdict is Verdict.ANSWER


def test_postfix_bounce_without_header_signals_is_found_in_the_body() -> None:
    msg = _mail(
        sender="Relay <relay@mx.example.org>",
        subject="Re: Test",
        body=(
            "This is the mail system at host mx.example.org.\n\n"
            "I'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients.\n"
        ),
    )
    assert _screen(msg).verdict is Verdict.BOUNCE


def test_failure_wording_with_smtp_reply_code_is_a_bounce() -> None:
    body = "Error: Invalid user address\n\n550 - Requested action not taken: no such user here\n"
    result = _screen(_mail(sender="gateway@sms.example.org", subject="Re:Test", body=body))
    assert result.verdict is Verdict.BOUNCE


def test_no_reply_sender_returning_the_message_is_a_bounce() -> None:
    msg = _mail(
        sender="no-reply@mobile.example.org",
        subject="Mail error",
        body="Your mail could not be delivered to: <friend@mobile.example.org>",
    )
    msg.add_attachment(_mail(subject="Original"))
    assert _screen(msg).verdict is Verdict.BOUNCE


def test_returned_headers_part_is_a_bounce() -> None:
    msg = _mail(sender="relay@mx.example.org", subject="Notice", body="See below.")
    msg.add_attachment("From: a@example.org\nSubject: x\n", subtype="rfc822-headers")
    assert _screen(msg).verdict is Verdict.BOUNCE


def test_mail_without_sender_address_is_not_answered() -> None:
    result = _screen(_mail(sender=""))
    assert result.verdict is Verdict.NO_SENDER
    assert not result.answerable


def _flags(headers: dict[str, str]) -> tuple[str, ...]:
    return _screen(_mail(headers=headers)).flags


def test_reply_to_differing_from_sender_is_flagged_but_still_answered() -> None:
    result = _screen(_mail(headers={"Reply-To": "collector@example.net"}))
    assert result.verdict is Verdict.ANSWER
    assert result.flags == ("reply_to_differs",)


def test_reply_to_equal_to_sender_is_not_flagged() -> None:
    assert _flags({"Reply-To": "Anna <ANNA.PEETERS@example.org>"}) == ()


@pytest.mark.parametrize(
    ("results", "flags"),
    [
        ("mx.example.test; dmarc=fail (p=reject) header.from=example.org", ("dmarc_fail",)),
        ("mx.example.test; dkim=fail header.d=example.org; spf=fail", ("dkim_fail", "spf_fail")),
        ("mx.example.test; dkim=pass; spf=pass; dmarc=pass", ()),
    ],
)
def test_authentication_failures_are_flagged(results: str, flags: tuple[str, ...]) -> None:
    assert _flags({"Authentication-Results": results}) == flags


def test_own_domains_are_optional() -> None:
    msg = _mail()
    msg.replace_header("Message-ID", "<out-17@mailbot.example.test>")
    mail: ParsedMail = parse_mail(msg.as_bytes())

    assert screen(mail, OWN).verdict is Verdict.ANSWER


# Vacation replies without auto headers and no-reply senders (issue 11, defect 9)


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Out of office until 5 May", "I am out of the office until 5 May."),
        ("Out of office from 1 to 5 May", "Limited access to e-mail."),
        ("Afwezig tot 12 mei", "Ik ben afwezig tot 12 mei."),
        ("Afwezig van 1 tot 12 mei", "Uw e-mail wordt niet doorgestuurd."),
        ("Afwezig t/m vrijdag", "Ik lees mijn e-mail na mijn terugkeer."),
        ("Abwesenheitsnotiz bis 3. Mai", "Ich bin nicht im Büro."),
        ("Abwesend bis 3. Mai", "Ich bin nicht im Büro."),
        ("Absence du bureau jusqu'au 3 mai", "Je suis absente jusqu'au 3 mai."),
        ("Absence jusqu'au 3 mai", "Je suis absente."),
        ("Automatisch antwoord", "Ik ben afwezig."),
        ("Re: Uw verzoek [JAIMY-PRIV-2026-0001]", "Dit is een automatisch antwoord. Ik ben weg."),
        ("Re: Your request", "This is an automatic reply: I am away until Monday."),
        ("RE: Votre demande", "Ceci est une réponse automatique. Je suis absent."),
        ("AW: Ihr Antrag", "Dies ist eine automatische Antwort. Ich bin bis Montag weg."),
    ],
)
def test_vacation_replies_without_auto_headers_are_auto_replies(subject: str, body: str) -> None:
    assert _screen(_mail(subject=subject, body=body)).verdict is Verdict.AUTO_REPLY


@pytest.mark.parametrize(
    "sender",
    [
        "Shop <noreply@shop.example.org>",
        "Shop <no-reply@shop.example.org>",
        "Shop <no_reply@shop.example.org>",
        "Shop <NoReply@shop.example.org>",
        "Shop <noreply+orders@shop.example.org>",
        "Shop <do-not-reply@shop.example.org>",
        "Shop <donotreply@shop.example.org>",
        "Shop <do_not_reply@shop.example.org>",
        "<mailer-daemon@shop.example.org>",
    ],
)
def test_no_reply_senders_are_not_answered(sender: str) -> None:
    result = _screen(_mail(sender=sender))
    assert not result.answerable


@pytest.mark.parametrize(
    ("sender", "subject", "body"),
    [
        ("Noreen Reply <noreen.reply@example.org>", "Verwijder mijn gegevens", "Graag."),
        ("Anna <anna@example.org>", "Absence du suivi de ma demande", "Je n'ai rien reçu."),
        ("Anna <anna@example.org>", "Afwezigheid van een antwoord", "Ik schreef in maart."),
        ("Anna <anna@example.org>", "Out of office reply from you", "Why? Delete my data."),
        (
            "Anna <anna@example.org>",
            "Mijn gegevens",
            "Ik ben tot maandag afwezig; wis mijn account.",
        ),
    ],
)
def test_a_person_mentioning_absence_or_reply_is_still_answered(
    sender: str, subject: str, body: str
) -> None:
    assert _screen(_mail(sender=sender, subject=subject, body=body)).verdict is Verdict.ANSWER


def test_a_text_of_empty_lines_is_screened_in_linear_time() -> None:
    # Found by scripts/fuzz_parse: failure wording then 190,000 empty lines held the
    # screening for minutes (the SMTP reply pattern ran over every empty line from each).
    body = "The message could not be delivered." + "\n" * 190_000 + "550 5.1.1 user unknown"
    started = time.monotonic()
    assert _screen(_mail(body=body)).verdict is Verdict.BOUNCE
    assert time.monotonic() - started < 5.0
