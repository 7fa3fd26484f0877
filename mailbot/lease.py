"""One worker per database: a second `mailbot run` refuses to start.

Two workers would both see the same queued replies and send each twice. PostgreSQL
gives an advisory lock held by one connection; for SQLite an exclusive lock on a file
beside the database does the same. The operating system releases either lock when the
process dies, so a SIGKILL never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

# Advisory locks are per cluster: the second key makes the lock per database. The first
# spells "mail" in ASCII so it is recognisable in pg_locks.
ADVISORY_KEY = 0x6D61696C
LOCK = "SELECT pg_try_advisory_lock(:key, hashtext(current_database()))"
UNLOCK = "SELECT pg_advisory_unlock(:key, hashtext(current_database()))"


class WorkerAlreadyRunning(RuntimeError):
    """Another worker holds the lease on this database."""


@contextmanager
def worker_lease(engine: Engine) -> Iterator[None]:
    dialect = engine.dialect.name
    if dialect == "postgresql":
        with _advisory_lock(engine):
            yield
    elif dialect == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with _file_lock(Path(str(engine.url.database)).with_suffix(".worker-lock")):
            yield
    else:
        log.warning("no worker lease for %s databases: run a single worker", dialect)
        yield


@contextmanager
def _advisory_lock(engine: Engine) -> Iterator[None]:
    connection = engine.connect()
    try:
        taken = connection.execute(text(LOCK), {"key": ADVISORY_KEY}).scalar()
        connection.commit()
        if not taken:
            raise WorkerAlreadyRunning("another mailbot worker is running on this database")
        try:
            yield
        finally:
            # Explicitly: closing only returns the connection to the pool, where the
            # session (and a session-level lock) lives on.
            connection.execute(text(UNLOCK), {"key": ADVISORY_KEY})
            connection.commit()
    finally:
        connection.close()


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # 0600 like the database beside it, whatever the umask.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise WorkerAlreadyRunning(
                f"another mailbot worker is running on this database (lock: {path})"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
