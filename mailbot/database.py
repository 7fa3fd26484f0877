"""Opening the database: engine, SQLite pragmas, sessions and schema migrations."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def open_engine(url: str) -> Engine:
    """Create the engine; for SQLite, WAL so readers (status, cases list) never block the worker."""
    if url.startswith("sqlite:///"):
        private_database_file(Path(url.removeprefix("sqlite:///")).expanduser())
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def private_database_file(path: Path) -> None:
    """The SQLite file, and the folders the bot makes for it, its owner's only (0600 and
    0700, whatever the umask). SQLite gives the -wal and -shm files the database file's
    mode, so creating that one 0600 before SQLite does covers all three."""
    if str(path) in ("", ":memory:"):
        return
    private_folders(path.parent)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(descriptor)
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)  # made before this rule, or copied in with a looser mode


def private_folders(folder: Path) -> None:
    """`folder` and the parents it lacks, made 0700 whatever the umask; existing ones
    are left as they are (a shared /var/lib is not ours to change)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(mode=0o700, exist_ok=True)
        made.chmod(0o700)  # mkdir's mode is masked by the umask


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; run at every start)."""
    command.upgrade(alembic_config(engine), "head")


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def reading_only(session: Session, *models: type, new_only: bool = False) -> Iterator[Connection]:
    """For a query that reads only `models`' tables: the session's unwritten rows of
    those are flushed first, the rest is left for the next flush. A flush of everything
    before each query (SQLAlchemy's autoflush) cost more than the queries of a mail.
    `new_only`: only rows not yet inserted can change the answer.

    Yields the session's connection, in its transaction: a query of columns run there
    skips the ORM's work for each query (three quarters of a small query's cost). A
    query of whole objects still goes through the session, inside this block."""
    waiting = (*session.new,) if new_only else (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(row, models) for row in waiting):
        session.flush()
    with session.no_autoflush:
        yield session.connection()
