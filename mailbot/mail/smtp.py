"""Handing messages to the SMTP server (aiosmtplib), telling whose fault a failure is.

One connection carries a whole batch of replies: opening a TLS session per mail would
cost more than the mail itself. A failure drops the connection so the next message
starts clean.

A failure is a verdict on the reply only when the server refused that message (a
recipient unknown, the content refused). A wrong password, a sender the server will not
take or a certificate that does not verify is the configuration's fault; a refused
connection or a silent server is the server's: neither says anything about the reply,
which stays queued while the outbox pauses (mailbot.replies.outbox).
"""

from __future__ import annotations

import contextlib
import ssl
from email.message import EmailMessage
from enum import StrEnum
from pathlib import Path

import aiosmtplib

from mailbot.config import SmtpEndpoint

# Answers meaning "not with these credentials / not like this": 530 authentication or
# STARTTLS required, 534 mechanism too weak, 535 credentials refused, 538 encryption
# required for this mechanism.
CONFIGURATION_CODES = frozenset({530, 534, 535, 538})


class FailureScope(StrEnum):
    REPLY = "reply"  # the server refused this message: retried or failed by its code
    SERVER = "server"  # no connection, a silent server, a dropped line
    CONFIGURATION = "configuration"  # credentials, sender, TLS: every reply would fail


class SendFailure(Exception):
    """The server did not take the message. `permanent` failures are not retried;
    `consumes_attempt` is False when the failure says nothing about this message."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        scope: FailureScope = FailureScope.REPLY,
        consumes_attempt: bool = True,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.scope = scope
        self.consumes_attempt = consumes_attempt


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def _is_tls_trouble(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def connection_failure(exc: BaseException) -> SendFailure:
    """Before any message: the failure is the configuration's or the server's, never a
    reply's, so it consumes no attempt. The reason names no person (no server text)."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        reason = f"authentication refused ({exc.code})"
        return _configuration(reason)
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code in CONFIGURATION_CODES:
        return _configuration(f"server refused the session ({exc.code})")
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        # No AUTH offered, STARTTLS refused when required: the URL does not fit the server.
        return _configuration("server does not support what the configuration needs")
    if _is_tls_trouble(exc):
        return _configuration(f"TLS failed ({type(exc).__name__})")
    if isinstance(exc, TimeoutError):
        return SendFailure(
            f"server did not answer in time ({type(exc).__name__})",
            permanent=False,
            scope=FailureScope.SERVER,
            consumes_attempt=False,
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        what = f"server answered {exc.code} at connection"
    else:
        what = f"cannot connect ({type(exc).__name__})"
    return SendFailure(what, permanent=False, scope=FailureScope.SERVER, consumes_attempt=False)


def _configuration(reason: str) -> SendFailure:
    return SendFailure(
        reason, permanent=False, scope=FailureScope.CONFIGURATION, consumes_attempt=False
    )


def message_failure(exc: BaseException) -> SendFailure:
    """While a message was being handed over."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        if any(code in CONFIGURATION_CODES for code in codes):
            return _configuration(f"server refused the session ({codes})")
        permanent = all(code >= 500 for code in codes)
        return SendFailure(f"recipient refused ({codes})", permanent=permanent)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if exc.code in CONFIGURATION_CODES:
            return _configuration(f"server refused the session ({exc.code})")
        if isinstance(exc, aiosmtplib.SMTPSenderRefused) and exc.code >= 500:
            # Our own envelope sender refused: every reply would be; not this one's fault.
            return _configuration(f"sender address refused ({exc.code})")
        return SendFailure(f"server answered {exc.code}", permanent=exc.code >= 500)
    # The line dropped or went silent mid-message: retried, and counted against this
    # reply (a message that always breaks the connection must not loop for ever).
    return SendFailure(
        f"{type(exc).__name__} while sending", permanent=False, scope=FailureScope.SERVER
    )


class SmtpSession:
    """A reusable connection to the submission server; `timeout` bounds the connection
    and each command (a silent server costs that long, not a minute per reply)."""

    def __init__(
        self,
        endpoint: SmtpEndpoint,
        envelope_from: str,
        ca_file: Path | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.endpoint = endpoint
        self.envelope_from = envelope_from
        self.ca_file = ca_file
        self.timeout = timeout
        self._client: aiosmtplib.SMTP | None = None

    async def send(self, message: EmailMessage) -> None:
        """Returns once the server accepted the message; raises SendFailure otherwise."""
        try:
            client = await self._connected()
        except (aiosmtplib.SMTPException, OSError, TimeoutError, ssl.SSLError) as exc:
            self.drop()
            raise connection_failure(exc) from exc
        try:
            await client.send_message(message, sender=self.envelope_from)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self.drop()
            raise message_failure(exc) from exc

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        endpoint = self.endpoint
        client = aiosmtplib.SMTP(
            hostname=endpoint.host,
            port=endpoint.port,
            username=endpoint.user,
            password=endpoint.password,
            use_tls=endpoint.implicit_tls,
            # None: upgrade with STARTTLS whenever the server offers it.
            start_tls=False if endpoint.implicit_tls else None,
            tls_context=tls_context(self.ca_file),
            timeout=self.timeout,
        )
        await client.connect()
        self._client = client
        return client

    def drop(self) -> None:
        """Hang up without QUIT: a server that just failed may not answer it either."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit()
