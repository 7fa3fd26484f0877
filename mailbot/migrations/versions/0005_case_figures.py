"""case figures: facts recorded when they happen (closed in time, first answer, late
extension notice, refusal remedies), the indexes the dashboard sums over, and the
record of audit chain checks

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08

The backfill applies today's rules (mailbot.cases.timeliness, replies.approval) to the
rows already stored, in batches, so existing figures do not change.
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import mailbot.store.models
from mailbot.cases.models import Case
from mailbot.cases.timeliness import closed_in_time
from mailbot.replies.approval import missing_remedies
from mailbot.replies.outcomes import FIRST_ANSWERS, REFUSING_LETTERS, acknowledge_seconds

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = mailbot.store.models.UTCDateTime
_BATCH = 1000

# The columns as this revision knows them, whatever the models hold later.
_CASE = sa.table(
    "privacy_case",
    sa.column("id", sa.Integer()),
    sa.column("outcome", sa.String()),
    sa.column("received_at", _UTC()),
    sa.column("receipt_date", sa.Date()),
    sa.column("legal_due", sa.Date()),
    sa.column("target_due", sa.Date()),
    sa.column("extended_due", sa.Date()),
    sa.column("clock_paused", sa.Boolean()),
    sa.column("id_requested_at", _UTC()),
    sa.column("id_received_at", _UTC()),
    sa.column("extension_notified_on", sa.Date()),
    sa.column("closed_at", _UTC()),
    sa.column("closed_on_time", sa.Boolean()),
    sa.column("closed_by_target", sa.Boolean()),
    sa.column("acknowledged_at", _UTC()),
    sa.column("acknowledge_seconds", sa.Integer()),
    sa.column("late_extension_notice", sa.Boolean()),
    sa.column("refusals_sent", sa.Integer()),
    sa.column("refusals_with_remedies", sa.Integer()),
)
_REPLY = sa.table(
    "outbound_message",
    sa.column("id", sa.Integer()),
    sa.column("case_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("language", sa.String()),
    sa.column("status", sa.String()),
    sa.column("body", sa.Text()),
    sa.column("sent_at", _UTC()),
    sa.column("remedies_included", sa.Boolean()),
)
_RECORDED = frozenset(
    {"closed_on_time", "closed_by_target", "acknowledged_at", "acknowledge_seconds"}
    | {"late_extension_notice", "refusals_sent", "refusals_with_remedies"}
)
_EVENT = sa.table("case_event", sa.column("case_id", sa.Integer()), sa.column("kind", sa.String()))


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite has it): a batch rebuild would drop and copy privacy_case,
    # which the rows referring to it (foreign keys on) do not allow.
    for column in (
        sa.Column("closed_on_time", sa.Boolean(), nullable=True),
        sa.Column("closed_by_target", sa.Boolean(), nullable=True),
        sa.Column("acknowledged_at", _UTC(), nullable=True),
        sa.Column("acknowledge_seconds", sa.Integer(), nullable=True),
        sa.Column("late_extension_notice", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("refusals_sent", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("refusals_with_remedies", sa.Integer(), nullable=False, server_default="0"),
    ):
        op.add_column("privacy_case", column)
    op.add_column("outbound_message", sa.Column("remedies_included", sa.Boolean(), nullable=True))
    connection = op.get_bind()
    _backfill_cases(connection)
    _backfill_refusals(connection)
    op.create_index(
        "ix_privacy_case_figures",
        "privacy_case",
        [
            "receipt_date",
            "outcome",
            "closed_on_time",
            "closed_by_target",
            "extension_notified_on",
            "late_extension_notice",
            "id_requested_at",
            "acknowledge_seconds",
            "purged_at",
            "refusals_sent",
            "refusals_with_remedies",
        ],
    )
    op.create_index(
        "ix_privacy_case_open",
        "privacy_case",
        [
            "receipt_date",
            "status",
            "clock_paused",
            "id_requested_at",
            "extension_notified_on",
            "legal_due",
            "extended_due",
            "outcome",
        ],
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index(
        "ix_privacy_case_acknowledge",
        "privacy_case",
        ["acknowledge_seconds", "receipt_date", "outcome"],
    )
    op.create_index("ix_outbound_message_kind_status", "outbound_message", ["kind", "status"])
    op.create_table(
        "audit_chain_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checked_at", _UTC(), nullable=False),
        sa.Column("checked_by", sa.String(length=200), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=True),
        sa.Column("first_broken_event", sa.Integer(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("audit_chain_check")
    op.drop_index("ix_outbound_message_kind_status", "outbound_message")
    op.drop_index("ix_privacy_case_acknowledge", "privacy_case")
    op.drop_index("ix_privacy_case_open", "privacy_case")
    op.drop_index("ix_privacy_case_figures", "privacy_case")
    with op.batch_alter_table("outbound_message") as table:
        table.drop_column("remedies_included")
    with op.batch_alter_table("privacy_case") as table:
        for column in (
            "refusals_with_remedies",
            "refusals_sent",
            "late_extension_notice",
            "acknowledge_seconds",
            "acknowledged_at",
            "closed_by_target",
            "closed_on_time",
        ):
            table.drop_column(column)


def _batches(connection: sa.Connection, query: sa.Select[Any]) -> Iterator[Sequence[Any]]:
    last = 0
    while True:
        rows = connection.execute(query.where(sa.column("id") > last).limit(_BATCH)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _backfill_cases(connection: sa.Connection) -> None:
    first_answers = (
        sa.select(_REPLY.c.case_id, sa.func.min(_REPLY.c.sent_at).label("at"))
        .where(_REPLY.c.kind.in_(FIRST_ANSWERS), _REPLY.c.status == "sent")
        .where(_REPLY.c.sent_at.is_not(None))
        .group_by(_REPLY.c.case_id)
    )
    answered = {row.case_id: row.at for row in connection.execute(first_answers)}
    late = set(
        connection.execute(
            sa.select(_EVENT.c.case_id).where(_EVENT.c.kind == "extension_notice_late")
        ).scalars()
    )
    # What closed_in_time reads; the other columns are not fetched.
    query = sa.select(*(c for c in _CASE.c if c.name not in _RECORDED)).order_by(_CASE.c.id)
    for rows in _batches(connection, query):
        for row in rows:
            values: dict[str, Any] = {}
            if row.closed_at is not None:
                case = Case(**row._asdict())
                values["closed_on_time"], values["closed_by_target"] = closed_in_time(case)
            if (at := answered.get(row.id)) is not None:
                values["acknowledged_at"] = at
                values["acknowledge_seconds"] = acknowledge_seconds(row.received_at, at)
            if row.id in late:
                values["late_extension_notice"] = True
            if values:
                connection.execute(_CASE.update().where(_CASE.c.id == row.id).values(**values))


def _backfill_refusals(connection: sa.Connection) -> None:
    query = (
        sa.select(_REPLY.c.id, _REPLY.c.case_id, _REPLY.c.body, _REPLY.c.language)
        .where(_REPLY.c.kind.in_(REFUSING_LETTERS), _REPLY.c.status == "sent")
        .order_by(_REPLY.c.id)
    )
    for rows in _batches(connection, query):
        for row in rows:
            whole = not missing_remedies(row.body, row.language)
            connection.execute(
                _REPLY.update().where(_REPLY.c.id == row.id).values(remedies_included=whole)
            )
            connection.execute(
                _CASE.update()
                .where(_CASE.c.id == row.case_id)
                .values(
                    refusals_sent=_CASE.c.refusals_sent + 1,
                    refusals_with_remedies=_CASE.c.refusals_with_remedies + int(whole),
                )
            )
