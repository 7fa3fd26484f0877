"""The e-mail policy the bot reads and writes mail with: CPython's default, with each
kind of header class made once.

CPython's header registry builds a new class every time it makes a header
(`HeaderRegistry.__getitem__` calls `type()`): a fifth of composing a reply, and a share
of reading each header of each mail. The class it builds depends only on the kind of
header, so one per kind is kept. The kinds are the registry's (a score of them), not
the header names a mail brings, so a mail with thousands of names adds nothing here.
"""

from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry


class _ClassesMadeOnce(HeaderRegistry):
    def __init__(self) -> None:
        super().__init__()
        self._made: dict[type, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        kind = self.registry.get(name.lower(), self.default_class)
        made = self._made.get(kind)
        if made is None:
            made = self._made[kind] = super().__getitem__(name)
        return made


MAIL_POLICY = policy.default.clone(header_factory=_ClassesMadeOnce())
