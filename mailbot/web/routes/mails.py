"""Quarantined mails: the ones the bot kept but could not handle. The DPO reads one as
text, hands it back to the bot (retry) or sets it aside with a reason (dismiss, which
erases its content). The rules are `mailbot.actions.mails`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from mailbot.actions import NotFound
from mailbot.actions.mails import dismiss_mail, find_mail, retry_mail
from mailbot.store.models import Disposition, InboundMessage
from mailbot.store.reading import read_stored
from mailbot.web.auth import Staff, dpo_only, form_of, text_field, web
from mailbot.web.pages import after_action, render

router = APIRouter()
DpoForm = Annotated[tuple[Staff, FormData], Depends(form_of(dpo_only))]


@router.get("/mails", response_class=HTMLResponse)
def quarantine(request: Request, staff: Annotated[Staff, Depends(dpo_only)]) -> HTMLResponse:
    with Session(web(request).engine) as session:
        rows = session.exec(
            select(InboundMessage)
            .where(InboundMessage.disposition == Disposition.QUARANTINED)
            .order_by(col(InboundMessage.received_at))
            .limit(500)
        ).all()
    return render(request, "mails.html", staff, mails=rows)


@router.get("/mails/{mail_id}", response_class=HTMLResponse)
def mail_page(
    request: Request, mail_id: int, staff: Annotated[Staff, Depends(dpo_only)]
) -> HTMLResponse:
    context = web(request)
    with Session(context.engine) as session:
        try:
            inbound = find_mail(session, mail_id)
        except NotFound as missing:
            raise HTTPException(404, str(missing)) from missing
        mail = read_stored(inbound, context.handling.sealer)
    return render(
        request,
        "mail.html",
        staff,
        mail=mail,
        quarantined=inbound.disposition == Disposition.QUARANTINED,
    )


@router.post("/mails/{mail_id}/retry")
def retry(request: Request, mail_id: int, checked: DpoForm) -> Response:
    staff, _ = checked
    return after_action(
        request,
        "/mails",
        lambda session: retry_mail(session, mail_id, staff.name),
    )


@router.post("/mails/{mail_id}/dismiss")
def dismiss(request: Request, mail_id: int, checked: DpoForm) -> Response:
    staff, form = checked
    why = text_field(form, "why", 1000)
    context = web(request)
    return after_action(
        request,
        f"/mails/{mail_id}",
        lambda session: dismiss_mail(
            session, mail_id, staff.name, why, context.handling.sealer, context.clock()
        ),
        forward=lambda _: "/mails",
    )
