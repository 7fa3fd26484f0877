"""The work a mail may cost, checked on its raw bytes before the stdlib parser sees them.

CPython's email package spends time and memory that grow faster than the header on
some input: a Content-Type with 50,000 parameters (489 KB) took 47 s to parse, a
2.8 MB Subject 43 s and 510 MB. `refuse_unbounded` walks the header blocks the parser
would read (the mail's own and each MIME part's) once, line by line, without parsing,
and refuses a mail past any bound of `ParseLimits` with `MalformedMail` and a fixed
reason. Within the defaults, the costliest header found parses in about 2 s (two
64 KB To fields of 3,500 addresses each); a real mail's in milliseconds.
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
    max_header_bytes: int = 128 * 1024
    max_field_bytes: int = 64 * 1024  # one field, folded lines together
    max_field_parameters: int = 100  # ";" in one field (RFC 2231 splits long names)
    max_header_parameters: int = 1000  # ";" in all header fields (0.2 ms each to parse)
    # "," in one field (an address list): the stdlib's cost grows with their square,
    # 10,000 in a 10 KB To took 2 s.
    max_field_list_items: int = 1000
    # Quotes, backslashes, brackets and parentheses in one field: the stdlib splits the
    # rest of the value at each, 20,000 quotes in 22 KB took 7 s.
    max_field_specials: int = 1000
    # "(" in one field: comments nest, and 654 of them exhaust the parser's recursion.
    max_field_comments: int = 100
    max_header_line_bytes: int = 32 * 1024  # RFC 5322 allows 998


DEFAULT_LIMITS = ParseLimits()


_BOUNDARY_PARAM = re.compile(rb'boundary\s*=\s*"?([^"\r\n;]+)', re.IGNORECASE)
# Greedy and anchored: linear however long the line (a lazy match would backtrack).
_DELIMITER_LINE = re.compile(rb"^--([^\r\n]*)", re.MULTILINE)
_FIELD_START = re.compile(rb"[\041-\071\073-\176]+:|From ")
_SPECIALS = (b'"', b"\\", b"(", b")", b"<", b">", b"[", b"]")
_LINE_BREAK = re.compile(rb"\r\n|\r(?!$)")  # the line feed after the chunk is not in it
_ENCLOSED_MESSAGE = re.compile(rb"content-type:\s*message/([\w.+-]*)", re.IGNORECASE)


@dataclass
class _Tally:
    """What the header blocks seen so far hold, against the limits."""

    limits: ParseLimits
    fields: int = 0
    size: int = 0
    parameters: int = 0
    parts: int = 1

    def add_part(self) -> None:
        """One more part; past twice the limit, parsing alone costs seconds."""
        self.parts += 1
        if self.parts > 2 * self.limits.max_parts:
            raise MalformedMail(f"too many MIME parts ({self.parts}+ > {self.limits.max_parts})")

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

    def add_parameters(self, count: int) -> None:
        self.parameters += count
        if self.parameters > self.limits.max_header_parameters:
            raise MalformedMail(
                f"too many header parameters (over {self.limits.max_header_parameters})"
            )

    def check_field(
        self, size: int, parameters: int, items: int, specials: int, comments: int
    ) -> None:
        if comments > self.limits.max_field_comments:
            raise MalformedMail(
                f"too many comments in one header field (over {self.limits.max_field_comments})"
            )
        if specials > self.limits.max_field_specials:
            raise MalformedMail(
                f"too many quotes or brackets in one header field "
                f"(over {self.limits.max_field_specials})"
            )
        if items > self.limits.max_field_list_items:
            raise MalformedMail(
                f"too many list items in one header field (over {self.limits.max_field_list_items})"
            )
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
    boundaries = {m.group(1).strip() for m in _BOUNDARY_PARAM.finditer(raw)} - {b""}
    _check_block(raw, 0, tally, boundaries)
    if not boundaries:
        return
    opening = (
        _after_line_break(raw, delimiter.end())
        for delimiter in _DELIMITER_LINE.finditer(raw)
        # A closing "--b--" is not in the set: only an opening delimiter starts a part.
        if delimiter.group(1).rstrip() in boundaries
    )
    for start in opening:
        if tally.parts >= 2 * limits.max_parts:  # parsing alone costs seconds on part bombs
            total = tally.parts + 1 + sum(1 for _ in opening)
            raise MalformedMail(f"too many MIME parts ({total} > {limits.max_parts})")
        tally.add_part()
        _check_block(raw, start, tally, boundaries)


def _after_line_break(raw: bytes, position: int) -> int:
    return position + (2 if raw.startswith(b"\r\n", position) else 1)


def _check_block(raw: bytes, start: int, tally: _Tally, boundaries: set[bytes]) -> None:
    """The header block from `start` to its blank line, as the stdlib parser reads it, and
    the headers it parses after it: an enclosed message's (a part of type message/*, or
    without a header of its own, as in a multipart/digest) and, after a delivery status
    type, every block of fields up to the next part."""
    position: int | None = start
    status = False
    while position is not None:
        position, status = _check_one_block(raw, position, tally, status, boundaries)


def _check_one_block(
    raw: bytes, start: int, tally: _Tally, status: bool, boundaries: set[bytes]
) -> tuple[int | None, bool]:
    """Where the next header block the parser reads starts, if any; whether the blocks
    after this one are delivery status fields (read as headers up to the next part)."""
    size = parameters = items = specials = comments = fields = 0
    enclosing = in_body = False
    for line, next_start in _lines(raw, start):
        if status and line.startswith(b"--") and line[2:].rstrip() in boundaries:
            return None, status  # the next part: the delimiter loop reads its header
        if in_body and line:
            continue  # what follows a line that is no field is a body, read cheaply
        tally.add_line(len(line) + 1)
        if not line:  # the blank line that ends the header
            if status:
                tally.add_part()  # each block of status fields is a part of its own
            return (next_start if enclosing or status or not fields else None), status
        if line[:1] in (b" ", b"\t"):  # a folded field continues
            size, parameters = size + len(line), parameters + line.count(b";")
            items += line.count(b",")
            specials, comments = specials + _specials(line), comments + line.count(b"(")
        elif _FIELD_START.match(line):
            tally.add_field()
            fields += 1
            size, parameters, items = len(line), line.count(b";"), line.count(b",")
            specials, comments = _specials(line), line.count(b"(")
            enclosed = _ENCLOSED_MESSAGE.match(line)
            if enclosed:
                enclosing = True
                status = status or enclosed.group(1).lower().endswith(b"delivery-status")
        elif status:
            in_body = True  # a block of status fields may end in a body
            continue
        else:
            break  # the parser ends the header at a line that is no field either
        tally.check_field(size, parameters, items, specials, comments)
        tally.add_parameters(line.count(b";"))
    return None, status


def _specials(line: bytes) -> int:
    return sum(line.count(special) for special in _SPECIALS)


def _lines(raw: bytes, start: int) -> Iterator[tuple[bytes, int]]:
    """The lines from `start` and where the next begins; CR, LF and CRLF all end a line,
    as for the parser."""
    position = start
    while position < len(raw):
        end = raw.find(b"\n", position)
        end = len(raw) if end < 0 else end
        chunk = raw[position:end]
        position = end + 1
        if b"\r" in chunk.rstrip(b"\r"):  # bare CRs inside: several lines to the parser
            yield from _split_at_carriage_returns(chunk, position - len(chunk) - 1)
        else:
            yield chunk.rstrip(b"\r"), position


def _split_at_carriage_returns(chunk: bytes, offset: int) -> Iterator[tuple[bytes, int]]:
    """The lines of `chunk` (found at `offset`, a line feed after it), with the start of
    the next line for each."""
    begin = 0
    for brk in _LINE_BREAK.finditer(chunk):
        yield chunk[begin : brk.start()], offset + brk.end()
        begin = brk.end()
    yield chunk[begin:].rstrip(b"\r"), offset + len(chunk) + 1
