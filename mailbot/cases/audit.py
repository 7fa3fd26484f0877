"""The audit trail: append-only case events, each hash chained to the one before.

The chain is global (not per case), so removing a whole case's history or reordering
events anywhere breaks it; `verify_chain` finds the first row that does not fit.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import text
from sqlmodel import Session, SQLModel, col, func, select

from mailbot.cases.models import CaseEvent, ChainCheck
from mailbot.store.models import utcnow

GENESIS = "0" * 64
CHAIN_LOCK = 0x6D61696C626F7401  # "mailbot" + 1: apart from the worker lease's key
_HEAD = "mailbot.audit.head"
_EVENTS = SQLModel.metadata.tables["case_event"]
# Built once: run by every transaction that writes an event.
_LAST_HASH = select(CaseEvent.hash).order_by(col(CaseEvent.id).desc()).limit(1)
_CHAIN_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_WRITE_LOCK = text("UPDATE case_event SET id = id WHERE id IS NULL")


def event_hash(prev_hash: str, case_id: int, at: datetime, kind: str, actor: str, data: str) -> str:
    """What the chain commits to; any change to these fields changes the hash."""
    payload = json.dumps(
        [prev_hash, case_id, at.isoformat(), kind, actor, data], ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def canonical(data: Mapping[str, object]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)


def append_event(
    session: Session, case_id: int, kind: str, actor: str, data: Mapping[str, object] | None = None
) -> None:
    """Add one event to the chain inside the caller's transaction, written at once."""
    prev_hash = session.info.get(_HEAD)
    if prev_hash is None:  # the transaction's first event: find the chain's head
        # One transaction at a time extends the chain, its lock taken before the head is
        # read and held until commit: the worker and a DPO's command would otherwise
        # both chain onto the same last event and fork it.
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            connection.execute(_CHAIN_LOCK, {"key": CHAIN_LOCK})
        else:
            # SQLite's write lock is the chain's lock. pysqlite begins a transaction at
            # its first write only, so the head read before it could be stale once the
            # event is written: a write that changes nothing takes the lock first.
            connection.execute(_WRITE_LOCK)
        prev_hash = connection.execute(_LAST_HASH).scalar() or GENESIS
    # Microseconds are dropped because some databases do not keep them, and the hash
    # must be recomputable from what was stored.
    at = utcnow().replace(microsecond=0)
    body = canonical(data or {})
    row_hash = event_hash(prev_hash, case_id, at, kind, actor, body)
    # A plain insert, not an object for the session's unit of work: events are never
    # changed, and a mail's handful of them cost more in the flush than in the database.
    session.connection().execute(
        _EVENTS.insert(),
        {"case_id": case_id, "at": at, "kind": kind, "actor": actor, "data": body,
         "prev_hash": prev_hash, "hash": row_hash},
    )  # fmt: skip
    # Later events of this transaction chain onto this one without asking the database;
    # forgotten at commit or rollback (below), when the head may have moved.
    session.info[_HEAD] = row_hash


@sqlalchemy_event.listens_for(Session, "after_commit")
@sqlalchemy_event.listens_for(Session, "after_rollback")
def _forget_head(session: Session) -> None:
    session.info.pop(_HEAD, None)


def verify_chain(events: Iterable[CaseEvent]) -> int | None:
    """The id of the first event that breaks the chain, or None when it is intact."""
    prev_hash = GENESIS
    for event in events:
        expected = event_hash(
            prev_hash, event.case_id, event.at, event.kind, event.actor, event.data
        )
        if event.prev_hash != prev_hash or event.hash != expected:
            return event.id
        prev_hash = event.hash
    return None


def check_stored_chain(
    session: Session, actor: str, now: datetime, batch: int = 5000
) -> ChainCheck:
    """Verify every stored event, streamed in batches, and record the result."""
    started = time.perf_counter()
    seen = {"events": 0, "last": None}

    def counted(events: Iterable[CaseEvent]) -> Iterator[CaseEvent]:
        for event in events:
            seen["events"] = int(seen["events"] or 0) + 1
            seen["last"] = event.id
            yield event

    stream = session.exec(
        select(CaseEvent).order_by(col(CaseEvent.id)).execution_options(yield_per=batch)
    )
    broken = verify_chain(counted(stream))
    check = ChainCheck(
        checked_at=now,
        checked_by=actor,
        events=int(seen["events"] or 0),
        last_event_id=seen["last"],
        first_broken_event=broken,
        seconds=round(time.perf_counter() - started, 3),
    )
    session.add(check)
    return check


def last_chain_check(session: Session) -> ChainCheck | None:
    return session.exec(select(ChainCheck).order_by(col(ChainCheck.id).desc()).limit(1)).first()


def events_since(session: Session, check: ChainCheck | None) -> int:
    """Events recorded after `check` (all of them when there was none)."""
    query = select(func.count()).select_from(CaseEvent)
    if check is not None and check.last_event_id is not None:
        query = query.where(col(CaseEvent.id) > check.last_event_id)
    return session.exec(query).one()
