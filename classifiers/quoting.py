"""Find what the sender wrote now: quoted history cut from the body, Re:/Fwd: from the subject."""

from __future__ import annotations

import re
from typing import Final

_REPLY_PREFIX: Final = re.compile(r"^\s*(?:re|aw|antw|antwoord|sv|ref)\s*(?:\[\d+\])?\s*:", re.I)
_FORWARD_PREFIX: Final = re.compile(r"^\s*(?:fwd?|tr|wg|doorst|fw|trans)\s*(?:\[\d+\])?\s*:", re.I)
_QUOTED_LINE: Final = re.compile(r"^\s*>")
_ATTRIBUTION: Final = re.compile(
    r"^\s*(?:on|op|le|am|el|il)\b(?=[^:]*\d).{0,400}?"
    r"\b(?:wrote|schreef|a (?:e|é)crit|schrieb|escribi[oó]|ha scritto)\b.{0,300}:\s*$",
    re.I,
)
_FORWARD_MARKER: Final = re.compile(
    r"^\s*(?:-{2,}\s*)?(?:forwarded message|doorgestuurd bericht|message transf[eé]r[eé]|"
    r"weitergeleitete nachricht|begin forwarded message|d[eé]but du message r[eé]exp[eé]di[eé]|"
    r"anfang der weitergeleiteten nachricht)\b.*$",
    re.I,
)
_HISTORY_MARKER: Final = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|oorspronkelijk bericht|origineel bericht|"
    r"message d'origine|message original|urspr(?:ü|u)ngliche nachricht|original-nachricht)"
    r"\s*-{2,}|_{10,}|--)\s*$",
    re.I,
)
_SENDER_HEADER: Final = re.compile(
    r"^\s*\**(?:from|van|de|von|exp[eé]diteur|absender)\s*\**\s*:", re.I
)
_OTHER_HEADER: Final = re.compile(
    r"^\s*\**(?:sent|date|datum|verzonden|envoy[eé](?: le)?|gesendet|to|aan|[aà]|an|"
    r"subject|onderwerp|objet|betreff|cc)\s*\**\s*:",
    re.I,
)
_HEADER_BLOCK_REACH: Final = 4
_FRESH_MIN_LETTERS: Final = 3


def subject_topic(subject: str) -> tuple[str, bool, bool]:
    """The subject without Re:/Fwd: prefixes, and whether it was a reply and a forward."""
    topic, is_reply, is_forward = subject.strip(), False, False
    while True:
        if match := _REPLY_PREFIX.match(topic):
            is_reply = True
        elif match := _FORWARD_PREFIX.match(topic):
            is_forward = True
        else:
            return topic, is_reply, is_forward
        topic = topic[match.end() :].strip()


def new_text(body: str, *, forwarded: bool = False) -> str:
    """What the sender wrote now: quoted lines and the reply history below them removed.

    A forward's own words are usually "see below", so for a forward the
    forwarded mail is kept; a bottom-posted reply keeps its unquoted lines.
    """
    lines = body.splitlines()
    cut, is_forward_marker = _history_start(lines)
    fresh = _unquoted(lines[:cut])
    if forwarded or is_forward_marker or _letters(fresh) < _FRESH_MIN_LETTERS:
        fresh = f"{fresh}\n{_unquoted(lines[cut:])}".strip()
    return fresh


def _history_start(lines: list[str]) -> tuple[int, bool]:
    for index, line in enumerate(lines):
        if _FORWARD_MARKER.match(line):
            return index, True
        joined = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else line
        if (
            _HISTORY_MARKER.match(line)
            or _ATTRIBUTION.match(line)
            or _ATTRIBUTION.match(joined)
            or _is_header_block(lines, index)
        ):
            return index, False
    return len(lines), False


def _is_header_block(lines: list[str], index: int) -> bool:
    if not _SENDER_HEADER.match(lines[index]):
        return False
    following = lines[index + 1 : index + 1 + _HEADER_BLOCK_REACH]
    return any(_OTHER_HEADER.match(line) for line in following)


def _unquoted(lines: list[str]) -> str:
    return "\n".join(line for line in lines if not _QUOTED_LINE.match(line)).strip()


def _letters(text: str) -> int:
    return sum(char.isalpha() for char in text)
