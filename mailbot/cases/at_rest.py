"""Writing the sealed columns again: what an install stored in plaintext before its
columns were sealed, and everything when the data key changes (mailbot.rekey).

`SealedText` reads a plaintext value as it is; the worker's start seals them, in
batches, so a database upgraded from before migration 0007 holds no personal text in
the clear after its first run. A second start finds nothing to do (one scan each).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from sqlalchemy import ColumnElement, Engine, Text, or_, type_coerce
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import SQLModel, col, select

from mailbot.cases.models import (
    CASE_CHANGED_TRIES,
    Case,
    OutboundMessage,
    ReadingCorrection,
    name_search_value,
)
from mailbot.database import transaction
from mailbot.store.models import SEALED_PREFIX, Attachment, bound_sealer

log = logging.getLogger(__name__)

_BATCH: Final = 500
SEALED_COLUMNS: Final[tuple[tuple[type[SQLModel], tuple[str, ...]], ...]] = (
    (Attachment, ("filename",)),
    (OutboundMessage, ("subject", "body", "drafted_body")),
    (Case, ("requester_name",)),
    (ReadingCorrection, ("subject", "text")),
)


def _plain(model: type[SQLModel], names: tuple[str, ...]) -> ColumnElement[bool]:
    """Rows with a column still in plaintext (compared as stored, not through the type)."""
    return or_(
        *(
            type_coerce(getattr(model, name), Text).not_like(f"{SEALED_PREFIX}%")
            & (type_coerce(getattr(model, name), Text) != "")
            for name in names
        )
    )


def seal_plaintext_columns(engine: Engine) -> int:
    """Seals every value stored in plaintext in a sealed column; returns how many rows."""
    done = reseal_columns(engine, _plain)
    if done:
        log.info("sealed the personal text of %d row(s) stored before sealing", done)
    return done


def reseal_columns(
    engine: Engine,
    only: Callable[[type[SQLModel], tuple[str, ...]], ColumnElement[bool]] | None = None,
    batch: int = _BATCH,
    progress: Callable[[str], None] = lambda _line: None,
) -> int:
    """Write the sealed columns' values again, in batches of rows, one transaction each:
    `SealedText` seals them with the sealer bound to the engine (the data key; during a
    key rotation, the new key), and the keyed name-search words are recomputed with it.
    `only` picks the rows of a model (the plaintext ones); returns how many rows."""
    sealer = bound_sealer(engine.dialect)
    done = 0
    for model, names in SEALED_COLUMNS:
        key = col(model.id)  # type: ignore[attr-defined]
        last, conflicts = 0, 0
        while True:
            try:
                with transaction(engine) as session:
                    query = select(model).where(key > last).order_by(key).limit(batch)
                    if only is not None:
                        query = query.where(only(model, names))
                    rows = session.exec(query).all()
                    for row in rows:
                        for name in names:
                            if getattr(row, name):
                                flag_modified(row, name)
                        if isinstance(row, Case):
                            row.name_search = name_search_value(row.requester_name, sealer)
                        session.add(row)
            except StaleDataError:
                # A row of the batch changed meanwhile (the web app or the bot running):
                # nothing of the batch was written, so again.
                conflicts += 1
                if conflicts == CASE_CHANGED_TRIES:
                    raise
                continue
            conflicts = 0
            if not rows:
                break
            done += len(rows)
            last = rows[-1].id  # type: ignore[attr-defined]
        progress(f"{model.__tablename__}: sealed")
    return done
