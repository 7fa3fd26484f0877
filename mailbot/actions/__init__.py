"""People's actions: everything the DPO does, one function each, for every interface.

Each takes the session, what it acts on, who acts and the time; it checks what the
rules allow, records the change with an audit event naming the actor, and returns
`Done` (what happened, in a sentence) or raises `Refused` with a reason the person can
act on. The CLI (`mailbot.commands`) and the web app only translate input and output
around these: neither holds a rule of its own. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailbot.cases.refused import Refused


class NotFound(Refused):
    """The case, draft or mail named does not exist (or is not one a person acts on)."""


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


__all__ = ["Done", "NotFound", "Refused", "who"]
