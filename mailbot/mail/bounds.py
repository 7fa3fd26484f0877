"""The work a mail may cost, checked on its raw bytes before the stdlib parser sees them.

CPython's email package spends time and memory that grow faster than the header on
some input: a Content-Type with 50,000 parameters (489 KB) took 47 s to parse, a
2.8 MB Subject 43 s and 510 MB. `refuse_unbounded` walks the header blocks the parser
would read (the mail's own and each MIME part's) once, line by line, without parsing,
and refuses a mail past any bound of `ParseLimits` with `MalformedMail` and a fixed
reason. Within the defaults, parsing the worst header stays well under a second.
Bounding the input is also the defence against memory: the bytes the parser can be
made to expand are capped here, which costs nothing, whereas a memory limit per mail
would need a subprocess per mail.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass


class MalformedMail(ValueError):
    """A mail the bot refuses to process; `reason` is a short sentence without personal data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParseLimits:
    max_parts: int = 100
    max_attachment_bytes: int = 25 * 1024 * 1024
    max_text_chars: int = 200_000
    # Header blocks, the mail's own and its parts' together. Real mails stay far below:
    # some 20-80 fields and 5-50 KB at the top (Received, DKIM, ARC), a few per part.
    max_header_fields: int = 1000
    max_header_bytes: int = 256 * 1024
    max_field_bytes: int = 64 * 1024  # one field, folded lines together
    max_field_parameters: int = 100  # ";" in one field (RFC 2231 splits long names)
    max_header_line_bytes: int = 32 * 1024  # RFC 5322 allows 998


DEFAULT_LIMITS = ParseLimits()


_BOUNDARY_PARAM = re.compile(rb'boundary\s*=\s*"?([^"\r\n;]+)', re.IGNORECASE)
# Greedy and anchored: linear however long the line (a lazy match would backtrack).
_DELIMITER_LINE = re.compile(rb"^--([^\r\n]*)", re.MULTILINE)
_FIELD_START = re.compile(rb"[\041-\071\073-\176]+:|From ")


@dataclass
class _Tally:
    """What the header blocks seen so far hold, against the limits."""

    limits: ParseLimits
    fields: int = 0
    size: int = 0

    def add_line(self, length: int) -> None:
        if length > self.limits.max_header_line_bytes:
            raise MalformedMail(
                f"header line too long (over {self.limits.max_header_line_bytes} bytes)"
            )
        self.size += length
        if self.size > self.limits.max_header_bytes:
            raise MalformedMail(f"headers too large (over {self.limits.max_header_bytes} bytes)")

    def add_field(self) -> None:
        self.fields += 1
        if self.fields > self.limits.max_header_fields:
            raise MalformedMail(f"too many header fields (over {self.limits.max_header_fields})")

    def check_field(self, size: int, parameters: int) -> None:
        if size > self.limits.max_field_bytes:
            raise MalformedMail(
                f"header field too large (over {self.limits.max_field_bytes} bytes)"
            )
        if parameters > self.limits.max_field_parameters:
            raise MalformedMail(
                f"too many parameters in one header field (over {self.limits.max_field_parameters})"
            )


def refuse_unbounded(raw: bytes, limits: ParseLimits) -> None:
    """Raise MalformedMail when the mail's header blocks or its parts exceed `limits`."""
    tally = _Tally(limits)
    _check_block(raw, 0, tally)
    boundaries = {m.group(1).strip() for m in _BOUNDARY_PARAM.finditer(raw)} - {b""}
    if not boundaries:
        return
    opening = (
        _after_line_break(raw, delimiter.end())
        for delimiter in _DELIMITER_LINE.finditer(raw)
        # A closing "--b--" is not in the set: only an opening delimiter starts a part.
        if delimiter.group(1).rstrip() in boundaries
    )
    for parts, start in enumerate(opening, start=2):
        if parts > 2 * limits.max_parts:  # parsing alone costs seconds on part bombs
            total = parts + sum(1 for _ in opening)
            raise MalformedMail(f"too many MIME parts ({total} > {limits.max_parts})")
        _check_block(raw, start, tally)


def _after_line_break(raw: bytes, position: int) -> int:
    return position + (2 if raw.startswith(b"\r\n", position) else 1)


def _check_block(raw: bytes, start: int, tally: _Tally) -> None:
    """One header block from `start` to its blank line, as the stdlib parser reads it."""
    size = parameters = 0
    for line in _lines(raw, start, tally):
        if not line:
            break  # the blank line that ends the header
        if line[:1] in (b" ", b"\t"):  # a folded field continues
            size, parameters = size + len(line), parameters + line.count(b";")
        elif _FIELD_START.match(line):
            tally.add_field()
            size, parameters = len(line), line.count(b";")
        else:
            break  # the parser ends the header at a line that is no field either
        tally.check_field(size, parameters)


def _lines(raw: bytes, start: int, tally: _Tally) -> Iterator[bytes]:
    """The lines from `start`, each counted against the limits before it is copied;
    CR, LF and CRLF all end a line, as for the parser."""
    position = start
    while position < len(raw):
        end = raw.find(b"\n", position)
        end = len(raw) if end < 0 else end
        tally.add_line(end - position + 1)
        chunk = raw[position:end]
        if b"\r" in chunk.rstrip(b"\r"):  # bare CRs inside: several lines to the parser
            yield from chunk.splitlines()
        else:
            yield chunk.rstrip(b"\r")
        position = end + 1
