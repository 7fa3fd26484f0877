"""One worker leads per database: on PostgreSQL a second `mailbot run` stands by and takes
over when the leader dies; on SQLite it refuses to start.

Two workers would both see the same queued replies and send each twice. PostgreSQL
gives an advisory lock held by one session: the lease lives on a connection of its own
(not the pool's), with TCP keepalives on both ends, so a leader whose process or
machine dies loses the lock within about half a minute and a standby, asking every few
seconds, takes it. A leader checks its lease before every sending round and stops when
the connection is gone (another may lead by then). For SQLite an exclusive lock on a
file beside the database does the job of a lease; the operating system releases
either lock when the process dies, so a SIGKILL never leaves a stale one behind.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, Final

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# Advisory locks are per cluster: the second key makes the lock per database. The first
# spells "mail" in ASCII so it is recognisable in pg_locks.
ADVISORY_KEY = 0x6D61696C
LOCK = "SELECT pg_try_advisory_lock(:key, hashtext(current_database()))"
UNLOCK = "SELECT pg_advisory_unlock(:key, hashtext(current_database()))"
STANDBY_POLL: Final = 5.0  # seconds between a standby's tries
# libpq's side: a dead server is noticed after 10 + 3 x 5 s of silence.
CLIENT_KEEPALIVES: Final = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}
# The server's side, for this session only: a leader's machine that vanished (no FIN)
# is noticed after the same time, and its lock released for the standby.
SERVER_KEEPALIVES: Final = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)


class WorkerAlreadyRunning(RuntimeError):
    """Another worker holds the lease on this database."""


class LeaseLost(RuntimeError):
    """The leader's lease connection is gone: another worker may lead now."""


class Lease:
    """The right to be this database's one working worker."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._lock_engine: Engine | None = None
        self._file: IO[str] | None = None

    @property
    def kind(self) -> str:
        if self.engine.dialect.name == "postgresql":
            return "postgresql"
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (
            None, "", ":memory:"
        ):  # fmt: skip
            return "file"
        return "none"

    def acquire(
        self,
        wait: bool = False,
        stop: threading.Event | None = None,
        progress: Callable[[], None] = lambda: None,
        poll: float = STANDBY_POLL,
    ) -> bool:
        """Take the lease. On PostgreSQL with `wait`, stand by until it is free (True) or
        `stop` is set (False); otherwise WorkerAlreadyRunning when another holds it."""
        if self.kind == "file":
            self._take_file()
            return True
        if self.kind == "none":
            log.warning("no worker lease for %s databases: run a single worker",
                        self.engine.dialect.name)  # fmt: skip
            return True
        announced = False
        while True:
            progress()
            try:
                taken = self._try_advisory()
            except OperationalError:
                if not wait:
                    raise
                log.warning("the database does not answer; standing by")
                self._drop_connection()
                taken = False
            if taken:
                if announced:
                    log.info("the lease is free: this worker leads now")
                return True
            if not wait:
                raise WorkerAlreadyRunning("another mailbot worker is running on this database")
            if not announced:
                log.info("another worker leads: standing by (trying every %.0f s)", poll)
                announced = True
            if (stop or threading.Event()).wait(poll):
                return False

    def check(self) -> None:
        """LeaseLost unless this worker still holds its lease (asked before sending)."""
        if self.kind != "postgresql":
            return
        if self._connection is None:
            raise LeaseLost("this worker holds no lease")
        try:
            self._connection.execute(text("SELECT 1")).scalar()
        except Exception as exc:
            raise LeaseLost(f"the lease connection is gone ({type(exc).__name__})") from exc

    def release(self) -> None:
        if self._connection is not None:
            # Explicitly: the lock belongs to the session, whatever becomes of the object.
            with suppress(Exception):
                self._connection.execute(text(UNLOCK), {"key": ADVISORY_KEY})
                self._connection.commit()
            with suppress(Exception):
                self._connection.close()
            self._connection = None
        if self._lock_engine is not None:
            self._lock_engine.dispose()
            self._lock_engine = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def _try_advisory(self) -> bool:
        if self._lock_engine is None:
            args: dict[str, Any] = dict(CLIENT_KEEPALIVES)
            self._lock_engine = create_engine(
                self.engine.url, poolclass=NullPool, connect_args=args
            )
        if self._connection is None:
            self._connection = self._lock_engine.connect()
            for statement in SERVER_KEEPALIVES:
                self._connection.execute(text(statement))
            self._connection.commit()
        taken = bool(self._connection.execute(text(LOCK), {"key": ADVISORY_KEY}).scalar())
        self._connection.commit()
        return taken

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with suppress(Exception):
                self._connection.close()
            self._connection = None

    def _take_file(self) -> None:
        path = Path(str(self.engine.url.database)).with_suffix(".worker-lock")
        # 0600 like the database beside it, whatever the umask.
        handle = os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise WorkerAlreadyRunning(
                f"another mailbot worker is running on this database (lock: {path}); "
                "a standby worker needs PostgreSQL"
            ) from exc
        self._file = handle


@contextmanager
def worker_lease(engine: Engine) -> Iterator[Lease]:
    """The lease for a run that must not wait (WorkerAlreadyRunning when taken)."""
    lease = Lease(engine)
    lease.acquire(wait=False)
    try:
        yield lease
    finally:
        lease.release()
