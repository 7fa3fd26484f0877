"""The worker: ingest new mail, handle what is stored, mark it in the source, send replies.

Each round runs the stages in that order; the stages talk only through database rows,
so the worker can be killed at any point and the next start picks up where the rows
say. The IMAP client is synchronous and runs in a thread; SMTP is asyncio.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import Histogram, start_http_server
from sqlalchemy import Engine, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col, select

from mailbot.cases.models import WorkerState
from mailbot.database import transaction
from mailbot.exposition import worker_registry
from mailbot.lease import Lease, LeaseLost
from mailbot.mail.imap import CONNECTION_ERRORS
from mailbot.mail.source import MailSource
from mailbot.pending import PendingMail
from mailbot.pipeline import Bot
from mailbot.replies.outbox import Breaker, next_retry_at, send_due
from mailbot.schedule import run_scheduled_work
from mailbot.sealing import SealingError
from mailbot.service_manager import Watchdog, notify
from mailbot.store.ingest import ingest
from mailbot.store.keycheck import check_data_key
from mailbot.store.models import Disposition, InboundMessage, bind_sealer, utcnow
from mailbot.tries import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

LONGEST_BACKOFF = 300.0
# A round starts no new batch of pending mail after this long (the batches in flight
# are finished, each mail within MAILBOT_MAIL_SECONDS): it sends what it has drafted,
# so in a backlog the first requesters are answered after a round of handling, not
# after the last mail is handled; the next round follows at once.
HANDLING_SECONDS = 30.0
LEADER = f"{socket.gethostname()}:{os.getpid()}"  # who leads, for /metrics


@dataclass
class RoundSummary:
    stored: int = 0
    handled: int = 0
    quarantined: int = 0
    sent: int = 0
    send_failures: int = 0
    pending_left: bool = False  # handling gave way to sending: the next round is due now


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
        # The longest a healthy worker goes without progress: waiting for mail, then one
        # slow mail (each batch of pending mail counts as progress).
        settings = bot.settings
        self.watchdog = Watchdog(settings.idle_seconds + settings.mail_seconds + 120)
        self.lease: Lease | None = None  # held while `run` leads
        self.classification_seconds: Histogram | None = None  # with the worker's /metrics

    async def run(self, once: bool = False) -> RoundSummary:
        """Work until stopped; with `once`, over what is there now (one round, more in a
        backlog: each round hands over to sending after HANDLING_SECONDS).

        On PostgreSQL a worker finding another in the lead stands by until the lease is
        free (with `once` it raises WorkerAlreadyRunning, as on SQLite always)."""
        lease = Lease(self.engine)
        exposition = self._serve_metrics()
        notify("READY=1")  # for systemd a standby is up too: it is doing its job
        self.watchdog.start()
        try:
            led = await asyncio.to_thread(
                lease.acquire, not once, self.stop, self.watchdog.progress
            )
            if not led:
                return RoundSummary()  # stopped while standing by
            self.lease = lease
            notify("STATUS=leading")
            return await self._work(once)
        finally:
            self.lease = None
            lease.release()
            self.watchdog.stop()
            if exposition is not None:
                exposition.shutdown()
            notify("STOPPING=1")

    async def _work(self, once: bool) -> RoundSummary:
        total = RoundSummary()
        backoff = 1.0
        while not self.stop.is_set():
            self.watchdog.progress()
            try:
                summary = await self.round()
            except StaleDataError:
                # People kept moving a case on while the worker wrote to it (mailbot.
                # cases.models): nothing of it was written, the round goes again.
                log.warning("a case kept changing while the worker wrote to it; again in 1 s")
                await asyncio.to_thread(self.stop.wait, 1.0)
                continue
            except TRANSIENT_ERRORS as exc:
                self._drop_source()
                if once:
                    raise SourceUnavailable(f"{type(exc).__name__}: {exc}") from exc
                log.warning("%s; retrying in %.0f s", _unavailable(exc), backoff)
                await asyncio.to_thread(self.stop.wait, backoff)
                backoff = min(backoff * 2, LONGEST_BACKOFF)
                continue
            _add(total, summary)
            if summary.pending_left:
                backoff = 1.0
                continue  # a backlog: no waiting for new mail before it is handled
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
        await asyncio.to_thread(self._still_leading)
        try:
            ingested = await asyncio.to_thread(
                ingest, self.engine, self.source, settings.max_message_bytes, self.bot.sealer
            )
            stored = ingested.stored
        except CONNECTION_ERRORS as exc:
            source_error = exc
        pending = PendingMail(
            self.engine, self.bot, self.watchdog.progress, self._classified, self.stop.is_set
        )
        handled, quarantined = await asyncio.to_thread(pending.handle_all, HANDLING_SECONDS)
        if source_error is None:
            try:
                await asyncio.to_thread(self.mark_in_source)
                await asyncio.to_thread(self.remove_from_source)
            except CONNECTION_ERRORS as exc:
                source_error = exc
        await asyncio.to_thread(run_scheduled_work, self.engine, self.bot, utcnow())
        if self.lease is not None:
            # Another worker may lead once this one's lease connection is gone: never
            # send then (LeaseLost stops the worker; systemd restarts it as a standby).
            await asyncio.to_thread(self.lease.check)
        sending = await send_due(self.engine, settings, breaker=self.breaker)
        if source_error is not None:
            raise source_error
        await asyncio.to_thread(self._record_round)
        return RoundSummary(
            stored=stored,
            handled=handled,
            quarantined=quarantined,
            sent=sending.sent,
            send_failures=sending.failed,
            pending_left=pending.left,
        )

    def _still_leading(self) -> None:
        """LeaseLost unless this worker still leads with the database's data key: a
        standby that waited through a `mailbot rekey`, or a leader whose lease went with
        a database restart, must not handle or seal anything more."""
        if self.lease is None:
            return
        self.lease.check()
        try:
            check_data_key(self.engine, self.bot.sealer)
        except SealingError as exc:
            raise LeaseLost(
                f"the database's data key is not this worker's any more: {exc}"
            ) from exc

    def handle_pending(self) -> tuple[int, int]:
        """Run the pipeline over every stored, unhandled mail (mailbot.pending), with no
        time limit: (handled, quarantined)."""
        pending = PendingMail(self.engine, self.bot, self.watchdog.progress, self._classified)
        return pending.handle_all()

    def _classified(self, seconds: float, mails: int) -> None:
        if self.classification_seconds is not None:
            for _ in range(mails):
                self.classification_seconds.observe(seconds / mails)

    def _serve_metrics(self) -> WSGIServer | None:
        """The worker's own /metrics on loopback, when a port is configured."""
        port = self.bot.settings.worker_metrics_port
        if port is None:
            return None
        registry, self.classification_seconds = worker_registry(self.engine, utcnow)
        server, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)
        log.info("metrics on http://127.0.0.1:%d/metrics", port)
        return server

    def _record_round(self) -> None:
        """A round done with the source answering: what /metrics calls the worker alive."""
        with transaction(self.engine) as session:
            state = session.get(WorkerState, 1) or WorkerState(id=1, last_round_at=utcnow())
            state.last_round_at, state.rounds = utcnow(), state.rounds + 1
            state.leader = LEADER
            session.add(state)

    def mark_in_source(self) -> None:
        """Flag handled mails in the IMAP folder (a crash before this only delays it)."""
        with transaction(self.engine) as session:
            # The columns only: whole rows would bring every handled mail's sealed bytes.
            rows = session.exec(
                select(
                    InboundMessage.id,
                    InboundMessage.uidvalidity,
                    InboundMessage.uid,
                    InboundMessage.disposition,
                )
                .where(InboundMessage.source == self.source.label)
                .where(InboundMessage.disposition != Disposition.PENDING)
                .where(col(InboundMessage.marked_in_source).is_(False))
                .where(col(InboundMessage.uid).is_not(None))
            ).all()
            by_validity: dict[int | None, list[tuple[int, bool]]] = {}
            for _id, uidvalidity, uid, disposition in rows:
                assert uid is not None
                quarantined = disposition == Disposition.QUARANTINED
                by_validity.setdefault(uidvalidity, []).append((uid, quarantined))
            for uidvalidity, handled in by_validity.items():
                self.source.mark_handled(uidvalidity, handled)
            # Only rows still handled: a mail handed back (`mails retry`) meanwhile is
            # pending again and must be flagged anew once handled.
            ids = [row[0] for row in rows]
            for start in range(0, len(ids), 500):  # bound parameters are limited
                session.execute(
                    update(InboundMessage)
                    .where(col(InboundMessage.id).in_(ids[start : start + 500]))
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
