"""The DPO's queue: open cases, nearest deadline first, with filters, search and pages.

Filtering, ordering and paging happen in SQL (indexes on status and deadlines), so the
page costs the same over a hundred cases or a hundred thousand. The days-left badge
turns amber within the DPO warning period and red two days before the deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, and_, func, literal, or_
from sqlmodel import Session, col, select

from mailbot.cases.deadlines import receipt_date
from mailbot.cases.models import Case, CaseStatus, name_words
from mailbot.cases.timeliness import due_for
from mailbot.figures import CURRENT_DUE
from mailbot.sealing import Sealer
from mailbot.store.models import bound_sealer
from mailbot.web.auth import Staff, dpo_only, web
from mailbot.web.pages import render

router = APIRouter()
PAGE_SIZE = 50
RIGHTS = (
    "access", "rectification", "erasure", "restriction", "portability", "objection",
    "withdraw_consent", "other",
)  # fmt: skip
LANGUAGES = ("nl", "fr", "de", "en")
STATUSES = ("open", *(s.value for s in CaseStatus), "all")

DUE = CURRENT_DUE


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: str = "open"
    right: str = ""
    language: str = ""
    triage: bool = False
    waiting_for_id: bool = False
    days_left: int | None = None
    search: str = ""
    page: int = 1

    def conditions(self, today: date, sealer: Sealer | None = None) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.status == "open":
            where.append(col(Case.status) != CaseStatus.CLOSED)
        elif self.status in {s.value for s in CaseStatus}:
            where.append(col(Case.status) == self.status)
        if self.right in RIGHTS:
            padded = literal(" ") + col(Case.labels) + literal(" ")
            where.append(padded.like(f"% {self.right} %"))
        if self.language in LANGUAGES:
            where.append(col(Case.language) == self.language)
        if self.triage:
            where.append(col(Case.needs_triage).is_(True))
        if self.waiting_for_id:
            where.append(col(Case.status) == CaseStatus.AWAITING_IDENTITY)
        if self.days_left is not None:
            where.append(today + timedelta(days=self.days_left) >= DUE)
        term = self.search.strip()
        if term:
            pattern = f"%{_escaped(term.lower())}%"
            found: list[ColumnElement[bool]] = [
                func.lower(col(Case.reference)).like(pattern, escape="\\"),
                func.lower(col(Case.requester)).like(pattern, escape="\\"),
            ]
            # Names are sealed: a case is found by whole words of its name, through their
            # keyed hashes (mailbot.cases.models.name_search_value), every word given.
            words = name_words(term)
            if words and sealer is not None:
                tokens = [f"% {sealer.search_token(word)} %" for word in words]
                found.append(and_(*(col(Case.name_search).like(t) for t in tokens)))
            where.append(or_(*found))
        return where

    def query_string(self, page: int) -> str:
        from urllib.parse import urlencode

        fields: dict[str, Any] = {"status": self.status, "page": page}
        for name in ("right", "language", "search"):
            if getattr(self, name):
                fields[name] = getattr(self, name)
        if self.triage:
            fields["triage"] = "1"
        if self.waiting_for_id:
            fields["waiting_for_id"] = "1"
        if self.days_left is not None:
            fields["days_left"] = self.days_left
        return urlencode(fields)


@dataclass(frozen=True, slots=True)
class QueueRow:
    case: Case
    due: date
    days_left: int
    band: str  # ok, amber, red, paused, closed


def queue_rows(
    session: Session, chosen: QueueFilter, now: datetime, warn_days: int
) -> tuple[list[QueueRow], int]:
    """One page of cases, nearest deadline first, and how many match in all."""
    where = chosen.conditions(receipt_date(now), bound_sealer(session.get_bind().dialect))
    total = session.exec(select(func.count()).select_from(Case).where(*where)).one()
    page = max(chosen.page, 1)
    # The page's ids first, sorting narrow rows (deadline, id), then those rows whole:
    # a deep page of a hundred thousand cases costs a sort of dates, not of cases.
    ids = session.exec(
        select(Case.id)
        .where(*where)
        .order_by(DUE, col(Case.id))
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    found = {c.id: c for c in session.exec(select(Case).where(col(Case.id).in_(ids))).all()}
    return [_row(found[i], now, warn_days) for i in ids], int(total)


def _row(found: Case, now: datetime, warn_days: int) -> QueueRow:
    due = due_for(found, now)
    days_left = (due - receipt_date(now)).days
    return QueueRow(found, due, days_left, days_left_band(found, days_left, warn_days))


def days_left_band(found: Case, days_left: int, warn_days: int) -> str:
    if found.status == CaseStatus.CLOSED:
        return "closed"
    if found.clock_paused:
        return "paused"  # the deadline moves on while the ID copy is awaited
    if days_left <= 2:
        return "red"
    return "amber" if days_left <= warn_days else "ok"


@router.get("/cases", response_class=HTMLResponse)
def queue_page(
    request: Request,
    staff: Annotated[Staff, Depends(dpo_only)],
    status: Annotated[str, Query(max_length=40)] = "open",
    right: Annotated[str, Query(max_length=40)] = "",
    language: Annotated[str, Query(max_length=8)] = "",
    triage: Annotated[str, Query(max_length=5)] = "",
    waiting_for_id: Annotated[str, Query(max_length=5)] = "",
    days_left: Annotated[str, Query(max_length=6)] = "",
    search: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    context = web(request)
    chosen = QueueFilter(
        status=status if status in STATUSES else "open",
        right=right,
        language=language,
        triage=bool(triage),
        waiting_for_id=bool(waiting_for_id),
        days_left=int(days_left) if days_left.lstrip("-").isdigit() else None,
        search=search,
        page=page,
    )
    with Session(context.engine) as session:
        rows, total = queue_rows(
            session, chosen, context.clock(), context.settings.dpo_warning_days
        )
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return render(
        request,
        "queue.html",
        staff,
        rows=rows,
        total=total,
        chosen=chosen,
        pages=pages,
        statuses=STATUSES,
        rights=RIGHTS,
        languages=LANGUAGES,
    )


def _escaped(term: str) -> str:
    """A search term taken literally: % and _ are no wildcards here."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
