"""`mailbot report`: the SLA figures compliance reviews (LEGAL.md §6, mailbot.metrics)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from mailbot.commands.common import ConfigOption, JsonFlag, database, fail
from mailbot.metrics import Duration, Share, sla_figures
from mailbot.reports import load_facts
from mailbot.store.models import utcnow


def report(
    config: ConfigOption = None,
    json_output: JsonFlag = False,
    first: Annotated[
        str | None, typer.Option("--from", help="First receipt date, YYYY-MM-DD.")
    ] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last receipt date, YYYY-MM-DD.")] = None,
) -> None:
    """SLA figures over the cases received in a period (all of them by default)."""
    first_day, last_day = _day(first), _day(last)
    _, engine = database(config)
    facts, copies = load_facts(engine, first_day, last_day)
    figures = sla_figures(facts, copies, utcnow(), first_day, last_day)
    if json_output:
        typer.echo(json.dumps(figures.as_json()))
        return
    period = f"{first_day or 'the first case'} to {last_day or 'today'}"
    lines = [
        f"Cases received from {period}: {figures.cases}, closed {figures.closed}",
        _share("closed by the legal deadline", figures.closed_by_legal_deadline, "goal 100 %"),
        _share("closed by the internal target", figures.closed_by_target),
        _share("extended", figures.extended),
        _share(
            "extensions notified in the first month",
            figures.extensions_notified_in_first_month,
            "must be 100 %",
        ),
        _share("ID copy requested", figures.id_requested),
        f"{'ID copies kept after their check':<42} {figures.copies.after_check}  (must be 0)",
        f"{'  originals still in the mailbox folder':<42} "
        f"{figures.copies.awaiting_removal_from_mailbox}  (the worker removes them)",
        _share(
            "refusals with complaint and court", figures.refusals_with_remedies, "must be 100 %"
        ),
        _duration("time to acknowledge", figures.time_to_acknowledge),
        f"{'  not acknowledged yet':<42} {len(figures.not_acknowledged)}"
        + (f"  ({', '.join(figures.not_acknowledged)})" if figures.not_acknowledged else ""),
        _duration("time to suppress marketing (objections)", figures.time_to_suppress),
        f"{'open and past their deadline':<42} {len(figures.open_overdue)}"
        + (f"  ({', '.join(figures.open_overdue)})" if figures.open_overdue else ""),
    ]
    lines += [f"  extension reason: {reason}" for reason in figures.extension_reasons]
    typer.echo("\n".join(lines))


def _share(name: str, share: Share, goal: str = "") -> str:
    percent = "-" if share.percent is None else f"{share.percent:.1f} %"
    return f"{name:<42} {share.count}/{share.of}  {percent}" + (f"  ({goal})" if goal else "")


def _duration(name: str, duration: Duration) -> str:
    if duration.median_hours is None or duration.max_hours is None:
        return f"{name:<42} -"
    cases = f"{duration.cases} case" + ("" if duration.cases == 1 else "s")
    return (
        f"{name:<42} median {_span(duration.median_hours)}, longest"
        f" {_span(duration.max_hours)} ({cases})"
    )


def _span(hours: float) -> str:
    """Minutes under two hours, hours under three days, days beyond."""
    if hours < 2:
        return f"{hours * 60:.0f} min"
    if hours < 72:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"not a date (YYYY-MM-DD): {text!r}")
