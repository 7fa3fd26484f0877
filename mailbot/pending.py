"""Handling the stored mails still pending: read each once, classify them together, then
record them together.

The encoder is several times faster on a batch of texts than on one at a time, so new
mails go in batches: their tries are counted (one transaction), each is read (parse,
screen, ID check and OCR) within its time budget and outside any transaction, the
mails the bot will answer are classified in one call, and the batch's plans are
recorded in one transaction (a transaction per mail cost more than the recording).
Classifying runs in a thread of its own (the encoder computes outside the GIL, on every
core but one), so two batches are in flight: one classified while the next is read and
the one before it recorded. If one mail's recording fails, that transaction is rolled
back and each mail is recorded in a transaction of its own, so one mail's failure never
undoes another's case. A mail's tries are counted before it is touched and a mail
tried before is handled alone (mailbot.tries). A worker asked to stop starts no new
batch.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Final

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col, select

from classifiers import Classification, Classifier, encode_beside_other_work
from mailbot.cases.models import CASE_CHANGED_TRIES
from mailbot.database import transaction
from mailbot.deadline import OutOfTime, within
from mailbot.handling.disposition import MailReading
from mailbot.pipeline import Bot, classify_together, handle, quarantine, read_mail
from mailbot.store.models import Disposition, InboundMessage
from mailbot.tries import WITHOUT_RAW, batches, count_tries, give_back_tries

log = logging.getLogger(__name__)

BATCH: Final = 16  # new mails read, then classified together
SWITCH_SECONDS: Final = 0.00003  # the GIL's switch interval while two batches fly


class _OneAtATime:
    """The classifier, used by one thread at a time: the encoder's thread and a mail
    classified alone while recording (after its batch failed) must not share the
    tokenizer at once."""

    def __init__(self, inner: Classifier) -> None:
        self.inner = inner
        self.name = inner.name
        self.lock = threading.Lock()

    def classify(self, subject: str, body: str) -> Classification:
        with self.lock:
            return self.inner.classify(subject, body)


@dataclass
class _Batch:
    """Mails handled together: read, then classified, then recorded."""

    ids: list[int]
    outcomes: dict[int, str] = field(default_factory=dict)
    readings: dict[int, MailReading] = field(default_factory=dict)
    classified: Future[dict[int, MailReading]] | None = None
    unfinished: list[int] = field(default_factory=list)  # tries to give back on an outage

    def __post_init__(self) -> None:
        self.unfinished = list(self.ids)

    def settled(self, inbound_id: int, disposition: str) -> None:
        self.outcomes[inbound_id] = disposition
        self.unfinished.remove(inbound_id)


class PendingMail:
    """The pending-mail stage of the worker, over one database and one bot."""

    def __init__(
        self,
        engine: Engine,
        bot: Bot,
        progress: Callable[[], None] = lambda: None,
        classified: Callable[[float, int], None] = lambda _seconds, _mails: None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.engine = engine
        self.classifier = _OneAtATime(bot.classifier)
        self.bot = replace(bot, classifier=self.classifier)
        self.progress = progress  # told after each batch (the systemd watchdog)
        self.classified = classified  # (seconds, mails) of each batch, for /metrics
        self.stopping = stopping  # asked to stop (SIGTERM): no new batch is started
        self.left = False  # whether handle_all stopped for its time with mail pending

    def handle_all(self, seconds: float = math.inf) -> tuple[int, int]:
        """Handle the stored, unhandled mails, oldest first, starting no batch after
        `seconds`; (handled, quarantined). `left` then says whether some wait.

        Two batches are in flight: the encoder classifies one in a thread (it works
        outside the GIL) while this thread reads the next and records the last."""
        with transaction(self.engine) as session:
            pending = session.exec(
                select(InboundMessage.id, InboundMessage.attempts)
                .where(InboundMessage.disposition == Disposition.PENDING)
                .order_by(col(InboundMessage.id))
            ).all()
        ends = time.monotonic() + seconds
        outcomes: list[str] = []
        flying: list[_Batch] = []
        interval = sys.getswitchinterval()
        # The encoder's thread lets go of the GIL at each tensor operation (some 240 a
        # batch) and must win it back from this thread, which waits for a request for
        # up to the switch interval: at the default 5 ms, the overlap gained nothing.
        sys.setswitchinterval(SWITCH_SECONDS)
        encoder = ThreadPoolExecutor(
            1, thread_name_prefix="mailbot-classify", initializer=encode_beside_other_work
        )
        with encoder:
            try:
                for ids, retried in batches(pending, BATCH):
                    if self.stopping():
                        break  # the round ends; the mails wait pending for the next start
                    if (outcomes or flying) and time.monotonic() >= ends:
                        self.left = True
                        break
                    if retried:
                        # Alone in flight: if it stops the worker again, only it has
                        # used a try (module docstring).
                        outcomes += self._record_oldest(flying, keep=0)
                        outcomes += self.handle(ids)
                        continue
                    batch = _Batch(list(ids))
                    flying.append(batch)
                    self._read_batch(batch)
                    batch.classified = encoder.submit(self._classify, batch.readings)
                    outcomes += self._record_oldest(flying, keep=1)
                outcomes += self._record_oldest(flying, keep=0)
            except (OperationalError, StaleDataError):
                # The database is unwell, or a case kept changing under the worker: the
                # round is retried, the mails stay pending.
                give_back_tries(self.engine, [i for batch in flying for i in batch.unfinished])
                raise
            finally:
                sys.setswitchinterval(interval)
        return len(outcomes), outcomes.count(Disposition.QUARANTINED)

    def _record_oldest(self, flying: list[_Batch], keep: int) -> list[str]:
        """Record the oldest batches in flight until `keep` remain. A batch leaves
        `flying` only once recorded, so an outage gives back the tries of every batch
        still in it."""
        outcomes: list[str] = []
        while len(flying) > keep:
            outcomes += self._record_batch(flying[0])
            flying.pop(0)
        return outcomes

    def handle(self, ids: Sequence[int]) -> list[str]:
        """Handle these mails as one batch; their dispositions."""
        if not ids:
            return []
        batch = _Batch(list(ids))
        try:
            self._read_batch(batch)
            return self._record_batch(batch)
        except (OperationalError, StaleDataError):
            give_back_tries(self.engine, batch.unfinished)
            raise

    def _read_batch(self, batch: _Batch) -> None:
        """Tries counted, each mail read; what could not be read is settled already."""
        self.progress()
        tried = count_tries(self.engine, batch.ids, self.bot.sealer)
        for inbound_id, failure in tried.unreadable.items():
            self._failed(inbound_id, failure)
        for inbound_id, raw in tried.raws.items():
            if raw is None:
                batch.settled(inbound_id, Disposition.QUARANTINED)
                continue
            self.progress()  # one mail's OCR can take most of a minute
            read = self._read(inbound_id, raw)
            if isinstance(read, MailReading):
                batch.readings[inbound_id] = read
            else:
                batch.settled(inbound_id, read)

    def _classify(self, readings: dict[int, MailReading]) -> dict[int, MailReading]:
        started = time.perf_counter()
        with self.classifier.lock:
            together = classify_together(list(readings.values()), self.classifier.inner)
        if counted := sum(reading.classification is not None for reading in together):
            self.classified(time.perf_counter() - started, counted)
        return dict(zip(readings, together, strict=True))

    def _record_batch(self, batch: _Batch) -> list[str]:
        """The batch's classification awaited, its plans recorded; its dispositions."""
        self.progress()
        classified = batch.classified
        readings = classified.result() if classified else self._classify(batch.readings)
        batch.outcomes.update(self._record_all(readings))
        batch.unfinished = []
        return [batch.outcomes[inbound_id] for inbound_id in batch.ids]

    def _read(self, inbound_id: int, raw: bytes) -> MailReading | str:
        """Parsed, screened and its ID copies read (OCR: seconds per image) once, outside
        any write transaction; or the disposition of a mail that could not be read."""
        settings = self.bot.settings
        try:
            return within(settings.mail_seconds, lambda: read_mail(raw, settings))
        except OutOfTime:
            log.warning("mail %s quarantined: out of time", inbound_id)
            reason = f"reading the mail took longer than {settings.mail_seconds} s"
            return self._quarantine(inbound_id, reason)
        except Exception as exc:
            return self._failed(inbound_id, exc)

    def _record_all(self, readings: dict[int, MailReading]) -> dict[int, str]:
        """Record the batch in one transaction; if one mail fails, each mail alone."""
        if len(readings) < 2:
            return {inbound_id: self._record(inbound_id, r) for inbound_id, r in readings.items()}
        try:
            with transaction(self.engine) as session:
                rows = session.exec(
                    select(InboundMessage)
                    .where(col(InboundMessage.id).in_(list(readings)))
                    .order_by(col(InboundMessage.id))  # locks always taken in one order
                    .options(WITHOUT_RAW)  # the mails are read already
                    .with_for_update()
                ).all()
                found = {row.id: row for row in rows}
                outcomes: dict[int, str] = {}
                for inbound_id, reading in readings.items():
                    inbound = found[inbound_id]
                    # Left alone when another worker handled it meanwhile (a leader that
                    # lost its lease between reading and recording).
                    if inbound.disposition == Disposition.PENDING:
                        handle(session, inbound, self.bot, reading)
                    outcomes[inbound_id] = inbound.disposition
                return outcomes
        except OperationalError:
            raise
        except Exception as exc:
            log.info("recording %d mails together failed (%s); recording each alone",
                     len(readings), type(exc).__name__)  # fmt: skip
            return {inbound_id: self._record(inbound_id, r) for inbound_id, r in readings.items()}

    def _record(self, inbound_id: int, reading: MailReading) -> str:
        """The mail recorded in a transaction of its own; its disposition."""
        tries_left = CASE_CHANGED_TRIES
        while True:
            tries_left -= 1
            try:
                return self._record_once(inbound_id, reading)
            except OperationalError:
                raise
            except StaleDataError:
                # Its case moved on meanwhile (the DPO acted on it): nothing of the
                # mail was written, so it is decided again on what the case has become.
                # Not the mail's fault even the last time: the round is retried.
                if not tries_left:
                    raise
                log.info("mail %s: its case changed while it was recorded; again", inbound_id)
            except Exception as exc:
                return self._failed(inbound_id, exc)

    def _record_once(self, inbound_id: int, reading: MailReading) -> str:
        with transaction(self.engine) as session:
            # Locked, and left alone when another worker handled it meanwhile (a leader
            # that lost its lease between reading and recording).
            inbound = session.get_one(InboundMessage, inbound_id, with_for_update=True)
            if inbound.disposition == Disposition.PENDING:
                handle(session, inbound, self.bot, reading)
            return inbound.disposition

    def _failed(self, inbound_id: int, exc: Exception) -> str:
        if isinstance(exc, OperationalError):
            raise exc
        # The type only at WARNING: exception texts can quote the mail.
        log.warning("mail %s quarantined: %s", inbound_id, type(exc).__name__)
        log.debug("mail %s failed", inbound_id, exc_info=True)
        return self._quarantine(inbound_id, f"internal error: {type(exc).__name__}")

    def _quarantine(self, inbound_id: int, reason: str) -> str:
        with transaction(self.engine) as session:
            quarantine(session, session.get_one(InboundMessage, inbound_id), reason)
        return Disposition.QUARANTINED
