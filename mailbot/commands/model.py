"""`mailbot model`: retrain the classifier on the DPO's corrections, and choose the head.

`retrain` trains a candidate head on the training data plus every correction the DPO
made (settled triages, corrected rights) and prints the inbox yardstick's figures
before and after; nothing changes until `use` puts the candidate in use, and `restore`
goes back. The corrections leave the database only as a file readable by this user,
deleted when training ends.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import typer
from sqlmodel import Session

from mailbot.commands.common import (
    ConfigOption,
    JsonFlag,
    emit,
    fail,
    sealed_database,
    settings_from,
)

app = typer.Typer(no_args_is_help=True, help="The classifier's head: retrain, use, restore.")


@app.command()
def status(config: ConfigOption = None, json_output: JsonFlag = False) -> None:
    """Which head the classifier uses, and whether a candidate waits."""
    from mailbot.runtime import model_files

    files = model_files(settings_from(config))
    in_use = files.head_in_use()
    meta = _meta(in_use)
    row = {
        "in_use": str(in_use),
        "packaged": in_use != files.active,
        "corrections": meta.get("corrections", 0),
        "training_mails": meta.get("training_mails"),
        "yardstick_accuracy": meta.get("yardstick_accuracy"),
        "candidate": str(files.candidate) if files.candidate.is_file() else None,
        "previous": files.previous.exists(),
    }
    emit(
        row,
        json_output,
        f"in use: {'the packaged head' if row['packaged'] else in_use} "
        f"({row['corrections']} corrections, inbox yardstick {row['yardstick_accuracy']}); "
        f"candidate: {row['candidate'] or 'none'}",
    )


@app.command()
def retrain(
    config: ConfigOption = None,
    seed: int = typer.Option(13, help="Seed of the split and the head's initial weights."),
) -> None:
    """Train a candidate head on the training data and the DPO's corrections; print the
    inbox yardstick's figures for the head in use and the candidate."""
    from classifiers.train import main as train
    from mailbot.cases.corrections import training_records
    from mailbot.runtime import model_files

    settings, engine, _sealer = sealed_database(config)
    with Session(engine) as session:
        records = training_records(session)
    if not records:
        fail("no corrections yet: the DPO's triage decisions and corrected rights are the data", 1)
    files = model_files(settings)
    files.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="corrections-", suffix=".jsonl", dir=files.directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:  # mkstemp: mode 600
            out.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        arguments = ["--with-corrections", name, "--out", str(files.candidate)]
        arguments += ["--compare-with", str(files.head_in_use()), "--seed", str(seed)]
        if settings.model:
            arguments += ["--model", settings.model]
        code = train(arguments)
    finally:
        Path(name).unlink(missing_ok=True)
    if code:
        raise typer.Exit(code)
    typer.echo(f"candidate written to {files.candidate}; `mailbot model use` puts it in use")


@app.command()
def use(config: ConfigOption = None) -> None:
    """Put the candidate head in use (restart the worker and the web app after)."""
    from mailbot.runtime import model_files

    try:
        model_files(settings_from(config)).use_candidate()
    except FileNotFoundError as exc:
        fail(str(exc), 1)
    typer.echo("the candidate head is in use from the next start; `mailbot model restore` undoes")


@app.command()
def restore(config: ConfigOption = None) -> None:
    """Go back to the head in use before the last `use`."""
    from mailbot.runtime import model_files

    try:
        model_files(settings_from(config)).restore_previous()
    except FileNotFoundError as exc:
        fail(str(exc), 1)
    typer.echo("the previous head is in use from the next start")


def _meta(head: Path) -> dict[str, object]:
    try:
        meta = json.loads(head.read_text("utf-8")).get("meta", {})
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}
