"""Commands for whoever runs the bot: the data key, the audit chain, retention, accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session, col, select

from mailbot.commands.common import (
    ConfigOption,
    JsonFlag,
    database,
    emit,
    fail,
    sealed_database,
    settings_from,
)

audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit trail.")
suppression_app = typer.Typer(
    no_args_is_help=True, help="Addresses direct marketing must never reach (objections)."
)
accounts_app = typer.Typer(no_args_is_help=True, help="Known account addresses (no ID doubt).")


def keygen(
    file: Annotated[Path, typer.Argument(help="Where to write the new key (must not exist).")],
) -> None:
    """Create a data key file for MAILBOT_DATA_KEY_FILE (back it up: it opens the mails)."""
    from mailbot.sealing import write_key_file

    try:
        write_key_file(file)
    except FileExistsError:
        fail(f"{file} exists; a key is never overwritten (the data sealed with it would be lost)")
    except OSError as exc:
        fail(f"cannot write {file}: {exc.strerror}")
    typer.echo(f"data key written to {file} (mode 600); set MAILBOT_DATA_KEY_FILE={file}")


@audit_app.command("verify")
def audit_verify(config: ConfigOption = None, json_output: JsonFlag = False) -> None:
    """Recompute the whole hash chain; exit status 1 at the first event that breaks it."""
    from mailbot.cases.audit import verify_chain
    from mailbot.cases.models import CaseEvent

    _, engine = database(config)
    with Session(engine) as session:
        events = session.exec(select(CaseEvent).order_by(col(CaseEvent.id))).all()
        broken = verify_chain(events)
    row = {"events": len(events), "intact": broken is None, "first_broken_event": broken}
    if broken is None:
        emit(row, json_output, f"audit chain intact: {len(events)} events")
        return
    emit(row, json_output, f"audit chain BROKEN at event {broken} (of {len(events)})")
    raise typer.Exit(1)


def purge(config: ConfigOption = None) -> None:
    """Erase the personal data of cases closed longer than MAILBOT_RETENTION_DAYS, and of
    mails without a case (bounces, auto-replies, copies) received longer ago."""
    from sqlalchemy.orm.exc import StaleDataError

    from mailbot.actions import CASE_CHANGED
    from mailbot.cases.models import CASE_CHANGED_TRIES
    from mailbot.cases.retention import purge_caseless_mails, purge_closed_cases
    from mailbot.database import transaction
    from mailbot.store.models import utcnow

    settings, engine, sealer = sealed_database(config)
    days = settings.retention_days
    for tries_left in reversed(range(CASE_CHANGED_TRIES)):
        try:
            with transaction(engine) as session:
                purged = purge_closed_cases(session, sealer, utcnow(), days)
                erased = purge_caseless_mails(session, sealer, utcnow(), days)
            break
        except StaleDataError:
            # A case written meanwhile (the worker purges too): nothing was, so again.
            if not tries_left:
                fail(CASE_CHANGED, 1)
    typer.echo(f"purged {len(purged)} case(s) closed more than {days} days ago")
    for reference in purged:
        typer.echo(f"  {reference}")
    typer.echo(f"erased {erased} mail(s) without a case received more than {days} days ago")


@accounts_app.command("import")
def accounts_import(
    file: Annotated[Path, typer.Argument(help="CSV with an `email` column.", exists=True)],
    config: ConfigOption = None,
) -> None:
    """Add the account addresses of a CSV export (existing ones are kept)."""
    from mailbot.accounts import AccountImportError, read_accounts_csv
    from mailbot.store.models import KnownAccount

    try:
        found = read_accounts_csv(file)
    except AccountImportError as exc:
        fail(str(exc), 1)
    _, engine = database(config)
    with Session(engine) as session:
        known = set(session.exec(select(KnownAccount.address)).all())
        new = [address for address in found.addresses if address not in known]
        session.add_all(KnownAccount(address=address, source=file.name[:300]) for address in new)
        session.commit()
    typer.echo(f"{len(new)} new, {len(found.addresses) - len(new)} already known")
    for rejected in found.rejected:
        typer.echo(f"  line {rejected.line}: {rejected.reason}", err=True)


@suppression_app.command("list")
def suppression_list(config: ConfigOption = None, json_output: JsonFlag = False) -> None:
    """Every suppressed address, for the marketing tools to exclude."""
    from mailbot.cases.suppression import suppressed

    _, engine = database(config)
    with Session(engine) as session:
        for row in suppressed(session):
            line = f"{row.address}  {row.reason}  since {row.created_at:%Y-%m-%d %H:%M}"
            emit(
                {"address": row.address, "reason": row.reason, "since": row.created_at},
                json_output,
                line,
            )


def backup(
    file: Annotated[
        Path, typer.Argument(help="The copy to write (must not exist), or a directory for it.")
    ],
    config: ConfigOption = None,
) -> None:
    """Copy the SQLite database while the bot runs (PostgreSQL: pg_dump, see the runbook).
    The copy opens only with the data key: back the key up too, elsewhere."""
    from mailbot.backup import BackupRefused
    from mailbot.backup import backup as copy_database

    try:
        written, size = copy_database(settings_from(config), file)
    except BackupRefused as exc:
        fail(str(exc))
    typer.echo(f"database copied to {written} ({size:,} bytes, mode 600)")


def restore(
    file: Annotated[Path, typer.Argument(help="A copy made by `mailbot backup`.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the database in place (bot stopped).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Put a backup in place of the SQLite database; stop the worker and the web app
    first. The copy must open with the configured data key."""
    from mailbot.backup import BackupRefused
    from mailbot.backup import restore as put_back
    from mailbot.config import ConfigError
    from mailbot.sealing import SealingError

    settings = settings_from(config)
    try:
        sealer = settings.sealer()
        target = put_back(settings, sealer, file, replace=replace)
    except (BackupRefused, ConfigError, SealingError) as exc:
        fail(str(exc))
    typer.echo(f"{file} restored to {target}; start the worker and the web app again")


def rekey(
    new_key_file: Annotated[
        Path, typer.Option(help="The new key (`mailbot keygen FILE`); the old one stays set.")
    ],
    batch: Annotated[int, typer.Option(help="Rows per transaction.", min=1)] = 200,
    config: ConfigOption = None,
) -> None:
    """Re-seal every stored mail and sealed text under a new data key. Stop the worker and
    the web app first; cut short, run it again. Then configure the new key."""
    from mailbot.config import ConfigError
    from mailbot.database import migrate, open_engine
    from mailbot.lease import WorkerAlreadyRunning, worker_lease
    from mailbot.rekey import RekeyRefused
    from mailbot.rekey import rekey as rotate
    from mailbot.sealing import SealingError, load_sealer

    settings = settings_from(config)
    # Not `database()`: its key check refuses a half-rotated database, which this finishes.
    engine = open_engine(settings.effective_database_url)
    migrate(engine)
    try:
        old = settings.sealer()
        new = load_sealer(None, new_key_file)
        with worker_lease(engine):  # no worker sealing under the old key meanwhile
            report = rotate(
                engine, old, new, batch, progress=lambda line: typer.echo(line, err=True)
            )
    except WorkerAlreadyRunning:
        fail("a worker is running on this database: stop it (and the web app) first")
    except (RekeyRefused, SealingError, ConfigError) as exc:
        fail(str(exc))
    typer.echo(
        f"{report.mails} mails and {report.rows} rows re-sealed under {new_key_file}. Set "
        f"MAILBOT_DATA_KEY_FILE={new_key_file} and start the bot; keep the old key as long "
        "as backups made before today are kept: they open only with it."
    )
