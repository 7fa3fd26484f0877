"""The directory of known account addresses: who counts as a known sender (LEGAL.md §2.2).

The directory is pluggable (`AccountDirectory`); this module holds the in-memory one and
the CSV import that fills any of them. The import returns clean addresses to upsert and
the lines it left out, so a table-backed directory needs nothing more.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable


@runtime_checkable
class AccountDirectory(Protocol):
    def is_known(self, address: str) -> bool:
        """Whether `address` is the e-mail address of an account (case does not matter)."""
        ...


class AccountImportError(ValueError):
    """A file that cannot be read as an account list at all; the message names the line."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


class InvalidAddress(ValueError):
    """A value that is not one e-mail address; the message never repeats the value."""


class RejectedLine(NamedTuple):
    line: int
    reason: str  # never repeats the address, so it may be logged


@dataclass(frozen=True, slots=True)
class AccountImport:
    addresses: tuple[str, ...]  # normalised, each once, in file order: what to upsert
    rejected: tuple[RejectedLine, ...]  # lines that added no address, with the reason


# One "@", a local part without blanks or separators, and a dotted domain whose labels do
# not start or end with a hyphen; internationalised domains are letters like any other.
_LOCAL = r"[^\s@\"(),:;<>\[\]\\]{1,64}"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_SHAPE = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})+")
_MAX_LENGTH = 254  # RFC 5321's path limit, less the angle brackets
_EMAIL_HEADERS = frozenset({"email", "emailaddress", "emailadres", "emailadresse", "adresseemail"})
_DELIMITERS = (",", ";", "\t")  # Excel set to a Belgian locale writes ";"


def account_key(address: str) -> str:
    """The form addresses are compared in: stripped and case-folded, nothing more.

    Sub-addresses stay distinct: anna+jobs@ may be someone else's alias of anna@."""
    return address.strip().casefold()


def normalise_address(raw: str) -> str:
    """One e-mail address in its comparable form; InvalidAddress says what is wrong.

    Accepts `Name <addr>` as mail programs and address books export it."""
    value = raw.strip()
    if not value:
        raise InvalidAddress("empty e-mail field")
    if value.count("@") > 1:
        raise InvalidAddress("more than one @ in the field (several addresses?)")
    _name, address = parseaddr(value)
    address = account_key(address)
    if "@" not in address:
        raise InvalidAddress("no @ in the e-mail field")
    if len(address) > _MAX_LENGTH or not _SHAPE.fullmatch(address) or ".." in address:
        raise InvalidAddress("not an e-mail address")
    return address


class StaticDirectory:
    """An in-memory directory, for tests, the demo and small deployments."""

    def __init__(self, addresses: Iterable[str]) -> None:
        self._known = frozenset(normalise_address(address) for address in addresses)

    def __len__(self) -> int:
        return len(self._known)

    def is_known(self, address: str) -> bool:
        return account_key(address) in self._known


def read_accounts_csv(source: Path | str) -> AccountImport:
    """Read an account list: a Path is read from disk, a str is the CSV text itself.

    The header needs an `email` column (any case; "E-mail" and "Email Address" too); other
    columns are ignored. Delimiter: comma, semicolon or tab, whichever the header uses.
    Bad addresses and duplicates are reported per line; a file that is not such a CSV at
    all raises AccountImportError."""
    if isinstance(source, Path):
        return parse_accounts_csv(_decoded(source.read_bytes()))
    if "\n" not in source and source.strip().lower().endswith(".csv"):
        raise AccountImportError(1, "this looks like a file name; pass a Path to read a file")
    return parse_accounts_csv(source.removeprefix("\ufeff"))


def parse_accounts_csv(text: str) -> AccountImport:
    """The addresses a CSV text lists, and the lines that added none (see read_accounts_csv)."""
    if "\x00" in text:
        raise AccountImportError(_line_of(text, "\x00"), "not CSV text (binary data)")
    lines = io.StringIO(text, newline="")
    header_line, header = _header(lines)
    delimiter, column = _email_column(header_line, header)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    addresses: dict[str, int] = {}
    rejected: list[RejectedLine] = []
    line = header_line
    try:
        for row in reader:
            line = header_line + reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # blank lines and Excel's trailing ";;;" rows
            if column >= len(row):
                rejected.append(RejectedLine(line, "no e-mail field on this line"))
                continue
            try:
                address = normalise_address(row[column])
            except InvalidAddress as problem:
                rejected.append(RejectedLine(line, str(problem)))
                continue
            if address in addresses:
                rejected.append(RejectedLine(line, f"duplicate of line {addresses[address]}"))
            else:
                addresses[address] = line
    except csv.Error as problem:
        raise AccountImportError(line + 1, f"not valid CSV ({problem})") from problem
    return AccountImport(addresses=tuple(addresses), rejected=tuple(rejected))


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV" export on a Belgian Windows is cp1252, not UTF-8.
        return data.decode("cp1252", errors="replace")


def _line_of(text: str, needle: str) -> int:
    return text.count("\n", 0, text.index(needle)) + 1


def _header(lines: io.StringIO) -> tuple[int, str]:
    """The first non-blank line and its number; the lines object is left just past it."""
    number = 0
    for raw in iter(lines.readline, ""):
        number += 1
        if raw.strip():
            return number, raw
    raise AccountImportError(max(number, 1), "the file is empty; a header with `email` is needed")


def _email_column(line: int, header: str) -> tuple[str, int]:
    """The delimiter that makes an `email` heading appear, and that column's index."""
    for delimiter in _DELIMITERS:
        try:
            cells = next(csv.reader([header], delimiter=delimiter, strict=True))
        except csv.Error as problem:
            raise AccountImportError(line, f"not valid CSV ({problem})") from problem
        names = [re.sub(r"[\s_-]", "", cell).casefold() for cell in cells]
        found = [index for index, name in enumerate(names) if name in _EMAIL_HEADERS]
        if len(found) > 1:
            raise AccountImportError(line, "more than one e-mail column in the header")
        if found:
            return delimiter, found[0]
    raise AccountImportError(line, "no `email` column in the header")
