"""`mailbot backup` and `mailbot restore`: a copy of the SQLite database while the bot
runs, and that copy put back.

The backup uses SQLite's online backup (the worker and the web app may go on writing;
the copy is one consistent moment), written 0600 next to nothing else: it holds the
mails sealed, as the database does, so it is useless without the data key, and the
data key is useless without it. A restore checks the copy before it replaces anything:
an SQLite file of this bot, opened by the configured data key (its key check value).
PostgreSQL is backed up with its own tools (`pg_dump`; the README's recipe).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from sqlalchemy import create_engine, inspect

from mailbot.config import Settings
from mailbot.database import open_engine, private_database_file, private_folders
from mailbot.lease import WorkerAlreadyRunning, worker_lease
from mailbot.sealing import Sealer
from mailbot.store.keycheck import check_data_key

SQLITE_PREFIX: Final = "sqlite:///"


class BackupRefused(RuntimeError):
    """The backup or restore cannot be done; the message says why and what to do."""


def database_file(settings: Settings) -> Path:
    url = settings.effective_database_url
    if not url.startswith(SQLITE_PREFIX):
        raise BackupRefused(
            "the database is not SQLite: back PostgreSQL up with pg_dump "
            "(README, 'Backups and the data key')"
        )
    return Path(url.removeprefix(SQLITE_PREFIX)).expanduser()


def backup(settings: Settings, target: Path) -> tuple[Path, int]:
    """Copy the live database to `target` (which must not exist), or into the directory
    `target` as mailbot-<UTC time>.sqlite3; the file written and its size in bytes."""
    if target.is_dir():
        target = target / f"mailbot-{datetime.now(UTC):%Y%m%d-%H%M%S}.sqlite3"
    source = database_file(settings)
    if not source.is_file():
        raise BackupRefused(f"there is no database at {source}")
    if target.exists():
        raise BackupRefused(f"{target} exists; a backup never overwrites a file")
    private_folders(target.parent)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    with sqlite3.connect(source, timeout=30) as live, sqlite3.connect(target) as copy:
        # In one step: in WAL mode the copy reads one snapshot and writers go on; copied in
        # steps, every write by the worker would restart it from the first page.
        live.backup(copy, pages=-1)
        # One self-contained file: no -wal beside it to lose on the way to the tape.
        copy.execute("PRAGMA journal_mode=DELETE")
    live.close()
    copy.close()
    return target, target.stat().st_size


def restore(settings: Settings, sealer: Sealer, copy: Path, *, replace: bool) -> Path:
    """Put the backup `copy` in place of the configured SQLite database; the worker and
    the web app must be stopped. Refused unless the copy is this bot's database under
    the configured data key, and, with a database in place, unless `replace`. The
    backup file itself is only read."""
    target = database_file(settings)
    if not copy.is_file():
        raise BackupRefused(f"there is no backup at {copy}")
    with copy.open("rb") as file:
        if file.read(16) != b"SQLite format 3\x00":
            raise BackupRefused(f"{copy} is not an SQLite database")
    if target.exists() and not replace:
        raise BackupRefused(f"{target} exists; stop the bot and restore with --replace")
    with _no_worker(target):
        _put_in_place(copy, target, sealer)
    return target


@contextmanager
def _no_worker(target: Path) -> Iterator[None]:
    """The worker's own lease on the database, held while it is replaced: a running
    worker would go on writing into the replaced file and lose what it records."""
    private_folders(target.parent)  # a new machine: the data directory is not there yet
    engine = create_engine(f"{SQLITE_PREFIX}{target}")  # never connected: the lock file only
    try:
        with worker_lease(engine):
            yield
    except WorkerAlreadyRunning as exc:
        raise BackupRefused("a worker is running on this database: stop it first") from exc
    finally:
        engine.dispose()


def _put_in_place(copy: Path, target: Path, sealer: Sealer) -> None:
    owner = target.stat() if target.exists() else target.parent.stat()
    partial = target.with_name(target.name + ".restoring")
    private_database_file(partial)
    with (
        sqlite3.connect(f"file:{copy}?mode=ro", uri=True) as source,
        sqlite3.connect(partial) as destination,
    ):
        source.backup(destination)
    source.close()
    destination.close()
    try:
        _check(partial, copy, sealer)
    except Exception:
        _remove(partial)
        raise
    for stale in _companions(target):
        stale.unlink(missing_ok=True)  # they belong to the file being replaced
    _remove_companions(partial)
    if os.geteuid() == 0:  # restored by root: the bot's user must still open it
        os.chown(partial, owner.st_uid, owner.st_gid)
    partial.replace(target)


def _check(database: Path, copy: Path, sealer: Sealer) -> None:
    engine = open_engine(f"{SQLITE_PREFIX}{database}")
    try:
        if "inbound_message" not in inspect(engine).get_table_names():
            raise BackupRefused(f"{copy} is not a privacy-mailbot database")
        check_data_key(engine, sealer)  # WrongDataKey: the configured key does not open it
    finally:
        engine.dispose()


def _companions(database: Path) -> tuple[Path, Path]:
    return database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")


def _remove_companions(database: Path) -> None:
    with sqlite3.connect(database) as connection:  # fold the WAL back into the file
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    connection.close()
    for companion in _companions(database):
        companion.unlink(missing_ok=True)


def _remove(database: Path) -> None:
    for file in (database, *_companions(database)):
        file.unlink(missing_ok=True)
