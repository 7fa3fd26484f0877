"""Does the ID copy show the requester's name? Compared at check time, never stored.

The requester's name is the display name of the mail's From; the card's text is what
OCR read (printed fields and the machine-readable zone, where `<` separates names).
Only the yes/no answer is kept (LEGAL.md §2.5). OCR misreads a letter now and then, so
a long name part may differ by one character; a short one must match exactly. A name
part the mail gives must be on the card; the card may hold more (second given names).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# Words people put around their name in a From header that no ID card prints.
_TITLES: Final = frozenset(
    (  # noqa: SIM905 (a word list reads better as words)
        "mr mrs ms miss dr prof ir ing mevrouw mevr meneer dhr mw heer madame mme monsieur"
        " mlle herr frau fam familie famille family"
    ).split()
)
_WORD: Final = re.compile(r"[a-z]+")


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def name_parts(name: str) -> list[str]:
    """The parts of a display name worth looking for: no titles, no initials."""
    words = _WORD.findall(_folded(name))
    return [word for word in words if len(word) >= 3 and word not in _TITLES]


def holder_matches(document_text: str, name: str) -> bool | None:
    """True when every part of `name` is on the document, False when one is not, None
    when the name gives nothing to compare (no display name, initials only)."""
    parts = name_parts(name)
    if not parts:
        return None
    # "VAN<DEN<BROECK<<LOTTE" in a machine-readable zone reads as words too.
    words = set(_WORD.findall(_folded(document_text.replace("<", " "))))
    return all(any(_close(part, word) for word in words) for part in parts)


def _close(part: str, word: str) -> bool:
    if part == word:
        return True
    if len(part) < 5 or abs(len(part) - len(word)) > 1:
        return False
    return _within_one_edit(part, word)


def _within_one_edit(a: str, b: str) -> bool:
    if len(a) > len(b):
        a, b = b, a
    i = j = edits = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            i += 1
            j += 1
            continue
        edits += 1
        if edits > 1:
            return False
        if len(a) == len(b):
            i += 1
        j += 1
    return edits + (len(b) - j) + (len(a) - i) <= 1
