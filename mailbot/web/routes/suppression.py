"""The suppression list: addresses direct marketing must never reach again (Art. 21(3),
Art. 7(3)), with the reason and the case that put each there."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from mailbot.cases.models import Case
from mailbot.cases.suppression import suppressed
from mailbot.web.auth import Staff, dpo_only, web
from mailbot.web.pages import render

router = APIRouter()


@router.get("/suppression", response_class=HTMLResponse)
def suppression_page(request: Request, staff: Annotated[Staff, Depends(dpo_only)]) -> HTMLResponse:
    with Session(web(request).engine) as session:
        rows = suppressed(session)
        ids = [row.case_id for row in rows if row.case_id is not None]
        references = dict(
            session.exec(select(Case.id, Case.reference).where(col(Case.id).in_(ids))).all()
        )
    return render(request, "suppression.html", staff, rows=rows, references=references)
