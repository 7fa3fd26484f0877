"""The data key's check value: which key this database is sealed under.

At the first start a fixed label is sealed under the data key and stored; every later
start (the worker, the web app, each command that unseals) opens it before reading or
sealing anything. Another key is refused with a message that names the key in use, so a
wrong key can no longer quarantine every stored mail and seal new ones under itself,
leaving a database no single key opens. An install from before the check gets its value
from the current key only when that key opens a mail already stored.
"""

from __future__ import annotations

import logging
from typing import Final

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mailbot.database import transaction
from mailbot.sealing import MAGIC, Sealer, SealingError
from mailbot.store.models import DataKeyCheck, InboundMessage
from mailbot.store.sealed import sealing_context

log = logging.getLogger(__name__)

CHECK_LABEL: Final = b"privacy-mailbot data key check v1"
CHECK_CONTEXT: Final = "data-key-check"
CHECK_ID: Final = 1
# The key a rotation (`mailbot rekey`) is moving to, while it runs or after it was cut
# short: its presence means some values are sealed under the new key already.
NEXT_KEY_ID: Final = 2
_MAILS_TRIED: Final = 5  # stored mails tried on an install from before the check


class WrongDataKey(SealingError):
    """The configured key is not the one the database was sealed under."""


class RotationUnfinished(SealingError):
    """A key rotation was cut short: values are sealed under two keys until it finishes."""


def check_data_key(engine: Engine, sealer: Sealer, *, rotating: bool = False) -> None:
    """Returns when `sealer` holds this database's key (recording the check at the first
    start); WrongDataKey, saying what to do, when it does not; RotationUnfinished when a
    key rotation was cut short (unless it is `mailbot rekey` asking, `rotating`)."""
    with transaction(engine) as session:
        stored = session.get(DataKeyCheck, CHECK_ID)
        if stored is not None:
            _verify(stored, sealer)
            if not rotating and session.get(DataKeyCheck, NEXT_KEY_ID) is not None:
                raise RotationUnfinished(
                    "a data key rotation was cut short: some values are sealed under the "
                    "new key already. Finish it first: `mailbot rekey --new-key-file FILE` "
                    "with the same new key (the old key still configured)"
                )
            return
        _opens_a_stored_mail(session, sealer)
    try:
        with transaction(engine) as session:
            session.add(
                DataKeyCheck(
                    id=CHECK_ID,
                    key_id=sealer.key_id.hex(),
                    check_value=sealer.seal(CHECK_LABEL, CHECK_CONTEXT),
                )
            )
    except IntegrityError:
        # Another process (the web app beside the worker) wrote it first: check theirs.
        with transaction(engine) as session:
            _verify(session.get_one(DataKeyCheck, CHECK_ID), sealer)
        return
    log.info("recorded the data key check for the key of %s", sealer.source)


def _verify(stored: DataKeyCheck, sealer: Sealer) -> None:
    try:
        opened = sealer.open(stored.check_value, CHECK_CONTEXT)
    except SealingError:
        opened = b""
    if opened != CHECK_LABEL:
        raise WrongDataKey(_refusal(sealer, "its key check value does not open with it"))


def _opens_a_stored_mail(session: Session, sealer: Sealer) -> None:
    """An install from before the check: the key must open one of its sealed mails."""
    tried = session.exec(
        select(InboundMessage)
        .where(func.substr(col(InboundMessage.raw), 1, len(MAGIC)) == MAGIC)
        .order_by(col(InboundMessage.id))
        .limit(_MAILS_TRIED)
    ).all()
    if not tried:
        return  # nothing sealed yet: the first start
    for row in tried:
        try:
            sealer.open(row.raw, sealing_context(row.message_key))
            return
        except SealingError:
            continue
    raise WrongDataKey(_refusal(sealer, "none of its stored mails opens with it"))


def _refusal(sealer: Sealer, why: str) -> str:
    return (
        f"the database was sealed under another data key than the one in {sealer.source} "
        f"({why}); nothing was read or changed. Set MAILBOT_DATA_KEY_FILE (or "
        "MAILBOT_DATA_KEY) to the key this database was created with; a new key needs a "
        "new database"
    )
