"""A throwaway PostgreSQL cluster on 127.0.0.1, for the tests that prove the bot on PostgreSQL.

`start_postgres(workdir)` runs initdb into a fresh directory and starts the server with
pg_ctl: it listens only on 127.0.0.1 on a free port, keeps its Unix socket inside the
directory, trusts every local connection and skips fsync, because the data is thrown away.
PostgreSQL refuses to run as root, so as root the cluster belongs to Debian's `postgres`
system user; otherwise it runs as the caller.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from tests.servers.mailservers import blocked_parent, free_ports

INSTALL_ROOT = Path("/usr/lib/postgresql")
HOST = "127.0.0.1"
SUPERUSER = "postgres"
SYSTEM_USER = "postgres"
START_TIMEOUT = 30
TIMEZONE = "Europe/Brussels"
INSTALL_HINT = "run `make test` or `scripts/system-packages.sh postgres`"
DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# Only what this rig needs: the socket in the work directory and 127.0.0.1, both trusted.
HBA_RULES = """\
local all all trust
host  all all 127.0.0.1/32 trust
"""


@dataclass(frozen=True)
class ClusterOwner:
    """Who runs initdb, pg_ctl and the server, and how to become them."""

    uid: int
    gid: int
    command_prefix: tuple[str, ...]


def version_key(directory: Path) -> tuple[int, ...]:
    """Orders Debian's per-version directories ("9.6", "15") numerically; others sort first."""
    parts = directory.name.split(".")
    return tuple(int(part) for part in parts) if all(p.isdigit() for p in parts) else (-1,)


def find_bin_dir(root: Path = INSTALL_ROOT) -> Path | None:
    """The bin directory of the newest installed PostgreSQL server, or None."""
    installed = [
        version.parent
        for version in root.glob("*/bin/pg_ctl")
        if (version.parent / "initdb").is_file()
    ]
    if not installed:
        return None
    return max(installed, key=lambda bin_dir: version_key(bin_dir.parent))


def cluster_owner() -> ClusterOwner:
    if os.geteuid() != 0:
        return ClusterOwner(os.getuid(), os.getgid(), ())
    try:
        account = pwd.getpwnam(SYSTEM_USER)
    except KeyError as exc:
        raise RuntimeError(
            f"running as root needs the `{SYSTEM_USER}` system user: {INSTALL_HINT}"
        ) from exc
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root needs `runuser` (util-linux) to drop privileges")
    return ClusterOwner(account.pw_uid, account.pw_gid, (runuser, "-u", SYSTEM_USER, "--"))


def quoted(value: str) -> str:
    """A postgresql.conf string literal."""
    return "'" + value.replace("'", "''") + "'"


def server_settings(port: int, socket_dir: Path) -> str:
    return "\n".join(
        [
            "",
            "# Throwaway test cluster (tests/servers/postgres.py).",
            f"listen_addresses = {quoted(HOST)}",
            f"port = {port}",
            f"unix_socket_directories = {quoted(str(socket_dir))}",
            # The data is deleted after the tests: durability only costs time here.
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            # As on a server in Brussels: a value stored with the session zone applied
            # would come back shifted, which a test comparing instants then notices.
            f"timezone = {quoted(TIMEZONE)}",
            "",
        ]
    )


def log_tail(log: Path, lines: int = 20) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:]) or "(the log is empty)"


@dataclass
class Postgres:
    host: str
    port: int
    workdir: Path
    bin_dir: Path = field(repr=False)
    owner: ClusterOwner = field(repr=False)
    running: bool = field(default=True, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def log_file(self) -> Path:
        return self.workdir / "postgres.log"

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        if not DATABASE_NAME.fullmatch(name):
            raise ValueError(f"use lower-case letters, digits and _ for a database: {name!r}")
        conninfo = f"host={self.host} port={self.port} user={SUPERUSER} dbname=postgres"
        # CREATE DATABASE cannot run inside a transaction block.
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown (rolls back open sessions) and wait for it; safe to call twice."""
        if not self.running:
            return
        done = run_as_owner(
            self.owner, self.bin_dir / "pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w",
            "stop", cwd=self.workdir,
        )  # fmt: skip
        self.running = False
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed:\n{done.stdout}\n{log_tail(self.log_file)}")

    def stop_quietly(self) -> None:
        """stop() for clean-up paths, where a second error would hide the first."""
        with contextlib.suppress(RuntimeError, OSError):
            self.stop()


def run_as_owner(
    owner: ClusterOwner, program: Path, *args: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    # cwd: the postgres user may not enter the caller's directory, and initdb complains.
    return subprocess.run(
        [*owner.command_prefix, str(program), *args], cwd=cwd, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
        start_new_session=True,
    )  # fmt: skip


def prepare_workdir(workdir: Path, owner: ClusterOwner) -> Path:
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if (blocked := blocked_parent(workdir.parent, owner.uid, owner.gid)) is not None:
        raise RuntimeError(
            f"the cluster's user (uid {owner.uid}) cannot pass through {blocked}: chmod o+x "
            f"it, or start PostgreSQL in a directory whose parents are searchable"
        )
    os.chown(workdir, owner.uid, owner.gid)
    workdir.chmod(0o700)
    return workdir


def init_cluster(bin_dir: Path, owner: ClusterOwner, workdir: Path, port: int) -> None:
    data_dir, socket_dir = workdir / "data", workdir / "socket"
    initdb = run_as_owner(
        owner, bin_dir / "initdb", "-D", str(data_dir), "-U", SUPERUSER, "--auth=trust",
        "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions", cwd=workdir,
    )  # fmt: skip
    if initdb.returncode != 0:
        raise RuntimeError(f"initdb failed ({initdb.returncode}):\n{initdb.stdout[-2000:]}")
    socket_dir.mkdir(mode=0o700)
    os.chown(socket_dir, owner.uid, owner.gid)
    (data_dir / "pg_hba.conf").write_text(HBA_RULES)
    with (data_dir / "postgresql.conf").open("a") as config:
        config.write(server_settings(port, socket_dir))


def start_postgres(workdir: Path) -> Postgres:
    """initdb into `workdir` (created if needed) and start the server; stop() ends it."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise RuntimeError(f"no PostgreSQL server under {INSTALL_ROOT}/*/bin: {INSTALL_HINT}")
    owner = cluster_owner()
    workdir = prepare_workdir(workdir, owner)
    (port,) = free_ports(1)
    init_cluster(bin_dir, owner, workdir, port)
    cluster = Postgres(HOST, port, workdir, bin_dir, owner)
    started = run_as_owner(
        owner, bin_dir / "pg_ctl", "-D", str(cluster.data_dir), "-l", str(cluster.log_file),
        "-w", "-t", str(START_TIMEOUT), "start", cwd=workdir,
    )  # fmt: skip
    if started.returncode != 0:
        # pg_ctl may give up while the server still comes up: make sure nothing is left.
        cluster.stop_quietly()
        raise RuntimeError(
            f"PostgreSQL did not start on {HOST}:{port}: {started.stdout.strip()}\n"
            f"{cluster.log_file}:\n{log_tail(cluster.log_file)}"
        )
    atexit.register(cluster.stop_quietly)  # a test run that dies must not leave a server
    return cluster
