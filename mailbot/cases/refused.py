"""The one kind of error a person's action ends in when the rules do not allow it."""

from __future__ import annotations


class Refused(ValueError):
    """What a person asked is not allowed as things stand; the message says why, in
    words the DPO can act on ("this draft still has fill-ins", "the case is closed")."""
