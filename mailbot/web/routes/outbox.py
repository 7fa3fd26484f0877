"""The outbox (/outbox): replies waiting to go out or given up on, for the DPO, with
whether the worker paused sending and why; failed replies go back in the queue, all or
one, under the DPO's name. The rules are `mailbot.actions.outbox`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from mailbot.actions.outbox import outbox_rows, requeue_failed
from mailbot.replies.outbox import sending_state
from mailbot.web.auth import Staff, dpo_only, form_of, web
from mailbot.web.pages import after_action, render

router = APIRouter()
DpoForm = Annotated[tuple[Staff, FormData], Depends(form_of(dpo_only))]


@router.get("/outbox", response_class=HTMLResponse)
def outbox(request: Request, staff: Annotated[Staff, Depends(dpo_only)]) -> HTMLResponse:
    with Session(web(request).engine) as session:
        rows = outbox_rows(session)
        sending = sending_state(session)
    failed = sum(row.status == "failed" and row.stays_failed is None for row in rows)
    return render(request, "outbox.html", staff, rows=rows, sending=sending, failed=failed)


@router.post("/outbox/requeue")
def requeue_all(request: Request, checked: DpoForm) -> Response:
    staff, _ = checked
    clock = web(request).clock
    return after_action(
        request, "/outbox", lambda session: requeue_failed(session, staff.name, clock())
    )


@router.post("/outbox/{reply_id}/requeue")
def requeue_one(request: Request, reply_id: int, checked: DpoForm) -> Response:
    staff, _ = checked
    clock = web(request).clock
    return after_action(
        request,
        "/outbox",
        lambda session: requeue_failed(session, staff.name, clock(), reply_id),
    )
