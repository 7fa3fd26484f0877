"""Fixtures that put real mail servers (tests.servers.mailservers) under the integration tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.mailservers import (
    DOVECOT_BINARY,
    INSTALL_HINT,
    Dovecot,
    MailAccount,
    SmtpSink,
    start_dovecot,
    start_smtp_sink,
)
from tests.servers.postgres import INSTALL_HINT as POSTGRES_HINT
from tests.servers.postgres import Postgres, find_bin_dir, start_postgres

SUITE_DIR = Path(__file__).resolve().parent


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items, not just this directory's.
    ours = [item for item in items if item.path.is_relative_to(SUITE_DIR)]
    # On CI a missing Dovecot must fail loudly (the dovecot fixture raises), never skip.
    skip = None if DOVECOT_BINARY.exists() or running_in_ci() else f"no Dovecot: {INSTALL_HINT}"
    for item in ours:
        item.add_marker(pytest.mark.integration)
        # Only what runs against Dovecot needs it: the SMTP sink, PostgreSQL and the worker
        # on a Maildir run without it.
        if skip and "dovecot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.skip(reason=skip))


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    # Not tmp_path_factory: as root, Dovecot's mail user must pass through every parent of
    # its work directory, and pytest keeps its temporary tree at mode 0700.
    workdir = Path(tempfile.mkdtemp(prefix="mailservers-"))
    try:
        server = start_dovecot(workdir)
        yield server
        server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def mail_account(dovecot: Dovecot) -> MailAccount:
    """A fresh mailbox per test, so no test sees another's mail."""
    return dovecot.add_account()


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[SmtpSink]:
    sink = start_smtp_sink(tmp_path / "smtp-sink")
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One throwaway PostgreSQL cluster for the run; each test makes its own database."""
    # On CI a missing PostgreSQL must fail loudly (start_postgres raises), never skip.
    if find_bin_dir() is None and not running_in_ci():
        pytest.skip(f"no PostgreSQL server binaries: {POSTGRES_HINT}")
    # Not tmp_path_factory: as root the cluster runs as `postgres`, which cannot enter
    # pytest's temporary tree (mode 0700).
    workdir = Path(tempfile.mkdtemp(prefix="postgres-"))
    try:
        cluster = start_postgres(workdir)
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
