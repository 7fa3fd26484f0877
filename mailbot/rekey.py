"""`mailbot rekey`: every sealed value of the database re-sealed under a new data key.

The rotation first records the new key's check value beside the old one (so a cut-short
rotation is known, and every start refuses to run on a half-rotated database until it is
finished), then re-seals in batches, one transaction each: the stored mails, every
sealed text column, and the name-search hashes (keyed too). A mail sealed under the
new key already is left alone (a text value is sealed afresh, by the same pass that seals
an old install's plaintext: mailbot.cases.at_rest), so a rotation cut short
by a crash or a SIGKILL is finished by running the same command again; until then the
old key still opens what is not re-sealed. Last, the new key's check value replaces the
old one in one transaction: from then on only the new key opens the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Engine
from sqlmodel import col, select

from mailbot.cases.at_rest import reseal_columns
from mailbot.database import transaction
from mailbot.sealing import RotatingSealer, Sealer, sealed_under
from mailbot.store.keycheck import (
    CHECK_CONTEXT,
    CHECK_ID,
    CHECK_LABEL,
    NEXT_KEY_ID,
    check_data_key,
)
from mailbot.store.models import DataKeyCheck, InboundMessage, bind_sealer
from mailbot.store.sealed import sealing_context

log = logging.getLogger(__name__)

BATCH: Final = 200


class RekeyRefused(RuntimeError):
    """The rotation cannot start; the message says why and what to do."""


@dataclass
class RekeyReport:
    mails: int = 0
    rows: int = 0


def rekey(
    engine: Engine,
    old: Sealer,
    new: Sealer,
    batch: int = BATCH,
    progress: Callable[[str], None] = lambda _line: None,
) -> RekeyReport:
    """Re-seal everything under `new`; `old` is the key the database is sealed under."""
    if new.key_id == old.key_id:
        raise RekeyRefused("the new key is the key in use")
    check_data_key(engine, old, rotating=True)
    _begin(engine, new)
    rotating = RotatingSealer(new, old)
    bind_sealer(engine, rotating)
    report = RekeyReport(mails=_mails(engine, rotating, new, batch, progress))
    report.rows = reseal_columns(engine, batch=batch, progress=progress)
    _finish(engine, new)
    bind_sealer(engine, new)
    return report


def _begin(engine: Engine, new: Sealer) -> None:
    with transaction(engine) as session:
        pending = session.get(DataKeyCheck, NEXT_KEY_ID)
        if pending is None:
            session.add(_check_row(NEXT_KEY_ID, new))
            return
        if pending.key_id != new.key_id.hex():
            raise RekeyRefused(
                f"a rotation to another key (id {pending.key_id}) was started: finish it with "
                "that key's file first"
            )


def _finish(engine: Engine, new: Sealer) -> None:
    with transaction(engine) as session:
        current = session.get_one(DataKeyCheck, CHECK_ID)
        current.key_id = new.key_id.hex()
        current.check_value = new.seal(CHECK_LABEL, CHECK_CONTEXT)
        session.add(current)
        session.delete(session.get_one(DataKeyCheck, NEXT_KEY_ID))


def _check_row(row_id: int, sealer: Sealer) -> DataKeyCheck:
    return DataKeyCheck(
        id=row_id, key_id=sealer.key_id.hex(), check_value=sealer.seal(CHECK_LABEL, CHECK_CONTEXT)
    )


def _mails(
    engine: Engine, rotating: Sealer, new: Sealer, batch: int, progress: Callable[[str], None]
) -> int:
    done, last = 0, 0
    while True:
        with transaction(engine) as session:
            rows = session.exec(
                select(InboundMessage)
                .where(col(InboundMessage.id) > last)
                .order_by(col(InboundMessage.id))
                .limit(batch)
            ).all()
            for row in rows:
                if sealed_under(row.raw, rotating.old.key_id):  # type: ignore[attr-defined]
                    context = sealing_context(row.message_key)
                    row.raw = new.seal(rotating.open(row.raw, context), context)
                    session.add(row)
                    done += 1
        if not rows:
            break
        last = rows[-1].id or last
        progress(f"mails re-sealed: {done}")
    return done
