"""`/healthz` for a load balancer: 200 when the database answers, 503 when not; and
`/metrics` for Prometheus (mailbot.exposition), behind a bearer token, off without one."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from mailbot.exposition import BotCollector
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


@router.get("/metrics")
def metrics(request: Request) -> Response:
    context = web(request)
    expected = context.settings.metrics_bearer()
    if expected is None:
        return PlainTextResponse("not found\n", status_code=404)
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        return PlainTextResponse(
            "a bearer token is needed\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BotCollector(context.engine, context.clock))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
