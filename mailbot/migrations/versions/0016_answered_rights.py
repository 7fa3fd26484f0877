"""the rights a case's answer sent before a follow-up was read answered already

An answer that left while a follow-up asking more waited for the DPO's reading
answered the rights the case had then; the answer drafted after the reading (or after
the identity check it leads to) is for the others, not the same one again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("privacy_case") as batch:
        batch.add_column(
            sa.Column("answered_rights", sa.String(length=300), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("privacy_case") as batch:
        batch.drop_column("answered_rights")
