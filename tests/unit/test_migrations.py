"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import mailbot.cases.models
import mailbot.staff.models  # noqa: F401
from mailbot.database import migrate, open_engine


def test_migrated_schema_matches_models(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'schema.sqlite3'}")
    migrate(engine)
    migrate(engine)  # idempotent: a restart runs it again
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], "a model changed without a migration: alembic revision --autogenerate"


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
