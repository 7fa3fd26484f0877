"""mail review: when a stored mail's content was erased (dismissed or past retention)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailbot.store.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_message") as table:
        table.add_column(sa.Column("erased_at", mailbot.store.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_message") as table:
        table.drop_column("erased_at")
