"""Staff accounts for the admin role: who may sign in, with which role; add, disable,
set a new password. The same functions as `mailbot users` (`mailbot.staff.members`);
the admin sees no case content."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from mailbot.actions import Done
from mailbot.staff.members import (
    add_member,
    disable_member,
    members,
    recent_events,
    reset_password,
)
from mailbot.staff.models import Role
from mailbot.web.auth import Staff, admin_only, form_of, text_field, web
from mailbot.web.pages import after_action, render

router = APIRouter()
AdminForm = Annotated[tuple[Staff, FormData], Depends(form_of(admin_only))]


@router.get("/staff", response_class=HTMLResponse)
def staff_page(request: Request, staff: Annotated[Staff, Depends(admin_only)]) -> HTMLResponse:
    with Session(web(request).engine) as session:
        people, events = members(session), recent_events(session)
    roles = [r.value for r in Role]
    return render(request, "staff.html", staff, people=people, roles=roles, events=events)


@router.post("/staff/add")
def add(request: Request, checked: AdminForm) -> Response:
    staff, form = checked
    name, role = text_field(form, "name", 200), text_field(form, "role", 20)
    password = text_field(form, "password", 1000)
    now = web(request).clock()

    def action(session: Session) -> Done:
        member = add_member(session, name, role, password, now, staff.name)
        return Done(f"{member.name} added as {member.role}")

    return after_action(request, "/staff", action)


@router.post("/staff/disable")
def disable(request: Request, checked: AdminForm) -> Response:
    staff, form = checked
    name = text_field(form, "name", 200)
    now = web(request).clock()

    def action(session: Session) -> Done:
        member = disable_member(session, name, now, staff.name)
        return Done(f"{member.name} disabled; their sessions ended")

    return after_action(request, "/staff", action)


@router.post("/staff/password")
def new_password(request: Request, checked: AdminForm) -> Response:
    staff, form = checked
    name, password = text_field(form, "name", 200), text_field(form, "password", 1000)
    now = web(request).clock()

    def action(session: Session) -> Done:
        member = reset_password(session, name, password, now, staff.name)
        return Done(f"new password set for {member.name}; their sessions ended")

    return after_action(request, "/staff", action)
