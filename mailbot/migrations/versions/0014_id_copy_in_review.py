"""a case's ID copy waiting for the DPO's eye, as a fact of its own

It was read from the status (awaiting identity, a copy received, no check), which a
case leaves without the check: the DPO rejecting the "not identified" closure while a
late card waited, or a reading that needs no check after all.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("privacy_case") as batch:
        batch.add_column(
            sa.Column("id_copy_in_review", sa.Boolean(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE privacy_case SET id_copy_in_review = TRUE"
        " WHERE status IN ('awaiting_identity', 'awaiting_approval')"
        " AND identity_verified IS NULL AND id_received_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("privacy_case") as batch:
        batch.drop_column("id_copy_in_review")
