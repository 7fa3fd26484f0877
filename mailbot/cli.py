"""The `mailbot` command: the worker, the demo, and what the DPO and other tools ask of it."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from classifiers.labels import ClassifierUnavailable
from mailbot.commands import admin, cases, drafts, mails, model, outbox, report, users
from mailbot.commands.common import ConfigOption, JsonFlag, emit, settings_from
from mailbot.config import ConfigError
from mailbot.log_format import configure_logging

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
app.add_typer(cases.app, name="cases")
app.add_typer(drafts.app, name="drafts")
app.add_typer(admin.audit_app, name="audit")
app.add_typer(admin.accounts_app, name="accounts")
app.add_typer(admin.suppression_app, name="suppression")
app.command()(admin.keygen)
app.command()(admin.purge)
app.command()(admin.backup)
app.command()(admin.restore)
app.command()(admin.rekey)
app.command()(report.report)
app.add_typer(mails.app, name="mails")
app.add_typer(model.app, name="model")
app.add_typer(outbox.app, name="outbox")
app.add_typer(users.app, name="users")
app.command()(users.web)


@app.command()
def run(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option(help="Process what is there, then exit.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """The worker: read the inbox, open cases, send acknowledgements."""
    from mailbot.lease import LeaseLost, WorkerAlreadyRunning
    from mailbot.runtime import open_worker
    from mailbot.worker import RoundSummary, SourceUnavailable

    settings = settings_from(config)
    configure_logging(verbose, settings.log_format)
    try:
        settings.require_worker_settings()
        worker = open_worker(settings)
    except (ConfigError, ValueError, ClassifierUnavailable) as exc:
        typer.echo(f"mailbot: {exc}", err=True)
        raise typer.Exit(2) from exc

    async def work() -> RoundSummary:
        # SIGTERM (systemd, kill) and Ctrl-C finish the current step, then stop.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop.set)
        return await worker.run(once=once)

    try:
        summary = asyncio.run(work())
    except (WorkerAlreadyRunning, LeaseLost) as exc:
        typer.echo(f"mailbot: {exc}", err=True)
        raise typer.Exit(1) from exc
    except SourceUnavailable as exc:
        typer.echo(f"mailbot: cannot reach the mail source or database: {exc}", err=True)
        raise typer.Exit(1) from exc
    if once:
        typer.echo(
            f"stored {summary.stored}, handled {summary.handled} "
            f"({summary.quarantined} quarantined), sent {summary.sent}"
        )


@app.command()
def demo(
    directory: Annotated[Path | None, typer.Option(help="Keep the demo's data here.")] = None,
    web: Annotated[
        bool, typer.Option("--web/--no-web", help="Serve the web app on the demo data.")
    ] = True,
    port: Annotated[int, typer.Option(help="The web app's port, or the next free one.")] = 8000,
) -> None:
    """Run the whole bot on sample mails, a local SMTP sink and SQLite; show what it did,
    then serve the web app on 127.0.0.1 with a demo login per role (Ctrl-C stops it)."""
    from mailbot.demo import demo_logins, run_demo

    logging.basicConfig(level=logging.WARNING)
    settings, engine = run_demo(directory)
    if web:
        users.serve_demo(settings, engine, demo_logins(engine), port)


@app.command()
def classify(
    files: Annotated[list[Path], typer.Argument(help="Mails as .eml files.")],
    json_output: JsonFlag = False,
) -> None:
    """Which rights each mail exercises, its language, and any ID copy (no database)."""
    from mailbot.classify import ReadFile, classify_files, read_file
    from mailbot.runtime import load_classifier_for

    try:
        classifier = load_classifier_for(settings_from(None))
    except ClassifierUnavailable as exc:
        typer.echo(f"mailbot: {exc}", err=True)
        raise typer.Exit(2) from exc
    unreadable = 0

    def readable() -> Iterator[ReadFile]:
        nonlocal unreadable
        for file in files:
            try:
                raw = file.read_bytes()
            except OSError as exc:
                typer.echo(f"mailbot: cannot read {file}: {exc.strerror}", err=True)
                unreadable += 1
                continue
            yield read_file(str(file), raw)

    # A progress bar on the terminal only: piped JSON stays clean.
    show_progress = len(files) > 1 and sys.stderr.isatty()
    with typer.progressbar(
        length=len(files), label="classifying", file=sys.stderr, hidden=not show_progress
    ) as progress:
        for result in classify_files(readable(), classifier):
            progress.update(1)
            emit(
                result,
                json_output,
                f"{result['file']}: {result['primary']} {result['labels']} "
                f"lang={result['language']} conf={result['confidence']:.2f}",
            )
    if unreadable:
        raise typer.Exit(1)


@app.command("eval")
def evaluate(
    classifier: Annotated[str, typer.Option(help="Classifier to score.")] = "e5",
    out: Annotated[Path | None, typer.Option(help="Report file (Markdown).")] = None,
) -> None:
    """Score the classifier on the inbox yardstick and the public letters (when ../shared
    is there), reading each mail as the bot does; writes docs/evaluation.md."""
    from classifiers import load_classifier
    from classifiers.evaluate import REPORT, evaluate, yardsticks
    from mailbot.yardstick import as_read

    model = load_classifier(classifier)
    sets = [(yardstick, as_read(yardstick)) for yardstick in yardsticks()]
    text, lines = evaluate(classifier, model, sets)
    report = out or REPORT
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text, "utf-8")
    typer.echo("\n".join(lines) + f"\nreport written to {report}")


@app.command()
def status(config: ConfigOption = None, json_output: JsonFlag = False) -> None:
    """How many mails, cases and replies the bot has."""
    from mailbot.commands.common import database
    from mailbot.reports import status_counts
    from mailbot.runtime import key_file_warning

    settings, engine = database(config)
    counts = status_counts(engine)
    if (warning := key_file_warning(settings)) is not None:
        typer.echo(f"WARNING: {warning}", err=True)  # on stderr: the JSON stays as it was
    if json_output:
        typer.echo(json.dumps(counts))
        return
    outbox = counts["outbox"]
    assert isinstance(outbox, dict)
    typer.echo(
        f"inbound {counts['inbound']}, cases {counts['cases']}, quarantined "
        f"{counts['quarantined']}; outbox sent {outbox['sent']}, queued {outbox['queued']}, "
        f"failed {outbox['failed']}"
    )
    sending = counts["sending"]
    if sending["state"] == "paused":
        typer.echo(
            f"SENDING PAUSED since {sending['since']} until {sending['until']}: "
            f"{sending['reason']}",
            err=True,
        )


@app.command()
def deadlines(
    received: Annotated[str, typer.Argument(help="Receipt date, YYYY-MM-DD (Brussels).")],
    json_output: JsonFlag = False,
) -> None:
    """When is a request received on that day due? (LEGAL.md §1)"""
    from mailbot.cases.deadlines import deadlines_for

    try:
        day = date.fromisoformat(received)
    except ValueError as exc:
        typer.echo(f"mailbot: not a date (YYYY-MM-DD): {received!r}", err=True)
        raise typer.Exit(2) from exc
    result = deadlines_for(day)
    fields = {
        "receipt_date": result.receipt_date.isoformat(),
        "legal_due": result.legal_due.isoformat(),
        "target_due": result.target_due.isoformat(),
        "extended_due": result.extended_due.isoformat(),
    }
    if json_output:
        typer.echo(json.dumps(fields))
    else:
        for name, value in fields.items():
            typer.echo(f"{name:<13} {value}")


@app.command()
def migrate(config: ConfigOption = None) -> None:
    """Bring the database schema up to date (the worker also does this at start)."""
    from mailbot.runtime import open_database

    open_database(settings_from(config))
    typer.echo("database is up to date")
