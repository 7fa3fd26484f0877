"""case lifecycle: identity facts, outcomes, suppression list, known accounts

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailbot.store.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = mailbot.store.models.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("inbound_message") as table:
        table.add_column(sa.Column("source_ref", sa.Text(), nullable=True))
        table.add_column(
            sa.Column("remove_from_source", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        table.create_index("ix_inbound_message_remove_from_source", ["remove_from_source"])
    with op.batch_alter_table("attachment") as table:
        table.add_column(sa.Column("part_index", sa.Integer(), nullable=False, server_default="-1"))
        table.add_column(
            sa.Column("check_verified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("holder_match", sa.Boolean(), nullable=True))
        table.add_column(sa.Column("check_reason", sa.String(length=300), nullable=True))
    with op.batch_alter_table("privacy_case") as table:
        table.add_column(sa.Column("doubt_reason", sa.String(length=40), nullable=True))
        table.add_column(sa.Column("id_requested_at", _UTC(), nullable=True))
        table.add_column(sa.Column("id_received_at", _UTC(), nullable=True))
        table.add_column(sa.Column("identity_verified", sa.Boolean(), nullable=True))
        table.add_column(sa.Column("identity_method", sa.String(length=60), nullable=True))
        table.add_column(sa.Column("identity_checked_by", sa.String(length=200), nullable=True))
        table.add_column(sa.Column("identity_checked_at", _UTC(), nullable=True))
        table.add_column(
            sa.Column("clock_paused", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("id_reminded_at", _UTC(), nullable=True))
        table.add_column(sa.Column("extension_reason", sa.Text(), nullable=True))
        table.add_column(sa.Column("extension_notified_on", sa.Date(), nullable=True))
        table.add_column(sa.Column("dpo_warned_at", _UTC(), nullable=True))
        table.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        table.add_column(sa.Column("closed_at", _UTC(), nullable=True))
        table.add_column(sa.Column("purged_at", _UTC(), nullable=True))
    op.create_table(
        "suppression",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _UTC(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["privacy_case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address"),
    )
    op.create_table(
        "known_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("imported_at", _UTC(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address"),
    )


def downgrade() -> None:
    op.drop_table("known_account")
    op.drop_table("suppression")
    with op.batch_alter_table("privacy_case") as table:
        for column in (
            "purged_at",
            "closed_at",
            "outcome",
            "dpo_warned_at",
            "extension_notified_on",
            "extension_reason",
            "id_reminded_at",
            "clock_paused",
            "identity_checked_at",
            "identity_checked_by",
            "identity_method",
            "identity_verified",
            "id_received_at",
            "id_requested_at",
            "doubt_reason",
        ):
            table.drop_column(column)
    with op.batch_alter_table("attachment") as table:
        table.drop_column("check_reason")
        table.drop_column("holder_match")
        table.drop_column("check_verified")
        table.drop_column("part_index")
    with op.batch_alter_table("inbound_message") as table:
        table.drop_index("ix_inbound_message_remove_from_source")
        table.drop_column("remove_from_source")
        table.drop_column("source_ref")
