"""A pending mail's tries: counted and committed before the mail is touched, so a mail
that stops the worker (killed, out of memory) is known by its count at the next start
instead of stopping every start after it.

A mail tried before is handled alone (`batches`): if the worker died during a batch,
the mail that stopped it is then the only one in flight when it stops it again, and
only it is quarantined. The others in flight carry that try too, which is why a mail
is tried three times (MAX_ATTEMPTS): one unrelated kill during a bystander's lone retry
does not quarantine it. A database outage is not the mails' doing: their tries are
given back when the database answers again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final, cast

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import col, select

from mailbot.database import transaction
from mailbot.mail.imap import CONNECTION_ERRORS
from mailbot.pipeline import quarantine
from mailbot.sealing import Sealer
from mailbot.store.models import InboundMessage
from mailbot.store.sealed import stored_raw

log = logging.getLogger(__name__)

# Its first try is shared with up to two batches in flight, so a death then proves
# nothing against a mail; every later try is alone. A mail still pending after these
# stopped the worker twice while it was the only one in flight.
MAX_ATTEMPTS: Final = 3
STOPPED_TWICE: Final = (
    "the worker stopped twice while handling this mail alone (killed, or out of "
    "memory); it is not tried again"
)
# Rows read for their state, not their sealed bytes (a mail's bytes are read once).
WITHOUT_RAW: Final = defer(cast("QueryableAttribute[bytes]", InboundMessage.raw))
# The database or the mail server going away is the world's fault, not the mail's:
# wait and retry rather than quarantine or crash.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, OperationalError)


@dataclass
class Tried:
    """What counting a batch's tries found: each mail's bytes in the batch's order, or
    None for a mail not to be read (quarantined now: tried as often as allowed, or its
    stored bytes cannot be opened, those with why)."""

    raws: dict[int, bytes | None]
    unreadable: dict[int, Exception] = field(default_factory=dict)


def count_tries(engine: Engine, ids: Sequence[int], sealer: Sealer) -> Tried:
    """One more try for each mail, committed before any is read; a mail tried as often
    as allowed is quarantined now instead."""
    tried = Tried(dict.fromkeys(ids))
    allowed: list[int] = []
    with transaction(engine) as session:
        rows = session.exec(
            select(InboundMessage).where(col(InboundMessage.id).in_(list(ids))).options(WITHOUT_RAW)
        ).all()
        for inbound in sorted(rows, key=lambda row: row.id or 0):
            assert inbound.id is not None
            if inbound.attempts >= MAX_ATTEMPTS:
                log.warning("mail %s quarantined: stopped the worker too often", inbound.id)
                quarantine(session, inbound, STOPPED_TWICE)
                continue
            inbound.attempts += 1
            session.add(inbound)
            allowed.append(inbound.id)
    with transaction(engine) as session:
        for inbound in session.exec(
            select(InboundMessage).where(col(InboundMessage.id).in_(allowed))
        ).all():
            assert inbound.id is not None
            try:
                tried.raws[inbound.id] = stored_raw(inbound, sealer)
            except Exception as exc:  # a stored mail that cannot be opened: that mail only
                tried.unreadable[inbound.id] = exc
    return tried


def give_back_tries(engine: Engine, ids: Sequence[int]) -> None:
    """Uncount these mails' tries if the database answers again (if not, they have one
    try less)."""
    with contextlib.suppress(*TRANSIENT_ERRORS), transaction(engine) as session:
        for inbound_id in ids:
            inbound = session.get_one(InboundMessage, inbound_id)
            inbound.attempts = max(inbound.attempts - 1, 0)
            session.add(inbound)


def batches(
    pending: Sequence[tuple[int | None, int]], size: int
) -> Iterator[tuple[list[int], bool]]:
    """(id, attempts) of pending mails, oldest first, as batches and whether the batch is
    a mail tried before: new mails `size` at a time, a mail tried before alone."""
    batch: list[int] = []
    for inbound_id, attempts in pending:
        if inbound_id is None:
            continue
        if attempts == 0:
            batch.append(inbound_id)
            if len(batch) == size:
                yield batch, False
                batch = []
            continue
        if batch:
            yield batch, False
            batch = []
        yield [inbound_id], True
    if batch:
        yield batch, False
