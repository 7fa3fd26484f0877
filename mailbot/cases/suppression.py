"""The suppression list: addresses direct marketing must never reach again.

An objection to direct marketing (Art. 21(3)) or a withdrawal of consent (Art. 7(3)) puts
the requester's address here the moment the mail is read, in the same transaction;
`mailbot suppression list` is what the marketing tools read.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from mailbot.accounts import account_key
from mailbot.cases.audit import append_event
from mailbot.cases.models import Case, Suppression


def suppress(session: Session, case: Case, right: str, actor: str = "bot") -> None:
    """The requester's address leaves every marketing list at once."""
    address = account_key(case.requester)
    known = session.exec(select(Suppression).where(Suppression.address == address)).first()
    if known is None:
        session.add(Suppression(address=address, reason=right, case_id=case.id))
    assert case.id is not None
    append_event(session, case.id, "suppressed", actor, {"reason": right})


def suppressed(session: Session) -> list[Suppression]:
    return list(session.exec(select(Suppression).order_by(col(Suppression.id))).all())
