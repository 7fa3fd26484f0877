"""Case references such as JAIMY-PRIV-2026-0042: prefix, year of receipt, sequence."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from mailbot.cases.models import Case


def format_reference(prefix: str, year: int, number: int) -> str:
    return f"{prefix}-{year}-{number:04d}"


def next_reference(session: Session, prefix: str, year: int) -> str:
    """The next free reference of that year. The unique constraint guards races."""
    stem = f"{prefix}-{year}-"
    highest = session.exec(
        select(func.max(Case.reference)).where(col(Case.reference).startswith(stem))
    ).one()
    # Lexical max works while numbers have the same width; past 9999 a year the
    # width grows, so compare numerically over the (rare) wider ones too.
    numbers = [int(highest.removeprefix(stem))] if highest else [0]
    wider = session.exec(
        select(Case.reference).where(
            col(Case.reference).startswith(stem), func.length(Case.reference) > len(stem) + 4
        )
    ).all()
    numbers.extend(int(ref.removeprefix(stem)) for ref in wider)
    return format_reference(prefix, year, max(numbers) + 1)
