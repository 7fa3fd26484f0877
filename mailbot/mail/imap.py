"""An IMAP folder as mail source (imapclient): fetch by UID, IDLE or poll, flag when done.

Fetching uses BODY.PEEK[] so reading never changes what a human sees in the folder;
the bot marks a mail only after it was handled: `\\Seen` plus the `$MailbotDone`
keyword, or `$MailbotQuarantined` (left unseen, so a person notices it).
"""

from __future__ import annotations

import contextlib
import imaplib
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
        self,
        endpoint: ImapEndpoint,
        ca_file: Path | None = None,
        poll_seconds: float = 60,
        history: str = "all",
    ) -> None:
        self.endpoint = endpoint
        self.poll_seconds = poll_seconds
        self.history = history  # "all": answer what is already there; "new": only later mail
        self._uidnext = 1
        self._keywords_allowed = True
        self._highest_uid = 0
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
        self._uidnext = int(selected.get(b"UIDNEXT", 1))
        self._keywords_allowed = b"\\*" in selected.get(b"PERMANENTFLAGS", ())
        self._client = client
        log.info("connected to %s", self.label)
        return client

    def start_position(self) -> Position | None:
        """Where to begin in a folder never read before: the start, or after what is there."""
        self._connect()
        if self.history == "all" or self._uidvalidity is None:
            return None
        return Position(self._uidvalidity, self._uidnext - 1)

    def fetch_new(self, position: Position | None, max_bytes: int) -> Iterator[FetchedMail]:
        client = self._connect()
        assert self._uidvalidity is not None
        uidvalidity = self._uidvalidity
        last = position.last_uid if position and position.uidvalidity == uidvalidity else 0
        if position and position.uidvalidity != uidvalidity:
            log.warning("UIDVALIDITY of %s changed; reading the folder again", self.label)
        # "N:*" always matches the newest mail even when its UID is below N.
        self._highest_uid = max(self._highest_uid, last)
        uids = sorted(uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last)
        for start in range(0, len(uids), BATCH):
            chunk = uids[start : start + BATCH]
            sizes = client.fetch(chunk, ["RFC822.SIZE", "INTERNALDATE"])
            present = [uid for uid in chunk if uid in sizes]  # others were expunged meanwhile
            small = [uid for uid in present if int(sizes[uid][b"RFC822.SIZE"]) <= max_bytes]
            bodies = self._bodies(client, small, "BODY.PEEK[]", b"BODY[]")
            large = [uid for uid in present if uid not in small]
            bodies.update(self._bodies(client, large, "BODY.PEEK[HEADER]", b"BODY[HEADER]"))
            for uid in present:
                self._highest_uid = max(self._highest_uid, uid)
                body = bodies.get(uid)
                yield FetchedMail(
                    raw=body if isinstance(body, bytes) else b"",
                    received_at=_aware(sizes[uid][b"INTERNALDATE"]),
                    uidvalidity=uidvalidity,
                    uid=uid,
                    truncated=uid in large,
                    size=int(sizes[uid][b"RFC822.SIZE"]),
                    problem=body if isinstance(body, str) else None,
                )

    def _bodies(
        self, client: IMAPClient, uids: list[int], item: str, key: bytes
    ) -> dict[int, bytes | str]:
        """uid -> bytes, or -> the server's refusal for a mail it will not hand over."""
        if not uids:
            return {}
        try:
            fetched = client.fetch(uids, [item])
            return {uid: bytes(fetched[uid][key]) for uid in uids if uid in fetched}
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            if len(uids) > 1:  # find the one mail the server refuses, keep the others
                return {
                    uid: body
                    for one in uids
                    for uid, body in self._bodies(client, [one], item, key).items()
                }
            return {uids[0]: f"the IMAP server refused to hand this mail over: {exc}"[:500]}

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
        # A folder without custom keywords still gets \Seen; quarantined mails then stay
        # unread, which is the point of the keyword anyway.
        keywords = self._keywords_allowed
        if done:
            client.add_flags(done, [b"\\Seen", DONE] if keywords else [b"\\Seen"])
            if keywords:  # a quarantined mail the DPO handed back is no longer held
                client.remove_flags(done, [QUARANTINED])
        if held and keywords:
            client.add_flags(held, [QUARANTINED])

    def remove(self, uidvalidity: int | None, uid: int | None, source_ref: str | None) -> None:
        if uid is None:
            return
        client = self._connect()
        if uidvalidity != self._uidvalidity:
            # The UID names another mail now. Ingest, earlier in this round, read the
            # renumbered folder again and gave every mail still there its new UID
            # (mailbot.store.ingest): this one is no longer in the folder.
            return
        client.delete_messages([uid])
        if b"UIDPLUS" in client.capabilities():
            client.uid_expunge([uid])  # only this mail, not what others marked \\Deleted
        else:
            client.expunge()

    def wait_for_mail(self, timeout: float, stop: threading.Event) -> None:
        client = self._connect()
        if b"IDLE" not in client.capabilities():
            stop.wait(min(timeout, self.poll_seconds))
            return
        # A mail that arrived while we were flagging was announced in that command's
        # reply, which IDLE will not repeat: look before waiting.
        newer = client.search(["UID", f"{self._highest_uid + 1}:*"])
        if any(uid > self._highest_uid for uid in newer):
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
