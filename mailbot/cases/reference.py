"""Case references such as JAIMY-PRIV-2026-0042: prefix, year of receipt, sequence."""

from __future__ import annotations

from sqlmodel import Session, col, select

from mailbot.cases.models import Case
from mailbot.database import reading_only


def format_reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:04d}"


def next_reference(session: Session, prefix: str, year: int) -> str:
    """The next free reference of that year. The unique constraint guards races."""
    stem = f"{prefix}-{year}-"
    in_year = col(Case.reference).startswith(stem, autoescape=True)
    # LIKE, not a range: under a language collation (PostgreSQL created with a glibc
    # locale) "-" and "." are ignored and a range of strings matches nothing. Walking the
    # unique index down from the top finds this year's highest at once.
    # A case's reference never changes once written: only cases not yet inserted count.
    with reading_only(session, Case, new_only=True):
        highest = session.exec(
            select(Case.reference).where(in_year).order_by(col(Case.reference).desc()).limit(1)
        ).first()
    number = _number(highest, stem)
    if number >= 9999:
        # Lexical order holds while numbers have the same width: past 9999 a year the
        # width grows ("10000" sorts before "9999"), so then compare them all numerically.
        everyone = session.exec(select(Case.reference).where(in_year)).all()
        number = max(_number(reference, stem) for reference in everyone)
    return format_reference(prefix, year, number + 1)


def _number(reference: str | None, stem: str) -> int:
    tail = reference.removeprefix(stem) if reference else ""
    return int(tail) if tail.isascii() and tail.isdigit() else 0
