"""Assembling the web app: routes, static files, headers, and how errors are shown.

`create_app` takes a `WebContext` (the same settings and database as the worker);
`serve` runs it under uvicorn for `mailbot web`.
"""

from __future__ import annotations

import socket
from urllib.parse import quote

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from mailbot.web.auth import SignInNeeded
from mailbot.web.context import WebContext
from mailbot.web.pages import STATIC, render
from mailbot.web.routes import (
    cases,
    dashboard,
    drafts,
    health,
    mails,
    outbox,
    queue,
    signin,
    staff,
    suppression,
)
from mailbot.web.security import SecurityHeaders


def create_app(context: WebContext) -> FastAPI:
    # No OpenAPI pages: they would load scripts from a CDN and describe every route.
    app = FastAPI(title="privacy-mailbot", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = context
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        health,
        signin,
        queue,
        cases,
        drafts,
        mails,
        outbox,
        suppression,
        staff,
        dashboard,
    ):
        app.include_router(module.router)
    app.add_exception_handler(SignInNeeded, _to_sign_in)
    app.add_exception_handler(StarletteHTTPException, _error_page)
    app.add_exception_handler(RequestValidationError, _bad_request)
    app.add_middleware(SecurityHeaders)
    return app


async def _to_sign_in(request: Request, _exc: Exception) -> Response:
    target = request.url.path if request.method == "GET" else "/"
    return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)


async def _error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return render(
        request,
        "error.html",
        None,
        status_code=exc.status_code,
        status=exc.status_code,
        message=str(exc.detail),
    )


async def _bad_request(request: Request, exc: Exception) -> Response:
    return render(
        request,
        "error.html",
        None,
        status_code=400,
        status=400,
        message="the form or address holds a value this page cannot use",
    )


def server_config(context: WebContext, host: str, port: int) -> uvicorn.Config:
    """uvicorn's settings: X-Forwarded-For believed only from the trusted proxies."""
    return uvicorn.Config(
        create_app(context),
        host=host,
        port=port,
        log_level="warning",
        log_config=None,  # the command's own logging (mailbot.log_format): text or JSON
        proxy_headers=bool(context.settings.web_trusted_proxies),
        forwarded_allow_ips=context.settings.web_trusted_proxies or None,
        server_header=False,
    )


def serve(context: WebContext, host: str, port: int, listener: socket.socket | None = None) -> None:
    """Serve until Ctrl-C or SIGTERM; `listener`: a socket bound already (the demo
    binds the first free port itself, so no other program can take it meanwhile)."""
    server = uvicorn.Server(server_config(context, host, port))
    server.run(sockets=[listener] if listener is not None else None)
