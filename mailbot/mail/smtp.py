"""Handing messages to the SMTP server (aiosmtplib), telling temporary from final failures.

One connection carries a whole batch of replies: opening a TLS session per mail would
cost more than the mail itself. A failure drops the connection so the next message
starts clean.
"""

from __future__ import annotations

import contextlib
import ssl
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from mailbot.config import SmtpEndpoint


class SendFailure(Exception):
    """The server did not take the message. `permanent` failures are not retried."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


class SmtpSession:
    """A reusable connection to the submission server."""

    def __init__(
        self,
        endpoint: SmtpEndpoint,
        envelope_from: str,
        ca_file: Path | None = None,
        timeout: float = 60.0,
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
            await client.send_message(message, sender=self.envelope_from)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            await self.close()
            codes = [r.code for r in exc.recipients]
            permanent = all(code >= 500 for code in codes)
            raise SendFailure(f"recipient refused ({codes})", permanent=permanent) from exc
        except aiosmtplib.SMTPResponseException as exc:
            await self.close()
            raise SendFailure(f"server answered {exc.code}", permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # Connection refused, TLS trouble, timeouts: the server may be back later.
            await self.close()
            raise SendFailure(f"{type(exc).__name__}: {exc}", permanent=False) from exc

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

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit()
