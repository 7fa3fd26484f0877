"""when the DPO chose to wait longer for an ID copy instead of closing the case

A case whose "not identified" closure the DPO rejected went on with its clock paused
and nothing left to count: no closure was ever drafted again. The clock now counts a
new wait from this moment.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailbot.store.models

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = mailbot.store.models.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("privacy_case") as batch:
        batch.add_column(sa.Column("id_wait_renewed_at", _UTC(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("privacy_case") as batch:
        batch.drop_column("id_wait_renewed_at")
