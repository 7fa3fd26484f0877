"""`/healthz` for a load balancer: 200 when the database answers, 503 when not."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from mailbot.web.auth import web

router = APIRouter()


@router.get("/healthz", response_class=PlainTextResponse)
def healthz(request: Request) -> PlainTextResponse:
    try:
        with web(request).engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return PlainTextResponse("database unavailable\n", status_code=503)
    return PlainTextResponse("ok\n")
