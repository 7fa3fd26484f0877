"""Who is asking, and may they: the session cookie, roles and CSRF tokens.

`signed_in` resumes the session behind the cookie (or sends the browser to the sign-in
page); `role_in(...)` refuses everyone else with 403; `form_of` reads a posted form
and refuses it with 403 unless it carries the session's CSRF token. Every state change
goes through `form_of`, so no change can be made from another site's page.
"""

# No `from __future__ import annotations` here: FastAPI reads the annotations of the
# dependency `form_of` builds, and as strings they would name `guard`, a local it cannot
# resolve; it then took `staff` for a query parameter and every form failed with 400.

import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData

from mailbot.database import transaction
from mailbot.staff.models import Role
from mailbot.staff.sign_in import resume
from mailbot.web.context import WebContext

COOKIE = "mailbot_session"
SIGN_IN_COOKIE = "mailbot_sign_in"  # double-submit token of the sign-in form


class SignInNeeded(Exception):
    """No live session: the app answers with a redirect to the sign-in page."""


@dataclass(frozen=True, slots=True)
class Staff:
    """The signed-in person for this request."""

    name: str
    role: Role
    csrf: str
    notice: str | None  # what their last action did, shown once


def web(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


def signed_in(request: Request) -> Staff:
    context = web(request)
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInNeeded
    with transaction(context.engine) as session:
        found = resume(session, token, context.clock(), context.policy)
        if found is None:
            raise SignInNeeded
        notice, found.session.notice = found.session.notice, None
        if notice is not None:
            session.add(found.session)
        return Staff(found.member.name, Role(found.member.role), found.session.csrf_token, notice)


def role_in(*roles: Role) -> Callable[[Staff], Staff]:
    """A dependency admitting the signed-in people with one of `roles`, 403 for others."""

    def check(staff: Annotated[Staff, Depends(signed_in)]) -> Staff:
        if staff.role not in roles:
            raise HTTPException(403, f"this page is not for the {staff.role} role")
        return staff

    return check


dpo_only = role_in(Role.DPO)
figures_readers = role_in(Role.DPO, Role.COMPLIANCE)
admin_only = role_in(Role.ADMIN)


def form_of(
    guard: Callable[[Staff], Staff],
) -> Callable[..., Coroutine[Any, Any, tuple[Staff, FormData]]]:
    """A dependency for a state change: the role check, then the form with its CSRF token
    checked against the session's."""

    # `= Depends(guard)`, not Annotated: the annotations are strings (PEP 563) that
    # FastAPI resolves in this module's globals, where the closure's `guard` is unknown;
    # it would then read `staff` as a request field and answer 400 to every form.
    async def checked(request: Request, staff: Staff = Depends(guard)) -> tuple[Staff, FormData]:  # noqa: B008
        form = await request.form()
        token = form.get("csrf")
        if not isinstance(token, str) or not hmac.compare_digest(token, staff.csrf):
            raise HTTPException(403, "the form's security token is missing or stale; reload")
        return staff, form

    return checked


def text_field(form: FormData, name: str, limit: int = 100_000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""
