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


def test_revision_0005_backfills_the_facts_of_stored_cases(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from alembic import command
    from sqlalchemy import text

    from mailbot.database import alembic_config

    engine = open_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    command.upgrade(alembic_config(engine), "0004")
    received = datetime(2026, 3, 2, 9, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO privacy_case (id, reference, requester, requester_name, language,"
                ' detected_language, "primary", labels, confidence, needs_triage, status,'
                " received_at, receipt_date, legal_due, target_due, extended_due, rule_version,"
                " id_document, clock_paused, outcome, closed_at, created_at, updated_at)"
                " VALUES (1, 'R-1', 'a@example.org', '', 'en', 'en', 'access', 'access', 0.9,"
                " 0, 'closed', :at, '2026-03-02', '2026-04-02', '2026-03-30', '2026-06-02',"
                " 'test', 'none', 0, 'refused', :closed, :at, :at)"
            ),
            {"at": "2026-03-02 09:00:00", "closed": "2026-04-10 12:00:00"},
        )
        for number, (kind, body, after) in enumerate(
            [("acknowledgement", "Hello", 90), ("refusal", "No.", 86400 * 39)], start=1
        ):
            sent = (received + timedelta(seconds=after)).strftime("%Y-%m-%d %H:%M:%S")
            connection.execute(
                text(
                    "INSERT INTO outbound_message (id, case_id, kind, template, language, status,"
                    ' to_address, subject, body, message_id, "references", created_at,'
                    " attempts, next_attempt_at, sent_at) VALUES (:id, 1, :kind, :kind, 'en',"
                    " 'sent', 'a@example.org', 'Re', :body, :mid, '', :sent, 1, :sent, :sent)"
                ),
                {"id": number, "kind": kind, "body": body, "mid": f"<{number}@x>", "sent": sent},
            )
    migrate(engine)
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT closed_on_time, closed_by_target, acknowledge_seconds, refusals_sent,"
                " refusals_with_remedies FROM privacy_case"
            )
        ).one()
        remedies = connection.execute(
            text("SELECT remedies_included FROM outbound_message WHERE kind = 'refusal'")
        ).scalar()
    # A refusal is held to the unextended month: closed 10 April, due 2 April.
    assert tuple(row) == (0, 0, 90, 1, 0) and remedies == 0


def test_revision_0011_gives_stored_replies_their_domain_for_the_daily_cap(
    tmp_path: Path,
) -> None:
    from alembic import command
    from sqlalchemy import text

    from mailbot.database import alembic_config

    engine = open_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    command.upgrade(alembic_config(engine), "0010")
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # no case row needed here
        connection.execute(
            text(
                "INSERT INTO outbound_message (id, case_id, kind, template, language, status,"
                ' to_address, subject, body, message_id, "references", created_at,'
                " attempts, next_attempt_at) VALUES (1, 1, 'acknowledgement', 'ack', 'en',"
                " 'sent', 'Anna@Example.ORG', 'Re', 'Hi', '<1@x>', '', '2026-03-02 09:00:00',"
                " 1, '2026-03-02 09:00:00')"
            )
        )
        connection.commit()
    migrate(engine)
    with engine.connect() as connection:
        domain = connection.execute(text("SELECT to_domain FROM outbound_message")).scalar()
    assert domain == "example.org"
