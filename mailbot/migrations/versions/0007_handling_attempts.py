"""handling attempts: how often the worker began handling an inbound mail, counted
before each try, so that a mail that stopped the worker twice is quarantined instead
of tried again

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild would copy inbound_message, which rows refer to.
    op.add_column(
        "inbound_message",
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("inbound_message") as table:
        table.drop_column("attempts")
