"""Whose fault an SMTP failure is (issue 11, defects 3 and 7): only the message's own
refusal is a verdict on a reply; the breaker pauses sending for the rest."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta

import aiosmtplib

from mailbot.mail.smtp import FailureScope, SendFailure, connection_failure, message_failure
from mailbot.replies.outbox import Breaker, pause_length

NOW = datetime(2026, 3, 9, 9, tzinfo=UTC)


def test_a_refused_password_sender_or_certificate_is_the_configuration() -> None:
    for exc in (
        aiosmtplib.SMTPAuthenticationError(535, "5.7.8 bad credentials for bot@jaimy.be"),
        aiosmtplib.SMTPResponseException(530, "5.7.0 must issue STARTTLS first"),
        aiosmtplib.SMTPNotSupported("SMTP AUTH extension not supported by server."),
        ssl.SSLCertVerificationError("certificate verify failed"),
    ):
        failure = connection_failure(exc)
        assert failure.scope == FailureScope.CONFIGURATION and not failure.consumes_attempt
    sender = message_failure(aiosmtplib.SMTPSenderRefused(553, "not yours", "privacy@jaimy.be"))
    assert sender.scope == FailureScope.CONFIGURATION and not sender.consumes_attempt
    # The server's own words (which may name an account) stay out of the reason.
    assert (
        "bot@jaimy.be"
        not in connection_failure(
            aiosmtplib.SMTPAuthenticationError(535, "bad credentials for bot@jaimy.be")
        ).reason
    )


def test_a_dead_or_silent_server_consumes_no_attempt() -> None:
    for exc in (ConnectionRefusedError(111, "refused"), aiosmtplib.SMTPConnectTimeoutError("t")):
        failure = connection_failure(exc)
        assert failure.scope == FailureScope.SERVER and not failure.consumes_attempt


def test_only_the_recipient_or_content_refused_is_the_replys() -> None:
    refused = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, "no such user", "x@example.org")]
    )
    failure = message_failure(refused)
    assert (failure.scope, failure.permanent, failure.consumes_attempt) == (
        FailureScope.REPLY,
        True,
        True,
    )
    later = message_failure(aiosmtplib.SMTPDataError(451, "try later"))
    assert (later.permanent, later.consumes_attempt) == (False, True)


def test_the_breaker_opens_at_once_for_configuration_after_n_otherwise() -> None:
    dead = SendFailure("cannot connect", permanent=False, scope=FailureScope.SERVER)
    breaker = Breaker(threshold=3)
    assert not breaker.failed(dead, NOW) and not breaker.failed(dead, NOW)
    assert breaker.failed(dead, NOW) and breaker.paused
    assert not breaker.allows(NOW + timedelta(seconds=59)) and breaker.allows(NOW + pause_length(1))
    assert breaker.failed(dead, NOW) and breaker.until == NOW + timedelta(minutes=2)
    assert breaker.succeeded() and not breaker.paused and breaker.allows(NOW)
    wrong = SendFailure(
        "authentication refused (535)", permanent=False, scope=FailureScope.CONFIGURATION
    )
    assert Breaker(threshold=3).failed(wrong, NOW)
    assert pause_length(20) == timedelta(minutes=30)
