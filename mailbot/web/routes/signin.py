"""Signing in and out: a plain HTML form (name, password), no JavaScript needed.

The sign-in form carries a token that must match a cookie set with the form (a
double-submit token), so another site cannot sign a browser into an account of its
choosing. The session cookie is HttpOnly, SameSite=Strict and Secure.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from mailbot.database import transaction
from mailbot.staff.models import Role
from mailbot.staff.sign_in import SignInRefused, sign_in, sign_out
from mailbot.web.auth import COOKIE, SIGN_IN_COOKIE, Staff, form_of, signed_in, web
from mailbot.web.pages import home_of, render

router = APIRouter()


@router.get("/signin", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = "/") -> Response:
    return _form(request, next, None)


@router.post("/signin")
def sign_in_post(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(token, expected):
        return _form(request, next, "The form expired; please sign in again.", 403)
    context = web(request)
    address = request.client.host if request.client else "unknown"
    with Session(context.engine) as session:
        try:
            cookie, found = sign_in(
                session, name, password, address, context.clock(), context.policy
            )
            role = Role(found.member.role)
        except SignInRefused as refused:
            session.commit()  # the failure counts towards the throttle
            return _form(request, next, str(refused), 401)
        session.commit()
    target = next if _safe_next(next) and next != "/" else home_of(role)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        httponly=True,
        secure=context.secure_cookies,
        samesite="strict",
        path="/",
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/signin")
    return response


@router.post("/signout")
def sign_out_post(
    request: Request, checked: Annotated[tuple[Staff, object], Depends(form_of(signed_in))]
) -> Response:
    context = web(request)
    with transaction(context.engine) as session:
        sign_out(session, request.cookies.get(COOKIE, ""), context.clock())
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
def home(request: Request, staff: Annotated[Staff, Depends(signed_in)]) -> Response:
    return RedirectResponse(home_of(staff.role), status_code=303)


def _form(request: Request, next: str, error: str | None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "signin.html",
        None,
        status_code=status,
        error=error,
        token=token,
        next=next if _safe_next(next) else "/",
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        httponly=True,
        secure=web(request).secure_cookies,
        samesite="strict",
        path="/signin",
    )
    return response


def _safe_next(target: str) -> bool:
    """Only a path of this site: never `//elsewhere` or a full URL (open redirect), nor
    one with a backslash or a control character, which browsers drop or turn into `/`."""
    return (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
        and " " not in target
    )
