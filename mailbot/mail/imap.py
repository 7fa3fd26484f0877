"""An IMAP folder as mail source (imapclient): fetch by UID, IDLE or poll, flag when done.

Fetching uses BODY.PEEK[] so reading never changes what a human sees in the folder;
the bot marks a mail only after it was handled: `\\Seen` plus the `$MailbotDone`
keyword, or `$MailbotQuarantined` (left unseen, so a person notices it).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from mailbot.config import ImapEndpoint
from mailbot.mail.source import FetchedMail, Position

log = logging.getLogger(__name__)

DONE = b"$MailbotDone"
QUARANTINED = b"$MailbotQuarantined"
BATCH = 10  # mails fetched per round trip; bounds memory with large attachments

# Everything that means "the connection is gone, reconnect": imapclient's own errors,
# socket and TLS errors, and the abort imaplib raises on BYE.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    IMAPClientError,
    OSError,
    ssl.SSLError,
    socket.timeout,
    EOFError,
)


class ImapSource:
    def __init__(
        self, endpoint: ImapEndpoint, ca_file: Path | None = None, poll_seconds: float = 60
    ) -> None:
        self.endpoint = endpoint
        self.poll_seconds = poll_seconds
        self.label = endpoint.label
        self._ca_file = ca_file
        self._client: IMAPClient | None = None
        self._uidvalidity: int | None = None

    def _connect(self) -> IMAPClient:
        if self._client is not None:
            return self._client
        endpoint = self.endpoint
        context = None
        if endpoint.tls:
            context = ssl.create_default_context(
                cafile=str(self._ca_file) if self._ca_file else None
            )
        client = IMAPClient(
            endpoint.host, port=endpoint.port, ssl=endpoint.tls, ssl_context=context, timeout=60
        )
        client.normalise_times = False  # keep INTERNALDATE's zone: the legal clock needs it
        if not endpoint.tls and b"STARTTLS" in client.capabilities():
            client.starttls(
                ssl.create_default_context(cafile=str(self._ca_file) if self._ca_file else None)
            )
        client.login(endpoint.user, endpoint.password)
        selected = client.select_folder(endpoint.folder)
        self._uidvalidity = int(selected[b"UIDVALIDITY"])
        self._client = client
        log.info("connected to %s", self.label)
        return client

    def fetch_new(self, position: Position | None, max_bytes: int) -> Iterator[FetchedMail]:
        client = self._connect()
        assert self._uidvalidity is not None
        uidvalidity = self._uidvalidity
        last = position.last_uid if position and position.uidvalidity == uidvalidity else 0
        if position and position.uidvalidity != uidvalidity:
            log.warning("UIDVALIDITY of %s changed; reading the folder again", self.label)
        # "N:*" always matches the newest mail even when its UID is below N.
        uids = sorted(uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last)
        for start in range(0, len(uids), BATCH):
            chunk = uids[start : start + BATCH]
            sizes = client.fetch(chunk, ["RFC822.SIZE", "INTERNALDATE"])
            small = [uid for uid in chunk if int(sizes[uid][b"RFC822.SIZE"]) <= max_bytes]
            bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
            for uid in chunk:
                if uid not in sizes:
                    continue  # expunged meanwhile
                size = int(sizes[uid][b"RFC822.SIZE"])
                if uid in bodies:
                    raw = bytes(bodies[uid][b"BODY[]"])
                else:
                    raw = bytes(client.fetch([uid], ["BODY.PEEK[HEADER]"])[uid][b"BODY[HEADER]"])
                yield FetchedMail(
                    raw=raw,
                    received_at=_aware(sizes[uid][b"INTERNALDATE"]),
                    uidvalidity=uidvalidity,
                    uid=uid,
                    truncated=uid not in bodies,
                    size=size,
                )

    def after_store(self, mail: FetchedMail) -> None:
        return None  # the cursor in the database is the record; flags come after handling

    def mark_handled(self, uidvalidity: int | None, handled: list[tuple[int, bool]]) -> None:
        if not handled:
            return
        client = self._connect()
        if uidvalidity != self._uidvalidity:
            return  # those UIDs name other mails now
        done = [uid for uid, quarantined in handled if not quarantined]
        held = [uid for uid, quarantined in handled if quarantined]
        if done:
            client.add_flags(done, [b"\\Seen", DONE])
        if held:
            client.add_flags(held, [QUARANTINED])

    def wait_for_mail(self, timeout: float, stop: threading.Event) -> None:
        client = self._connect()
        if b"IDLE" not in client.capabilities():
            stop.wait(min(timeout, self.poll_seconds))
            return
        client.idle()
        try:
            waited = 0.0
            # Short slices so a stop request is noticed within seconds.
            while waited < timeout and not stop.is_set():
                slice_ = min(5.0, timeout - waited)
                responses: list[Any] = client.idle_check(timeout=slice_)
                waited += slice_
                if any(_is_news(r) for r in responses):
                    return
        finally:
            client.idle_done()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except CONNECTION_ERRORS:
            client.shutdown()

    def drop(self) -> None:
        """Forget a broken connection without talking to the server."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(*CONNECTION_ERRORS):
                client.shutdown()


def _is_news(response: Any) -> bool:
    return (
        isinstance(response, tuple) and len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")
    )


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.now(UTC)
