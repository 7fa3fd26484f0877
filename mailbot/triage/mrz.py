"""Finds an ICAO 9303 machine-readable zone in OCR text and checks its check digits.

Reads the TD1 (ID card) and TD3 (passport) layouts of ICAO 9303 parts 3-5, repairing the
letter-for-digit slips and dropped fillers OCR makes. What comes out is only that a zone
was found and how many of its check digits hold: never the names, numbers or dates in it
(LEGAL.md §2.5).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

_TO_DIGIT = str.maketrans("OQDUILZSBG", "0000112586")
_TO_LETTER = str.maketrans("0125486", "OIZSABG")
_SWAPS = {"O": "0", "0": "O", "I": "1", "1": "I"}
# Where each layout's lower line holds digits and letters (start, end), for OCR repairs.
_TD1_SPANS = (((0, 7), (8, 15), (29, 30)), ((15, 18),))
_TD3_SPANS = (((9, 10), (13, 20), (21, 28), (42, 44)), ((10, 13),))
_TD1_TOP = re.compile(r"[IAC][A-Z<][A-Z<]{3}[A-Z0-9<]{9}[0-9<]")
_TD1_MIDDLE = re.compile(r"\d{7}[MFX<]\d{7}[A-Z<]{3}[A-Z0-9<]{11}\d")
_TD3_TOP = re.compile(r"P[A-Z<][A-Z<]{3}[A-Z0-9<]*<<")
_TD3_BOTTOM = re.compile(r"[A-Z0-9<]{9}\d[A-Z<]{3}\d{7}[MFX<]\d{7}[A-Z0-9<]{14}[0-9<]\d")


def fold(text: str) -> str:
    """Upper case without accents: OCR drops and invents diacritics.

    Defined here, the lowest layer, so that `id_evidence` folds its cue text the same way.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


@dataclass(frozen=True, slots=True)
class MrzReading:
    """That a zone was found and how many of its check digits hold; nothing it says."""

    layout: str  # "td1" (ID card) or "td3" (passport)
    passed: int
    total: int

    @property
    def valid(self) -> bool:
        return self.passed == self.total

    @property
    def verdict(self) -> str:
        if self.valid:
            return "checksums-valid"
        return f"checks-{self.passed}-of-{self.total}"


def check_digit(field: str) -> int:
    """ICAO 9303 check digit: weights 7, 3, 1 repeating; A-Z count 10-35, '<' zero."""
    total = 0
    for position, char in enumerate(field):
        if char.isdigit():
            value = int(char)
        elif "A" <= char <= "Z":
            value = ord(char) - ord("A") + 10
        else:
            value = 0
        total += value * (7, 3, 1)[position % 3]
    return total % 10


def read_mrz(text: str) -> MrzReading | None:
    """The best-read TD3 (passport) or TD1 (ID card) zone in OCR text, with its checks."""
    readings = list(_zones(text))
    return max(readings, key=lambda reading: reading.passed) if readings else None


def _zones(text: str) -> Iterator[MrzReading]:
    for read, lower in itertools.pairwise(_mrz_lines(text)):
        upper = read[:5].translate(_TO_LETTER) + read[5:]  # document code and issuer
        if _TD3_TOP.match(upper):
            bottoms = [_repaired(line, _TD3_SPANS) for line in _length_repairs(lower, 44)]
            yield from (_td3_checks(line) for line in bottoms if _TD3_BOTTOM.fullmatch(line))
        top = _fit(upper, 30)
        if _TD1_TOP.match(top):
            middles = [_repaired(line, _TD1_SPANS) for line in _length_repairs(lower, 30)]
            yield from (_td1_checks(top, line) for line in middles if _TD1_MIDDLE.fullmatch(line))


def _mrz_lines(text: str) -> list[str]:
    lines = []
    for raw in fold(text).replace("«", "<<").replace("‹", "<").splitlines():
        line = re.sub(r"\s", "", raw)
        kept = re.sub(r"[^A-Z0-9<]", "", line)
        if len(kept) >= 24 and len(kept) >= 0.9 * len(line):
            lines.append(kept)
    return lines


def _fit(line: str, length: int) -> str:
    """Lines end in fillers, which OCR drops or doubles: pad or trim them."""
    return line[:length].ljust(length, "<")


def _length_repairs(line: str, length: int) -> Iterator[str]:
    """The line as read, then with fillers added or removed inside one run of fillers."""
    yield _fit(line, length)
    missing = length - len(line)
    if missing == 0:
        return
    for run in re.finditer(r"<+", line):
        if missing > 0:
            yield line[: run.start()] + "<" * missing + line[run.start() :]
        elif run.end() - run.start() >= -missing:
            yield line[: run.start()] + line[run.start() - missing :]


def _repaired(line: str, spans: tuple[tuple[tuple[int, int], ...], ...]) -> str:
    """OCR reads O for 0, I for 1, B for 8...; where the layout wants digits, undo that."""
    chars = list(line)
    digit_spans, letter_spans = spans
    for table, ranges in ((_TO_DIGIT, digit_spans), (_TO_LETTER, letter_spans)):
        for start, end in ranges:
            chars[start:end] = "".join(chars[start:end]).translate(table)
    return "".join(chars)


def _td3_checks(line: str) -> MrzReading:
    document, document_ok = _alphanumeric(line[0:9], line[9])
    personal, personal_ok = _alphanumeric(line[28:42], line[42])
    birth, expiry = line[13:19], line[21:27]
    checks = [document_ok, _holds(birth, line[19]), _holds(expiry, line[27]), personal_ok]
    composite = document + line[9] + birth + line[19] + expiry + line[27] + personal + line[42]
    checks.append(_holds(composite, line[43]))
    return MrzReading("td3", sum(checks), len(checks))


def _td1_checks(top: str, middle: str) -> MrzReading:
    if top[14] == "<":  # a number longer than 9 characters goes on in the optional data
        overflow = top[15:].split("<", 1)[0]
        number, number_check = top[5:14] + overflow[:-1], overflow[-1:] or "<"
    else:
        number, number_check = top[5:14], top[14]
    number, number_ok = _alphanumeric(number, number_check)
    upper_data = number[:9] + top[14:]
    birth, expiry = middle[0:6], middle[8:14]
    checks = [number_ok, _holds(birth, middle[6]), _holds(expiry, middle[14])]
    composite = upper_data + birth + middle[6] + expiry + middle[14] + middle[18:29]
    checks.append(_holds(composite, middle[29]))
    return MrzReading("td1", sum(checks), len(checks))


def _holds(field: str, check: str) -> bool:
    if check == "<":  # an empty optional field may carry a filler as its check digit
        return field.strip("<") == ""
    return check.isdigit() and check_digit(field) == int(check)


def _alphanumeric(field: str, check: str) -> tuple[str, bool]:
    """Document numbers mix letters and digits: try the O/0 and I/1 readings OCR confuses."""
    check = check.translate(_TO_DIGIT)
    positions = [i for i, char in enumerate(field) if char in _SWAPS][:6]
    for choice in itertools.product((False, True), repeat=len(positions)):
        chars = list(field)
        for position, swap in zip(positions, choice, strict=True):
            if swap:
                chars[position] = _SWAPS[chars[position]]
        if _holds(candidate := "".join(chars), check):
            return candidate, True
    return field, False
