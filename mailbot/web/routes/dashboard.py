"""`/dashboard`: the LEGAL.md §6 figures of a period for the DPO and compliance, with
charts, the extension and refusal tables, their CSV/JSON exports, and the audit chain.

Figures come from the database's sums (mailbot.figures), so the page stays fast over a
million cases. Only references, dates, statuses, counts and reasons reach it: the
compliance role never sees a name, an address, a mail or an ID copy (DESIGN.md).

The audit chain is verified on demand (a CSRF-checked POST), not on every view:
checking it means recomputing one hash per event, about 22 seconds per million
events, which no page view should cost. The page shows the last check (when, by whom,
how many events, intact or the first broken event) and how many events were recorded
since, so nobody mistakes an old "intact" for a current one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData

from mailbot.actions import Done
from mailbot.cases.audit import check_stored_chain, events_since, last_chain_check
from mailbot.cases.deadlines import receipt_date
from mailbot.database import transaction
from mailbot.figure_tables import (
    extensions,
    period_figures,
    refusals,
    stored_copies,
)
from mailbot.figures import acknowledge_bands, dashboard, days_left_bands
from mailbot.metrics import Share
from mailbot.web.auth import Staff, figures_readers, form_of, web
from mailbot.web.charts import ACKNOWLEDGE_FILLS, DAYS_LEFT_FILLS, band_chart, week_chart
from mailbot.web.exports import file_response
from mailbot.web.pages import after_action, render

router = APIRouter()

ROWS_SHOWN: Final = 100  # per table on the page; the exports hold every row
DEFAULT_WEEKS: Final = 13
TABLES: Final = ("weeks", "extensions", "refusals", "figures")
FORMS: Final = ("csv", "json")


def period_of(request: Request, first: str | None, last: str | None) -> tuple[date, date]:
    """The chosen period, or the last thirteen ISO weeks up to today (Brussels)."""
    today = receipt_date(web(request).clock())
    try:
        last_day = date.fromisoformat(last) if last else today
        first_day = (
            date.fromisoformat(first)
            if first
            else last_day - timedelta(days=last_day.weekday(), weeks=DEFAULT_WEEKS - 1)
        )
    except ValueError as bad:
        raise HTTPException(400, "the period needs two dates written YYYY-MM-DD") from bad
    if first_day > last_day:
        raise HTTPException(400, "the period ends before it begins")
    return first_day, last_day


def _query(first_day: date, last_day: date) -> str:
    return f"from={first_day.isoformat()}&to={last_day.isoformat()}"


@router.get("/dashboard")
def dashboard_page(
    request: Request,
    staff: Annotated[Staff, Depends(figures_readers)],
    to: str | None = None,
) -> Response:
    # `from` is a Python keyword: read from the query itself.
    first_day, last_day = period_of(request, request.query_params.get("from"), to)
    context = web(request)
    now = context.clock()
    board = dashboard(context.engine, first_day, last_day, now)
    with transaction(context.engine) as session:
        shown_extensions = extensions(session, first_day, last_day, ROWS_SHOWN)
        shown_refusals = refusals(session, first_day, last_day, ROWS_SHOWN)
        copies = stored_copies(session)
        check = last_chain_check(session)
        unchecked = events_since(session, check)
    received, closed = board.total("received"), board.total("closed")
    extended = board.total("extended")
    weeks = board.weeks
    open_bands = days_left_bands(board.open_now)
    acknowledged = acknowledge_bands(board.days)
    return render(
        request,
        "dashboard.html",
        staff,
        first_day=first_day,
        last_day=last_day,
        query=_query(first_day, last_day),
        received=received,
        closed=closed,
        on_time=Share(board.total("on_time"), closed),
        by_target=Share(board.total("by_target"), closed),
        extended=Share(extended, received),
        notified_in_time=Share(extended, extended + board.total("late_notices")),
        id_requested=Share(board.total("id_requested"), received),
        remedies=Share(board.total("refusals_with_remedies"), board.total("refusals")),
        median_hours=board.median_acknowledge_hours,
        overdue=board.open_now.overdue,
        copies=copies,
        weeks=weeks,
        week_chart=week_chart(weeks),
        open_bands=open_bands,
        open_chart=band_chart(
            "open",
            "Open cases by days left",
            "Cases of the period not yet closed, by the days left before their deadline.",
            open_bands,
            DAYS_LEFT_FILLS,
        ),
        acknowledge_bands=acknowledged,
        acknowledge_chart=band_chart(
            "acknowledge",
            "Time to acknowledge",
            "Cases of the period by the time from receipt to their first answer.",
            acknowledged,
            ACKNOWLEDGE_FILLS,
        ),
        extensions=shown_extensions,
        extensions_total=extended + board.total("late_notices"),
        refusals=shown_refusals,
        check=check,
        unchecked=unchecked,
        rows_shown=ROWS_SHOWN,
    )


@router.post("/dashboard/audit")
def verify_audit_chain(
    request: Request,
    checked: Annotated[tuple[Staff, FormData], Depends(form_of(figures_readers))],
) -> Response:
    staff, form = checked
    back = form.get("back")
    back_to = back if isinstance(back, str) and back.startswith("/dashboard") else "/dashboard"
    now: datetime = web(request).clock()

    def verify(session: Session) -> Done:
        found = check_stored_chain(session, staff.name, now)
        if found.first_broken_event is None:
            return Done(f"Audit chain intact: {found.events:,} events verified.")
        return Done(f"Audit chain BROKEN at event {found.first_broken_event}.")

    return after_action(request, back_to.split("#")[0], verify)


@router.get("/dashboard/export/{name}.{form}")
def export(
    request: Request,
    staff: Annotated[Staff, Depends(figures_readers)],
    name: str,
    form: str,
    to: str | None = None,
) -> Response:
    if name not in TABLES or form not in FORMS:
        raise HTTPException(404, "no such export")
    first_day, last_day = period_of(request, request.query_params.get("from"), to)
    context = web(request)
    now = context.clock()
    rows: list[dict[str, object]]
    if name == "weeks":
        board = dashboard(context.engine, first_day, last_day, now)
        rows = [week.as_json() for week in board.weeks]
    elif name == "figures":
        figures = period_figures(context.engine, first_day, last_day, now).as_json()
        if form == "json":
            return file_response(name, form, first_day, last_day, [figures], [])
        rows = _figure_rows(figures)
    else:
        with transaction(context.engine) as session:
            found = (extensions if name == "extensions" else refusals)(session, first_day, last_day)
            rows = [row.as_json() for row in found]
    columns = list(rows[0]) if rows else _EMPTY_COLUMNS[name]
    return file_response(name, form, first_day, last_day, rows, columns)


_EMPTY_COLUMNS: Final = {
    "weeks": ["week", "monday", "received", "closed_on_time", "closed_after_extension", "late"],
    "extensions": ["reference", "receipt_date", "legal_due", "notified_on", "extended_due"],
    "refusals": ["reference", "receipt_date", "letter", "sent_on"],
    "figures": ["figure", "count", "of", "percent"],
}


def _figure_rows(figures: dict[str, Any]) -> list[dict[str, object]]:
    """The figures as one row each: shares with count/of/percent, numbers as count."""
    rows: list[dict[str, object]] = []
    for key, value in figures.items():
        if isinstance(value, dict) and "of" in value:
            rows.append({"figure": key, **value})
        elif isinstance(value, int):
            rows.append({"figure": key, "count": value, "of": None, "percent": None})
        elif isinstance(value, list):
            rows.append({"figure": key, "count": len(value), "of": None, "percent": None})
        elif isinstance(value, dict) and "median_hours" in value:
            rows.append(
                {"figure": f"{key} (median hours)", "count": value["cases"],
                 "of": None, "percent": None, "median_hours": value["median_hours"]}
            )  # fmt: skip
    return [{"figure": r["figure"], "count": r.get("count"), "of": r.get("of"),
             "percent": r.get("percent"), "median_hours": r.get("median_hours")}
            for r in rows]  # fmt: skip
