"""Case references such as JAIMY-PRIV-2026-0042: prefix, year of receipt, sequence."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from mailbot.cases.models import Case
from mailbot.database import reading_only


def format_reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:04d}"


# LIKE, not a range: under a language collation (PostgreSQL created with a glibc locale)
# "-" and "." are ignored and a range of strings matches nothing. Walking the unique index
# down from the top finds this year's highest at once. Built once: a case is opened per
# mail, and building the statement cost as much as running it.
_IN_YEAR = col(Case.reference).like(bindparam("stem_like"), escape="/")
_HIGHEST = select(Case.reference).where(_IN_YEAR).order_by(col(Case.reference).desc()).limit(1)


def next_reference(session: Session, prefix: str, year: int) -> str:
    """The next free reference of that year. The unique constraint guards races."""
    stem = f"{prefix}-{year}-"
    like = {"stem_like": _escaped(stem) + "%"}
    # A case's reference never changes once written: only cases not yet inserted count.
    with reading_only(session, Case, new_only=True) as database:
        highest: str | None = database.execute(_HIGHEST, like).scalar()
    number = _number(highest, stem)
    if number >= 9999:
        # Lexical order holds while numbers have the same width: past 9999 a year the
        # width grows ("10000" sorts before "9999"), so then compare them all numerically.
        everyone = session.connection().execute(select(Case.reference).where(_IN_YEAR), like)
        number = max(_number(reference, stem) for reference in everyone.scalars())
    return format_reference(prefix, year, number + 1)


def _number(reference: str | None, stem: str) -> int:
    tail = reference.removeprefix(stem) if reference else ""
    return int(tail) if tail.isascii() and tail.isdigit() else 0


def _escaped(text: str) -> str:
    """`text` matched literally by LIKE ... ESCAPE '/' (a prefix may hold "_" or "%")."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")
