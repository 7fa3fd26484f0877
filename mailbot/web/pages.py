"""Rendering pages and answering forms.

Templates are Jinja2 with autoescaping on for every file: mail text, names and
subjects reach the page only as text. `after_action` runs a person's action in one
transaction and sends the browser back with what it did (or why it was refused) as
the notice on the next page (post, redirect, get: a reload never repeats an action).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session, select

from mailbot.actions import Done, NotFound, Refused, acting
from mailbot.database import transaction
from mailbot.staff.models import Role, StaffSession
from mailbot.staff.sign_in import token_digest
from mailbot.web.auth import COOKIE, Staff, web

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,  # every template, whatever its name
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# The menu each role sees; the server refuses the rest anyway.
MENU: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.DPO: (
        ("/cases", "Queue"),
        ("/mails", "Quarantine"),
        ("/outbox", "Outbox"),
        ("/suppression", "Suppression list"),
        ("/dashboard", "Figures"),
    ),
    Role.COMPLIANCE: (("/dashboard", "Figures"),),
    Role.ADMIN: (("/staff", "Users"),),
}


def render(
    request: Request, template: str, staff: Staff | None, status_code: int = 200, **values: Any
) -> HTMLResponse:
    page = environment.get_template(template).render(
        staff=staff,
        menu=MENU[staff.role] if staff else (),
        path=request.url.path,
        notice=staff.notice if staff else None,
        **values,
    )
    return HTMLResponse(page, status_code=status_code)


def home_of(role: Role) -> str:
    return MENU[role][0][0]


def after_action(
    request: Request,
    back_to: str,
    action: Callable[[Session], Done],
    forward: Callable[[Done], str | None] | None = None,
) -> RedirectResponse:
    """Run `action` in one transaction; its summary or refusal becomes the notice. On
    success the browser goes where `forward` says (else back), on a refusal back."""
    context = web(request)
    try:
        with acting(context.engine) as session:
            done = action(session)
    except NotFound as missing:
        raise HTTPException(404, str(missing)) from missing
    except Refused as refused:
        leave_notice(request, f"Refused: {refused}")
        return RedirectResponse(back_to, status_code=303)
    leave_notice(request, done.summary)
    target = forward(done) if forward is not None else None
    return RedirectResponse(target or back_to, status_code=303)


def leave_notice(request: Request, notice: str) -> None:
    token = request.cookies.get(COOKIE)
    if not token:
        return
    with transaction(web(request).engine) as session:
        row = session.exec(
            select(StaffSession).where(StaffSession.token_hash == token_digest(token))
        ).first()
        if row is not None:
            row.notice = notice[:2000]
            session.add(row)
