"""The worker: ingest new mail, handle what is stored, mark it in the source, send replies.

Each round runs the stages in that order; the stages talk only through database rows,
so the worker can be killed at any point and the next start picks up where the rows
say. The IMAP client is synchronous and runs in a thread; SMTP is asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass

from sqlalchemy import Engine, update
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from mailbot.database import transaction
from mailbot.deadline import OutOfTime, within
from mailbot.lease import worker_lease
from mailbot.mail.imap import CONNECTION_ERRORS
from mailbot.mail.source import MailSource
from mailbot.pipeline import Bot, handle, quarantine, read_mail
from mailbot.replies.outbox import Breaker, next_retry_at, send_due
from mailbot.schedule import run_scheduled_work
from mailbot.store.ingest import ingest
from mailbot.store.models import Disposition, InboundMessage, bind_sealer, utcnow
from mailbot.store.sealed import stored_raw

log = logging.getLogger(__name__)

LONGEST_BACKOFF = 300.0
# Tries a mail gets: one still pending after these was being handled when the worker
# died (killed, out of memory) each time, and would stop every round after it.
MAX_ATTEMPTS = 2
STOPPED_TWICE = (
    "the worker stopped twice while handling this mail (killed, or out of memory); "
    "it is not tried again"
)
# The database or the mail server going away is the world's fault, not the mail's:
# wait and retry rather than quarantine or crash.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, OperationalError)


@dataclass
class RoundSummary:
    stored: int = 0
    handled: int = 0
    quarantined: int = 0
    sent: int = 0
    send_failures: int = 0


class SourceUnavailable(RuntimeError):
    """The mail source or the database cannot be reached (raised only when running once)."""


class Worker:
    def __init__(self, engine: Engine, source: MailSource, bot: Bot) -> None:
        self.engine = engine
        self.source = source
        self.bot = bot
        bind_sealer(engine, bot.sealer)  # what it reads and writes sealed (SealedText)
        self.stop = threading.Event()
        # In memory: a restart (after fixing the SMTP settings) tries to send at once.
        self.breaker = Breaker(bot.settings.smtp_breaker_failures)

    async def run(self, once: bool = False) -> RoundSummary:
        """Work until stopped; with `once`, one round over what is there now.

        Raises WorkerAlreadyRunning when another worker uses the same database."""
        with worker_lease(self.engine):
            return await self._work(once)

    async def _work(self, once: bool) -> RoundSummary:
        total = RoundSummary()
        backoff = 1.0
        while not self.stop.is_set():
            try:
                summary = await self.round()
            except TRANSIENT_ERRORS as exc:
                self._drop_source()
                if once:
                    raise SourceUnavailable(f"{type(exc).__name__}: {exc}") from exc
                log.warning("%s; retrying in %.0f s", _unavailable(exc), backoff)
                await asyncio.to_thread(self.stop.wait, backoff)
                backoff = min(backoff * 2, LONGEST_BACKOFF)
                continue
            _add(total, summary)
            if once:
                break
            try:
                await asyncio.to_thread(self.source.wait_for_mail, self._wait_seconds(), self.stop)
            except CONNECTION_ERRORS as exc:
                # Back off here too: a server that drops every IDLE at once must not
                # turn the worker into a login loop.
                log.warning(
                    "connection lost while waiting (%s); reconnecting in %.0f s",
                    type(exc).__name__,
                    backoff,
                )
                self._drop_source()
                await asyncio.to_thread(self.stop.wait, backoff)
                backoff = min(backoff * 2, LONGEST_BACKOFF)
                continue
            backoff = 1.0
        self.source.close()
        return total

    async def round(self) -> RoundSummary:
        """One pass over every stage. Replies still go out when the mail source is down;
        the source's error is raised afterwards so the caller backs off."""
        settings = self.bot.settings
        source_error: BaseException | None = None
        stored = 0
        try:
            ingested = await asyncio.to_thread(
                ingest, self.engine, self.source, settings.max_message_bytes, self.bot.sealer
            )
            stored = ingested.stored
        except CONNECTION_ERRORS as exc:
            source_error = exc
        handled, quarantined = await asyncio.to_thread(self.handle_pending)
        if source_error is None:
            try:
                await asyncio.to_thread(self.mark_in_source)
                await asyncio.to_thread(self.remove_from_source)
            except CONNECTION_ERRORS as exc:
                source_error = exc
        await asyncio.to_thread(run_scheduled_work, self.engine, self.bot, utcnow())
        sending = await send_due(self.engine, settings, breaker=self.breaker)
        if source_error is not None:
            raise source_error
        return RoundSummary(
            stored=stored,
            handled=handled,
            quarantined=quarantined,
            sent=sending.sent,
            send_failures=sending.failed,
        )

    def handle_pending(self) -> tuple[int, int]:
        """Run the pipeline over every stored, unhandled mail: each read once, outside any
        transaction and within the time budget, then decided and recorded in one
        transaction of its own. Each try is counted before it starts."""
        with transaction(self.engine) as session:
            pending = session.exec(
                select(InboundMessage.id)
                .where(InboundMessage.disposition == Disposition.PENDING)
                .order_by(col(InboundMessage.id))
            ).all()
        handled = quarantined = 0
        for inbound_id in filter(None, pending):
            quarantined += self.handle_one(inbound_id) == Disposition.QUARANTINED
            handled += 1
        return handled, quarantined

    def handle_one(self, inbound_id: int) -> str:
        """Handle one pending mail; its disposition. A mail that stopped the worker (or
        took all its time) before is quarantined rather than tried again."""
        settings = self.bot.settings
        try:
            raw = self._begin_attempt(inbound_id)
            if raw is None:
                return Disposition.QUARANTINED
            # Parsed, screened and its ID copies read (OCR: seconds per image) once,
            # outside the write transaction.
            reading = within(settings.mail_seconds, lambda: read_mail(raw, settings))
            with transaction(self.engine) as session:
                inbound = session.get_one(InboundMessage, inbound_id)
                handle(session, inbound, self.bot, reading)
                return inbound.disposition
        except OperationalError:
            self._give_back_attempt(inbound_id)
            raise  # the database is unwell: the round is retried, the mail stays pending
        except OutOfTime:
            log.warning("mail %s quarantined: out of time", inbound_id)
            return self._quarantine(
                inbound_id, f"reading the mail took longer than {settings.mail_seconds} s"
            )
        except Exception as exc:
            # The type only at WARNING: exception texts can quote the mail.
            log.warning("mail %s quarantined: %s", inbound_id, type(exc).__name__)
            log.debug("mail %s failed", inbound_id, exc_info=True)
            return self._quarantine(inbound_id, f"internal error: {type(exc).__name__}")

    def _begin_attempt(self, inbound_id: int) -> bytes | None:
        """Count the try and commit it before the mail is touched; the raw mail, or None
        when it was tried as often as allowed and is quarantined now."""
        with transaction(self.engine) as session:
            inbound = session.get_one(InboundMessage, inbound_id)
            if inbound.attempts >= MAX_ATTEMPTS:
                log.warning("mail %s quarantined: stopped the worker twice", inbound_id)
                quarantine(session, inbound, STOPPED_TWICE)
                return None
            inbound.attempts += 1
            session.add(inbound)
        with transaction(self.engine) as session:
            return stored_raw(session.get_one(InboundMessage, inbound_id), self.bot.sealer)

    def _give_back_attempt(self, inbound_id: int) -> None:
        """A database outage is not the mail's doing: uncount the try if the database
        answers again (if not, the mail has one try less)."""
        with contextlib.suppress(*TRANSIENT_ERRORS), transaction(self.engine) as session:
            inbound = session.get_one(InboundMessage, inbound_id)
            inbound.attempts = max(inbound.attempts - 1, 0)
            session.add(inbound)

    def _quarantine(self, inbound_id: int, reason: str) -> str:
        with transaction(self.engine) as session:
            quarantine(session, session.get_one(InboundMessage, inbound_id), reason)
        return Disposition.QUARANTINED

    def mark_in_source(self) -> None:
        """Flag handled mails in the IMAP folder (a crash before this only delays it)."""
        with transaction(self.engine) as session:
            rows = session.exec(
                select(InboundMessage)
                .where(InboundMessage.source == self.source.label)
                .where(InboundMessage.disposition != Disposition.PENDING)
                .where(col(InboundMessage.marked_in_source).is_(False))
                .where(col(InboundMessage.uid).is_not(None))
            ).all()
            by_validity: dict[int | None, list[tuple[int, bool]]] = {}
            for row in rows:
                assert row.uid is not None
                quarantined = row.disposition == Disposition.QUARANTINED
                by_validity.setdefault(row.uidvalidity, []).append((row.uid, quarantined))
            for uidvalidity, handled in by_validity.items():
                self.source.mark_handled(uidvalidity, handled)
            # Only rows still handled: a mail handed back (`mails retry`) meanwhile is
            # pending again and must be flagged anew once handled.
            session.execute(
                update(InboundMessage)
                .where(col(InboundMessage.id).in_([row.id for row in rows]))
                .where(col(InboundMessage.disposition) != Disposition.PENDING)
                .values(marked_in_source=True)
            )

    def remove_from_source(self) -> None:
        """Delete from the source folder the mails an ID copy was cut out of; the sealed,
        redacted copy in the database is then the only one (LEGAL.md §2.5)."""
        with transaction(self.engine) as session:
            rows = session.exec(
                select(InboundMessage)
                .where(InboundMessage.source == self.source.label)
                .where(col(InboundMessage.remove_from_source).is_(True))
            ).all()
            for row in rows:
                self.source.remove(row.uidvalidity, row.uid, row.source_ref)
                row.remove_from_source = False
                session.add(row)

    def _wait_seconds(self) -> float:
        settings = self.bot.settings
        wait = float(settings.idle_seconds)
        retry_at = next_retry_at(self.engine, self.breaker)
        if retry_at is not None:
            wait = min(wait, max((retry_at - utcnow()).total_seconds(), 1.0))
        return wait

    def _drop_source(self) -> None:
        self.source.drop()


def _unavailable(exc: BaseException) -> str:
    what = "database" if isinstance(exc, OperationalError) else "mail source"
    return f"{what} unavailable ({type(exc).__name__})"


def _add(total: RoundSummary, summary: RoundSummary) -> None:
    total.stored += summary.stored
    total.handled += summary.handled
    total.quarantined += summary.quarantined
    total.sent += summary.sent
    total.send_failures += summary.send_failures
