"""What every command shares: the --config and --json options, settings, output."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from sqlalchemy import Engine
from sqlmodel import Session

from mailbot.actions import Done, Refused, acting
from mailbot.config import ConfigError, Settings, load_settings
from mailbot.sealing import Sealer

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar="MAILBOT_CONFIG",
        help="TOML settings file.",
        exists=True,
        dir_okay=False,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
# Who decides: recorded in the audit trail with every approval (LEGAL.md §4).
ActorOption = Annotated[
    str,
    typer.Option("--as", envvar="MAILBOT_ACTOR", help="Your name, for the audit trail."),
]


def settings_from(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        fail(str(exc))


def database(config: Path | None) -> tuple[Settings, Engine]:
    """Settings and database; with a data key configured, checked against the database
    and used for its sealed columns (status 2 naming the fix when it is another key)."""
    from mailbot.runtime import open_database

    settings = settings_from(config)
    try:
        return settings, open_database(settings)
    except ConfigError as exc:
        fail(str(exc))


def sealed_database(config: Path | None) -> tuple[Settings, Engine, Sealer]:
    """`database` for a command that reads or writes sealed data: the data key too, once
    the key check says it is this database's (status 2 naming the fix otherwise)."""
    from mailbot.runtime import open_sealer

    settings, engine = database(config)
    try:
        return settings, engine, open_sealer(settings, engine)
    except ConfigError as exc:
        fail(str(exc))


def emit(row: Mapping[str, Any], json_output: bool, line: str) -> None:
    """One JSON object per line for tools, or the human-readable line."""
    typer.echo(json.dumps(row, ensure_ascii=False, default=str) if json_output else line)


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"mailbot: {message}", err=True)
    raise typer.Exit(code)


def act(config: Path | None, action: Callable[[Session, Settings], Done]) -> Done:
    """Run a person's action (mailbot.actions) in one transaction and print what it did;
    a refusal is printed as the reason and exits with status 1, changing nothing."""
    settings, engine = database(config)
    return _done(engine, lambda session: action(session, settings))


def act_sealed(config: Path | None, action: Callable[[Session, Settings, Sealer], Done]) -> Done:
    """`act` for an action that reads or writes sealed data: the key is checked first."""
    settings, engine, sealer = sealed_database(config)
    return _done(engine, lambda session: action(session, settings, sealer))


def _done(engine: Engine, action: Callable[[Session], Done]) -> Done:
    try:
        with acting(engine) as session:
            done = action(session)
    except Refused as refused:
        fail(str(refused), 1)
    typer.echo(done.summary)
    return done
