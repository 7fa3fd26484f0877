"""worker state: when the worker last completed a round, for /metrics

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailbot.store.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_round_at", mailbot.store.models.UTCDateTime(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("leader", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("worker_state")
