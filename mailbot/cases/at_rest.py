"""Sealing what an install stored in plaintext before its columns were sealed.

`SealedText` reads such a value as it is; the worker's start seals them, in batches,
so a database upgraded from before migration 0007 holds no personal text in the clear
after its first run. A second start finds nothing to do (one indexed-free scan each).
"""

from __future__ import annotations

import logging
from typing import Final

from sqlalchemy import ColumnElement, Engine, Text, or_, type_coerce
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import SQLModel, col, select

from mailbot.cases.models import Case, OutboundMessage, ReadingCorrection, name_search_value
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
    sealer = bound_sealer(engine.dialect)
    done = 0
    for model, names in SEALED_COLUMNS:
        last = 0
        while True:
            with transaction(engine) as session:
                key = col(model.id)  # type: ignore[attr-defined]
                rows = session.exec(
                    select(model)
                    .where(_plain(model, names))
                    .where(key > last)
                    .order_by(key)
                    .limit(_BATCH)
                ).all()
                for row in rows:
                    for name in names:
                        if getattr(row, name):
                            flag_modified(row, name)
                    if isinstance(row, Case):
                        row.name_search = name_search_value(row.requester_name, sealer)
                    session.add(row)
            if not rows:
                break
            done += len(rows)
            last = rows[-1].id  # type: ignore[attr-defined]
    if done:
        log.info("sealed the personal text of %d row(s) stored before sealing", done)
    return done
