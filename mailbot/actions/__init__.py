"""People's actions: everything the DPO does, one function each, for every interface.

Each takes the session, what it acts on, who acts and the time; it checks what the
rules allow, records the change with an audit event naming the actor, and returns
`Done` (what happened, in a sentence) or raises `Refused` with a reason the person can
act on. The CLI (`mailbot.commands`) and the web app only translate input and output
around these: neither holds a rule of its own. The caller commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from mailbot.cases.refused import Refused
from mailbot.database import transaction


class NotFound(Refused):
    """The case, draft or mail named does not exist (or is not one a person acts on)."""


class CaseChanged(Refused):
    """The case or its letter moved on (a mail from the requester, a reply sent, a
    colleague's decision) between the action's reading it and its writing: nothing was
    changed."""


CASE_CHANGED = (
    "the case changed while you acted (a new mail, a reply sent or a colleague's "
    "decision); nothing was changed: look at it again and repeat if it still applies"
)


@contextmanager
def acting(engine: Engine) -> Iterator[Session]:
    """The transaction a person's action runs in. A case or a reply written meanwhile by
    another (its version moved on, `mailbot.cases.models`) refuses the whole action,
    which the person then repeats on what the case has become, instead of the later
    write silently winning."""
    try:
        with transaction(engine) as session:
            yield session
    except StaleDataError as stale:
        raise CaseChanged(CASE_CHANGED) from stale


@dataclass(frozen=True, slots=True)
class Done:
    """What an action did, in a sentence for the person who asked."""

    summary: str
    draft_id: int | None = None


def who(actor: str) -> str:
    """The actor's name as the audit trail records it; nobody acts anonymously, and a
    name is one line of printable characters (a newline or an escape sequence in it would
    forge lines of `cases show` or drive the reader's terminal)."""
    name = actor.strip()
    if not name:
        raise Refused("say who acts (--as NAME): every decision names its author")
    if not name.isprintable():
        raise Refused(
            "a name (--as NAME) is one line of printable characters: no line breaks, tabs "
            "or control characters"
        )
    return name[:200]


__all__ = ["CASE_CHANGED", "CaseChanged", "Done", "NotFound", "Refused", "acting", "who"]
