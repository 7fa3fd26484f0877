"""Handing one message to the SMTP server (aiosmtplib), telling temporary from final failures."""

from __future__ import annotations

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


async def send_message(
    message: EmailMessage,
    endpoint: SmtpEndpoint,
    envelope_from: str,
    ca_file: Path | None = None,
    timeout: float = 60.0,
) -> None:
    """Deliver to the server; raises SendFailure. Returns once the server accepted it."""
    try:
        _errors, _response = await aiosmtplib.send(
            message,
            sender=envelope_from,
            hostname=endpoint.host,
            port=endpoint.port,
            username=endpoint.user,
            password=endpoint.password,
            use_tls=endpoint.implicit_tls,
            # None: upgrade with STARTTLS whenever the server offers it.
            start_tls=None if not endpoint.implicit_tls else False,
            tls_context=tls_context(ca_file),
            timeout=timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        permanent = all(code >= 500 for code in codes)
        raise SendFailure(f"recipient refused ({codes})", permanent=permanent) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise SendFailure(f"server answered {exc.code}", permanent=exc.code >= 500) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        # Connection refused, TLS trouble, timeouts: the server may be back later.
        raise SendFailure(f"{type(exc).__name__}: {exc}", permanent=False) from exc
